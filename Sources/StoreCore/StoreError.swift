import Foundation
import Model

/// Why the state store refused or failed, for every backend; every message says what to do next.
///
/// `path` is the location as displayed (``StoreLocation/display``): a file path, or a URL with
/// its password replaced by `***`.
public enum StoreError: HKError, Hashable {
  /// The recorded (serial, lineage) moved since the caller read it; nothing was written.
  case conflict(expected: PriorState?, actual: PriorState?)
  /// The environment is locked by someone else.
  case locked(LockInfo)
  /// The database has migrations this hk does not know: a newer hk wrote it. It was not modified.
  case newerSchema(path: String, unknownMigrations: [String])
  /// The file exists but is not an SQLite database. It was not modified.
  case notADatabase(path: String)
  /// SQLite reports the database damaged.
  case corrupted(path: String, detail: String)
  /// The state database path names a directory.
  case isADirectory(path: String)
  /// The file or a directory above it cannot be read.
  case unreadable(path: String)
  /// The file, or its directory (needed for the WAL files), cannot be written or created.
  case unwritable(path: String, reason: String)
  /// Another process kept the database locked beyond the busy timeout.
  case busy(path: String)
  /// No lock with this ID is held on the environment (and none other either).
  case noSuchLock(environment: String, lockID: String)
  /// The environment is locked, but under another lock ID than the one given.
  case lockMismatch(environment: String, lockID: String, holder: LockInfo)
  /// A saved plan with this ID exists already.
  case planExists(id: String)
  /// No run with this ID exists.
  case noSuchRun(id: Int64)
  /// No journal entry with this ID exists.
  case noSuchJournalEntry(id: Int64)
  /// Any other database failure (disk full, I/O error, a failed statement, …).
  case databaseFailure(path: String, message: String)
  /// The holder's lease was taken over or broken: it must not write, and stops.
  case leaseLost(environment: String, lockID: String, detail: String)
  /// LOCATION names no backend this hk has (an unknown scheme, a malformed S3 URL, spaces).
  case unsupportedLocation(location: String, reason: String)
  /// The database server cannot be reached, or the connection was lost.
  case unreachable(path: String, detail: String)
  /// The server refused the credentials.
  case authenticationFailed(path: String, detail: String)
  /// The database (or the directory of a state file) does not exist; nothing was created.
  case missingDatabase(path: String, detail: String)
  /// The state file cannot be trusted (tracked by git, a symlink, a foreign schema object).
  case untrusted(path: String, reason: String)
  /// The S3 backend: a call failed, or the state object changed under this writer; `message`
  /// says what happened and what to do.
  case s3(location: String, message: String)

  /// What to do next (each message ends with it).
  public var nextStep: String { NextStep.of(errorDescription ?? "", otherwise: "check the state location (--state-db)") }

