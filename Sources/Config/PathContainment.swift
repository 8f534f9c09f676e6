import Foundation
import Model

/// Keeps every file hk reads for an environment inside the repository's `environments/`
/// directory once symlinks are resolved (docs/SECURITY.md): a pull request can commit a
/// symlink, and a symlinked environment directory, `environment.yaml`, base or manifest would
/// otherwise pull in another checkout's files, a kubeconfig or `~/.aws/credentials`.
final class PathContainment: Sendable {
  /// `realpath(root)`.
  let root: String
  /// `realpath(root)/environments` opened (a directory descriptor) when it is its own realpath, else -1:
  /// ``hasNoSymlinkBelowEnvironments(_:)`` looks components up from it, not from `/`.
  let environmentsFD: Int32

  /// - Throws: A diagnostic when `environments/` itself is a symlink leading elsewhere.
  init(root: String) throws(DiagnosticError) {
    let resolvedRoot = Self.realpath(root) ?? root
    self.root = resolvedRoot
    let envs = Self.realpath(root + "/environments")
    // `realpath(root)/environments` is a path without symlinks when it is its own realpath:
    // what ``resolve(_:)`` builds on (else every path goes through `realpath`).
    environmentsIsCanonical = envs == resolvedRoot + "/environments"
    environmentsFD = environmentsIsCanonical ? open(resolvedRoot + "/environments", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW) : -1
    if let envs, envs != resolvedRoot + "/environments" {
      throw DiagnosticError(
        Diagnostic(
          .error, "environments/ is a symlink: hk reads environments only from the repository's own environments/ directory",
          at: Diagnostic.Location(file: "environments", line: 1, column: 1), rule: "path-outside"))
    }
  }

  deinit {
    if environmentsFD >= 0 { close(environmentsFD) }
  }

  /// Whether `root + "/environments"` is its own realpath (checked once per containment).
  let environmentsIsCanonical: Bool

  /// The path of `rel` (relative to the repository root) after symlinks, relative to the
  /// resolved root; `rel` itself when it does not exist (the read then reports it missing).
  ///
  /// `environments/` itself was resolved once (``init(root:)``); below it, each component of
  /// `rel` is `lstat`ed, and when every one exists and none is a symlink the path is already
  /// resolved (what `realpath` would return). Otherwise — a symlink, a missing component, `.`,
  /// `..` or an empty component — the whole path goes through `realpath` as before.
  ///
  /// - Throws: A diagnostic at `rel` when the resolved file lies outside `environments/`. It
  ///   names neither the target nor anything from it.
  func resolve(_ rel: String) throws(DiagnosticError) -> String {
    if environmentsFD >= 0, hasNoSymlinkBelowEnvironments(rel) { return rel }
    return try resolveThroughRealpath(rel)
  }

  /// A descriptor of `environments/<name>` when it is a directory and no symlink (opened
  /// from ``environmentsFD`` with `O_NOFOLLOW`), else -1. A file opened from it by a name of
  /// one component with `O_NOFOLLOW` is what ``resolve(_:)`` would accept without `realpath`
  /// (every component exists and none is a symlink). The caller closes it.
  func openEnvironmentDirectory(_ name: String) -> Int32 {
    guard environmentsFD >= 0 else { return -1 }
    return openat(environmentsFD, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
  }

  /// ``resolve(_:)`` with `realpath` on the whole path (every symlink on the way followed).
  func resolveThroughRealpath(_ rel: String) throws(DiagnosticError) -> String {
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

  /// Whether `rel` is `environments/` followed by one or more plain components (not empty, `.`
  /// or `..`) each of which exists and is not a symlink (`lstat`).
  func hasNoSymlinkBelowEnvironments(_ rel: String) -> Bool {
    let head = "environments/"
    guard rel.hasPrefix(head) else { return false }
    guard environmentsFD >= 0 else { return false }
    let rest = rel.utf8.dropFirst(head.utf8.count)
    guard !rest.isEmpty else { return false }
    var path = ""
    var info = stat()
    for component in rest.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false) {
      if component.isEmpty || component.elementsEqual(".".utf8) || component.elementsEqual("..".utf8) { return false }
      if !path.isEmpty { path += "/" }
      path += String(decoding: component, as: UTF8.self)
      // relative to environments/ (no walk from `/`); the last component not followed
      guard fstatat(environmentsFD, path, &info, AT_SYMLINK_NOFOLLOW) == 0 else { return false }
      if info.st_mode & S_IFMT == S_IFLNK { return false }
    }
    return true
  }

  static func realpath(_ path: String) -> String? {
    guard let r = Foundation.realpath(path, nil) else { return nil }
    defer { free(r) }
    return String(cString: r)
  }
}
