import Model

/// The git commit an environment's desired files come from, recorded with each revision.
public enum GitCommit {
  /// `HEAD`'s commit when the repository root is in a git work tree; with `-dirty` appended
  /// when any of the environment's files (its base included) differ from `HEAD` or are
  /// untracked. Nil outside git (or without git): nothing to record.
  public static func of(_ env: Environment, root: String) async -> String? {
    guard let head = try? await ChangedEnvironments.git(["rev-parse", "--verify", "-q", "HEAD"], root: root) else { return nil }
    let commit = head.trimmingCharacters(in: .whitespacesAndNewlines)
    guard commit.count >= 7, commit.allSatisfy(\.isHexDigit) else { return nil }
    let paths = env.sourceFiles.map(\.path)
    guard let status = try? await ChangedEnvironments.git(["status", "--porcelain", "--"] + paths, root: root) else { return nil }
    return status.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? commit : commit + "-dirty"
  }
}
