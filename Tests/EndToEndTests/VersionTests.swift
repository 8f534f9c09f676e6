import Foundation
import HKTestSupport
import Testing

/// `hk --version` and the shell completions README documents.
@Suite struct VersionTests {
  @Test func versionNamesTheVersionAndTheCommit() throws {
    let r = try runProcess(try TestProducts.executable("hk"), ["--version"], env: ["PATH": "/usr/bin:/bin"], cwd: "/", timeout: 30)
    #expect(r.exitCode == 0, "\(r)")
    let line = r.stdout.trimmingCharacters(in: .newlines)
    #expect(line.wholeMatch(of: /\d+\.\d+\.\d+ \(commit (unknown|[0-9a-f]{7,40}(-dirty)?)\)/) != nil, "\(line)")
  }

  @Test func completionScriptsAreGenerated() throws {
    for shell in ["bash", "zsh", "fish"] {
      let r = try runProcess(
        try TestProducts.executable("hk"), ["--generate-completion-script", shell], env: ["PATH": "/usr/bin:/bin"], cwd: "/", timeout: 30)
      #expect(r.exitCode == 0, "\(r)")
      #expect(r.stdout.contains("expect-digest"), "\(shell)")
    }
  }
}
