import Foundation
import GRDB
import Model

/// Opening: the checks before SQLite touches a file (permissions, type, header) and
/// read-only snapshots.
extension SQLiteStateStore {
  /// Opens the state database at `path` for reading only, even when the file or its folder is
  /// read-only (a mounted volume, another user's file): then SQLite could not open it in WAL
  /// mode, so a private copy (the file and its `-wal`) is opened instead, migrated if older,
  /// and removed with the store. A writable file is opened as ``init(path:)`` opens it.
  ///
  /// For commands that never write (plan, state, lock list): what they read is the database
  /// as it was when opened.
  ///
  /// - Throws: as ``init(path:)`` (a missing file is ``StoreError/unreadable(path:)``), and
  ///   ``StoreError/newerSchema(path:unknownMigrations:)`` before anything is copied.
  public static func openSnapshot(path: String) throws -> SQLiteStateStore {
    var info = stat()
    guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG, permits(path, R_OK, info) else {
      return try SQLiteStateStore(path: path)  // the same refusals and messages
    }
    var dirInfo = stat()
    let directory = parentDirectory(of: path)
    let writable =
      permits(path, W_OK, info) && stat(directory, &dirInfo) == 0 && permits(directory, W_OK | X_OK, dirInfo)
    try checkHeader(path)
    if writable {
      // Read-only in place (SQLITE_OPEN_READONLY: no migration, no WAL conversion) when its
      // schema is current; an older schema is read through a migrated private copy.
      do {
        return try SQLiteStateStore(opening: path, named: path, snapshotFolder: nil, readOnly: true)
      } catch SchemaIsOlder.older {}
    }
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hk-state-\(UUID().uuidString)").path
    do {
      try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
      for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: path + suffix) {
        try FileManager.default.copyItem(atPath: path + suffix, toPath: folder + "/hk.sqlite" + suffix)
        chmod(folder + "/hk.sqlite" + suffix, 0o600)
      }
    } catch {
      try? FileManager.default.removeItem(atPath: folder)
      throw StoreError.unreadable(path: path)
    }
    do {
      return try SQLiteStateStore(opening: folder + "/hk.sqlite", named: path, snapshotFolder: folder)
    } catch {
      try? FileManager.default.removeItem(atPath: folder)
      throw error
    }
  }

  // MARK: - Checks before opening

  /// Refuses paths SQLite would fail on or damage, without creating or writing anything.
  /// Creates the missing parent directories of a missing file.
  static func checkCanOpen(_ path: String) throws {
    guard !path.isEmpty else {
      throw StoreError.unwritable(path: path, reason: "the path is empty")
    }
    let directory = parentDirectory(of: path)
    var info = stat()
    if stat(path, &info) == 0 {
      let type = info.st_mode & S_IFMT
      if type == S_IFDIR { throw StoreError.isADirectory(path: path) }
      guard type == S_IFREG else { throw StoreError.notADatabase(path: path) }
      guard permits(path, R_OK, info) else { throw StoreError.unreadable(path: path) }
      guard permits(path, W_OK, info) else {
        throw StoreError.unwritable(path: path, reason: "the file is read-only")
      }
      try checkDirectoryWritable(directory, of: path)
      try checkHeader(path)
      return
    }
    let error = errno
    switch error {
    case ENOENT:
      break
    case EACCES:
      throw StoreError.unreadable(path: path)
    case ENOTDIR:
      throw StoreError.unwritable(path: path, reason: "a component of the path is a file, not a directory")
    default:
      throw StoreError.unwritable(path: path, reason: String(cString: strerror(error)))
    }
    // The nearest existing ancestor must be a writable directory; then create what is missing.
    var ancestor = directory
    var ancestorInfo = stat()
    while stat(ancestor, &ancestorInfo) != 0 {
      guard errno == ENOENT, ancestor != "/", ancestor != "." else {
        throw StoreError.unwritable(path: path, reason: "its directory \(ancestor) cannot be examined")
      }
      ancestor = parentDirectory(of: ancestor)
    }
    guard ancestorInfo.st_mode & S_IFMT == S_IFDIR else {
      throw StoreError.unwritable(path: path, reason: "\(ancestor) is not a directory")
    }
    if ancestor == directory {
      try checkDirectoryWritable(directory, of: path)
      try createPrivateFile(path)
      return
    }
    guard permits(ancestor, W_OK | X_OK, ancestorInfo) else {
      throw StoreError.unwritable(
        path: path, reason: "its directory \(directory) does not exist and \(ancestor) is read-only")
    }
    do {
      try FileManager.default.createDirectory(
        atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    } catch {
      throw StoreError.unwritable(
        path: path,
        reason: "its directory \(directory) does not exist and cannot be created (\(error.localizedDescription))")
    }
    try createPrivateFile(path)
  }

  /// The directory must take new files: SQLite creates `-wal` and `-shm` beside the database.
  private static func checkDirectoryWritable(_ directory: String, of path: String) throws {
    var info = stat()
    guard stat(directory, &info) == 0 else {
      throw StoreError.unreadable(path: path)
    }
    guard permits(directory, W_OK | X_OK, info) else {
      throw StoreError.unwritable(
        path: path, reason: "its directory \(directory) is read-only (SQLite creates \(path)-wal and -shm there)")
    }
  }

  /// Whether `access(2)` allows `mode`, treating permission bits as intent when running as root.
  ///
  /// Root passes every `access` check except on read-only file systems; a state file
  /// chmod-ed 0444 (or a directory 0555) is still meant to be read-only, so as root the
  /// matching permission bits must be set for someone.
  private static func permits(_ path: String, _ mode: Int32, _ info: stat) -> Bool {
    guard access(path, mode) == 0 else { return false }
    guard geteuid() == 0 else { return true }
    if mode & W_OK != 0, info.st_mode & 0o222 == 0 { return false }
    if mode & R_OK != 0, info.st_mode & 0o444 == 0 { return false }
    return true
  }

  /// A non-empty file must start with SQLite's magic string; an empty file is a new database.
  private static func checkHeader(_ path: String) throws {
    guard let handle = FileHandle(forReadingAtPath: path) else {
      throw StoreError.unreadable(path: path)
    }
    defer { try? handle.close() }
    let header: Data
    do {
      header = try handle.read(upToCount: 16) ?? Data()
    } catch {
      throw StoreError.unreadable(path: path)
    }
    if header.isEmpty { return }
    guard header == Data("SQLite format 3\0".utf8) else {
      throw StoreError.notADatabase(path: path)
    }
  }

  private static func parentDirectory(of path: String) -> String {
    let trimmed = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
    guard let slash = trimmed.lastIndex(of: "/") else { return "." }
    let parent = String(trimmed[..<slash])
    return parent.isEmpty ? "/" : parent
  }
}
