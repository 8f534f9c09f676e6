import Foundation
import Model

/// Keeps every file hk reads for an environment inside the repository's `environments/`
/// directory once symlinks are resolved (docs/SECURITY.md): a pull request can commit a
/// symlink, and a symlinked environment directory, `environment.yaml`, base or manifest would
/// otherwise pull in another checkout's files, a kubeconfig or `~/.aws/credentials`.
struct PathContainment: Sendable {
  /// `realpath(root)`.
  let root: String

  /// - Throws: A diagnostic when `environments/` itself is a symlink leading elsewhere.
  init(root: String) throws(DiagnosticError) {
    let resolvedRoot = Self.realpath(root) ?? root
    self.root = resolvedRoot
    if let envs = Self.realpath(root + "/environments"), envs != resolvedRoot + "/environments" {
      throw DiagnosticError(
        Diagnostic(
          .error, "environments/ is a symlink: hk reads environments only from the repository's own environments/ directory",
          at: Diagnostic.Location(file: "environments", line: 1, column: 1), rule: "path-outside"))
    }
  }

  /// The path of `rel` (relative to the repository root) after symlinks, relative to the
  /// resolved root; `rel` itself when it does not exist (the read then reports it missing).
  ///
  /// - Throws: A diagnostic at `rel` when the resolved file lies outside `environments/`. It
  ///   names neither the target nor anything from it.
  func resolve(_ rel: String) throws(DiagnosticError) -> String {
    guard let resolved = Self.realpath(root + "/" + rel) else { return rel }
    let prefix = root + "/environments/"
    guard resolved.hasPrefix(prefix) else {
      throw DiagnosticError(
        Diagnostic(
          .error,
          "is reached through a symlink that leads outside environments/; hk reads only files inside the repository's "
            + "environments/ directory: replace the symlink with the file, or point it inside environments/",
          at: Diagnostic.Location(file: rel, line: 1, column: 1), rule: "path-outside"))
    }
    return String(resolved.dropFirst(root.count + 1))
  }

  static func realpath(_ path: String) -> String? {
    guard let r = Foundation.realpath(path, nil) else { return nil }
    defer { free(r) }
    return String(cString: r)
  }
}
