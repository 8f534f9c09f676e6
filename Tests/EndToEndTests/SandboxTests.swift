import Foundation
import HKTestSupport
import Testing

/// `scripts/sandbox`, the README's one command for watching an apply without a cloud, run once
/// so that it stays true: it applies and drift-checks `dev` against moto and the kops double,
/// leaves nothing behind and never touches the project's own state/.
@Suite struct SandboxTests {
  @Test func sandboxAppliesAndChecksDriftThenCleansUp() throws {
    let hk = try TestProducts.executable("hk")
    _ = try TestProducts.executable("fake-kops")
    let bin = URL(fileURLWithPath: hk).deletingLastPathComponent().path
    let state = packageRoot + "/state"
    func listing() -> [String] {
      ((try? FileManager.default.contentsOfDirectory(atPath: state)) ?? []).sorted().map { name in
        let attributes = try? FileManager.default.attributesOfItem(atPath: state + "/" + name)
        return name + " " + String(describing: attributes?[.modificationDate] ?? "")
      }
    }
    let before = listing()
    var env = ProcessInfo.processInfo.environment
    env["HK_SANDBOX_BIN"] = bin
    env["HK_STATE_DB"] = state + "/hk.sqlite"  // must be ignored
    let r = try runProcess(packageRoot + "/scripts/sandbox", [], env: env, cwd: packageRoot, timeout: 300)
    #expect(r.exitCode == 0, "\(r)")
    #expect(r.stdout.contains("dev: applied 5 steps; recorded serial 1."), "\(r)")
    #expect(r.stdout.contains("[3/5] done"), "\(r)")
    #expect(r.stdout.contains("Environment dev (dev.k8s.corp.local; recorded serial 1): in sync"), "\(r)")
    let work = r.stdout.split(separator: "\n").first { $0.hasPrefix("scripts/sandbox: working in ") }
      .map { String($0.dropFirst("scripts/sandbox: working in ".count)) }
    let dir = try #require(work)
    #expect(!FileManager.default.fileExists(atPath: dir), "left \(dir) behind")
    #expect(listing() == before)
  }
}
