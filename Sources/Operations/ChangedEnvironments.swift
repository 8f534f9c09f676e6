import Config
import Executor
import Foundation

/// `--changed-since GITREF`: the environments whose files, or the base they use, differ between
/// GITREF and the working tree (untracked files included), as git reports them.
public enum ChangedEnvironments {
  public static func names(root: String, since ref: String, among requested: [String]) async throws -> [String] {
    if ref.hasPrefix("-") { throw CommandError.gitFailed("'\(ref)' is not a git ref; pass a branch, tag or commit to --changed-since") }
    let diff = try await git(["diff", "--name-only", "--relative", ref, "--", "environments"], root: root)
    let untracked = try await git(["ls-files", "--others", "--exclude-standard", "--", "environments"], root: root)
    let changed = Set((diff + "\n" + untracked).split(separator: "\n").map(String.init))
    let repo = Repository(root: root)
    let candidates = requested.isEmpty ? ((try? repo.environmentNames()) ?? []) : requested
    return candidates.filter { name in
      let dir = "environments/\(name)/"
      if changed.contains(where: { $0.hasPrefix(dir) }) { return true }
      // the base this environment uses (read from its environment.yaml)
      if let env = try? repo.load(name) {
        // Symlinked files count where they lead (a shared manifest edited elsewhere under environments/).
        return env.sourceFiles.contains { changed.contains($0.path) || $0.resolvedPath.map(changed.contains) == true }
      }
      return true  // cannot tell: plan it (its load errors will show)
    }
  }

  /// Runs git through hk's one process seam (argv, both streams read concurrently).
  public static func git(_ args: [String], root: String) async throws -> String {
    let result: CommandResult
    do {
      result = try await SubprocessRunner().run(CommandInvocation("git", ["-C", root] + args, timeout: .seconds(120)))
    } catch {
      throw CommandError.gitFailed("cannot run git: \(error.localizedDescription); install git")
    }
    guard result.succeeded else {
      let msg = result.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
      throw CommandError.gitFailed(
        "\(msg.isEmpty ? result.statusDescription : msg); --changed-since needs a git repository and a valid ref")
    }
    return result.stdout
  }
}
