import Config
import Foundation

/// `--changed-since GITREF`: the environments whose files, or the base they use, differ between
/// GITREF and the working tree (untracked files included), as git reports them.
enum ChangedEnvironments {
  static func names(root: String, since ref: String, among requested: [String]) throws -> [String] {
    if ref.hasPrefix("-") { throw CommandError.gitFailed("'\(ref)' is not a git ref") }
    let diff = try git(["diff", "--name-only", "--relative", ref, "--", "environments"], root: root)
    let untracked = try git(["ls-files", "--others", "--exclude-standard", "--", "environments"], root: root)
    let changed = Set((diff + "\n" + untracked).split(separator: "\n").map(String.init))
    let repo = Repository(root: root)
    let candidates = requested.isEmpty ? ((try? repo.environmentNames()) ?? []) : requested
    return candidates.filter { name in
      let dir = "environments/\(name)/"
      if changed.contains(where: { $0.hasPrefix(dir) }) { return true }
      // the base this environment uses (read from its environment.yaml)
      if let env = try? repo.load(name) {
        return env.sourceFiles.contains { changed.contains($0.path) }
      }
      return true  // cannot tell: plan it (its load errors will show)
    }
  }

  static func git(_ args: [String], root: String) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["git", "-C", root] + args
    let out = Pipe()
    let err = Pipe()
    p.standardOutput = out
    p.standardError = err
    do { try p.run() } catch { throw CommandError.gitFailed("cannot run git: \(error.localizedDescription); install git") }
    let data = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    guard p.terminationStatus == 0 else {
      let msg = String(decoding: errData, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
      throw CommandError.gitFailed("\(msg.isEmpty ? "exit \(p.terminationStatus)" : msg); --changed-since needs a git repository and a valid ref")
    }
    return String(decoding: data, as: UTF8.self)
  }
}
