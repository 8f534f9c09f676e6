import Foundation
import Model

/// What hk checks before it trusts a state file (issue #17 item 6) or a state directory (issue
/// #16 item 6).
extension SQLiteStateStore {
  /// Refuses a state file reached through a symbolic link or tracked by git: a pull request could
  /// commit a database that already records its change ("No changes"), or point hk at a foreign
  /// SQLite file that opening would convert and extend.
  public static func checkTrusted(_ path: String) throws {
    var info = stat()
    guard lstat(path, &info) == 0 else { return }  // missing: created later, private
    if info.st_mode & S_IFMT == S_IFLNK {
      throw StoreError.untrusted(
        path: path,
        reason: "it is a symbolic link; hk opens only a regular file it owns. Pass the real path with --state-db")
    }
    if isTrackedByGit(path) {
      throw StoreError.untrusted(
        path: path,
        reason: "it is tracked by git, so a commit (a pull request) could rewrite the recorded state. "
          + "Remove it from git ('git rm --cached \(path)'), keep it ignored, and keep the state outside the checkout "
          + "(--state-db or HK_STATE_DB, e.g. a postgres:// URL)")
    }
  }

  /// Whether `git ls-files` lists `path` in the repository around it (false without git).
  static func isTrackedByGit(_ path: String) -> Bool {
    let url = URL(fileURLWithPath: path)
    let directory = url.deletingLastPathComponent().path
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
      return false
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["git", "-C", directory, "ls-files", "--error-unmatch", "--", url.lastPathComponent]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    process.standardInput = FileHandle.nullDevice
    var environment = ProcessInfo.processInfo.environment
    environment["GIT_OPTIONAL_LOCKS"] = "0"
    process.environment = environment
    do { try process.run() } catch { return false }
    process.waitUntilExit()
    return process.terminationReason == .exit && process.terminationStatus == 0
  }

  /// Refuses a state file whose directory is missing, unless only that directory is (hk creates
  /// its own `state/` directory, 0700): a mistyped `--state-db /nonexistent/dir/hk.sqlite` must
  /// not plan against an empty state.
  public static func checkDirectory(of path: String) throws {
    let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
    var info = stat()
    if stat(directory, &info) == 0 { return }
    let parent = URL(fileURLWithPath: directory).deletingLastPathComponent().path
    var parentInfo = stat()
    if errno == ENOENT, stat(parent, &parentInfo) == 0, parentInfo.st_mode & S_IFMT == S_IFDIR { return }
    throw StoreError.missingDatabase(
      path: path,
      detail: "its directory \(directory) does not exist; create it (mkdir -p \(directory)) or pass another "
        + "--state-db / HK_STATE_DB")
  }

  /// Creates the missing state file empty, readable and writable by its owner only (it holds
  /// the recorded manifests).
  static func createPrivateFile(_ path: String) throws {
    let fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
    if fd >= 0 {
      try? FileHandle(fileDescriptor: fd, closeOnDealloc: true).close()
      return
    }
    if errno == EEXIST { return }
    throw StoreError.unwritable(path: path, reason: String(cString: strerror(errno)))
  }
}