  public var errorDescription: String? {
    switch self {
    case .conflict(let expected, let actual):
      return "the recorded state changed while hk was working: expected \(Self.describe(expected)), "
        + "found \(Self.describe(actual)); another hk run or import wrote it. "
        + "Run 'hk plan' again and apply the new plan."
    case .locked(let lock):
      let gone = lock.isStale ? " (that process no longer exists on this host)" : ""
      return "environment \(lock.environment) is locked by \(lock.holderDescription)\(gone); wait for it or, "
        + "if that process is gone, run 'hk lock unlock \(lock.environment) --force \(lock.lockID)'"
    case .newerSchema(let path, let unknown):
      return "state database \(path) was written by a newer hk (schema \(unknown.joined(separator: ", "))); "
        + "upgrade hk to use it (this hk does not know those migrations). "
        + "The database was not modified."
    case .notADatabase(let path):
      return "\(path) is not an SQLite database (it does not start with 'SQLite format 3'); "
        + "point --state-db (or HK_STATE_DB) at hk's state file, or move this file aside so hk can create a new one. "
        + "The file was not modified."
    case .corrupted(let path, let detail):
      return "state database \(path) is damaged (\(detail)); restore it from a backup, "
        + "or move it aside and adopt each cluster again with 'hk import ENV'"
    case .isADirectory(let path):
      return "state database path \(path) is a directory; pass the path of a file, "
        + "e.g. --state-db \(Self.join(path, "hk.sqlite"))"
    case .unreadable(let path):
      return "cannot read state database \(path): permission denied; fix its permissions "
        + "(and those of the directories above it) or run hk as the user that owns it"
    case .unwritable(let path, let reason):
      return "cannot write state database \(path): \(reason); hk records every apply there, "
        + "so fix the permissions or pass a writable path with --state-db"
    case .busy(let path):
      return "state database \(path) stayed locked by another process for more than "
        + "\(Int(Self.busyTimeout)) seconds; retry when the other hk command has finished"
    case .noSuchLock(let environment, let lockID):
      return "environment \(environment) holds no lock with ID \(lockID) (it is not locked; the lock may have "
        + "been released or force-unlocked already); run 'hk lock list' to see the current locks"
    case .lockMismatch(let environment, let lockID, let holder):
      return "lock ID \(lockID) does not hold environment \(environment): it is locked by "
        + "\(holder.holderDescription); to break that lock run "
        + "'hk lock unlock \(environment) --force \(holder.lockID)'"
    case .planExists(let id):
      return "a saved plan with ID \(id) exists already; make a new plan with 'hk plan --out FILE'"
    case .noSuchRun(let id):
      return "the state database has no run with ID \(id); it may have been written by another hk "
        + "(check --state-db / HK_STATE_DB)"
    case .noSuchJournalEntry(let id):
      return "the state database has no journal entry with ID \(id); it may have been written by another hk "
        + "(check --state-db / HK_STATE_DB)"
    case .databaseFailure(let path, let message):
      if path.contains("://") {
        return "state database \(path): \(message); check the database server and retry"
      }
      return "state database \(path): \(message); check the disk (free space, permissions) and retry; if it "
        + "persists, run 'sqlite3 \(path) \"PRAGMA integrity_check\"'"
    case .leaseLost(let environment, let lockID, let detail):
      return "lost the lease on \(environment) (lock ID \(lockID)): \(detail); stopped before the next step so that "
        + "nothing is written twice; run 'hk apply \(environment)' again to finish what is left"
    case .unsupportedLocation(let location, let reason):
      return "state location '\(location)' \(reason)"
    case .unreachable(let path, let detail):
      return "cannot reach state database \(path): \(detail); check that the server runs and is reachable, then retry"
    case .authenticationFailed(let path, let detail):
      return "state database \(path) refused the credentials: \(detail); check the user and password "
        + "(in the URL, PGPASSWORD or ~/.pgpass)"
    case .missingDatabase(let path, let detail):
      return "state database \(path) does not exist: \(detail)"
    case .untrusted(let path, let reason):
      return "refusing state database \(path): \(reason)"
    case .s3(let location, let message):
      return "state location \(location): \(message)"
    }
  }

  /// Seconds a writer waits for another process's transaction before giving up (both backends).
  public static let busyTimeout: TimeInterval = 10

  private static func describe(_ prior: PriorState?) -> String {
    guard let prior else { return "no recorded state" }
    return "serial \(prior.serial) (lineage \(prior.lineage))"
  }

  private static func join(_ directory: String, _ file: String) -> String {
    directory.hasSuffix("/") ? directory + file : directory + "/" + file
  }
}

extension StoreError {
  /// Whether this is ``locked(_:)``: another holder has the lease.
  public var isLocked: Bool {
    if case .locked = self { return true }
    return false
  }
}

extension StoreError {
  /// Compare-and-swap, inside the write: throws ``conflict(expected:actual:)`` unless the
  /// environment's recorded (serial, lineage) is `expected` (nil: nothing recorded).
  public static func checkPrior(_ actual: PriorState?, expected: PriorState?) throws {
    guard actual == expected else { throw conflict(expected: expected, actual: actual) }
  }
}
