import Foundation
import Model

/// The one factory that opens the backend a LOCATION names (DESIGN.md §8); commands get an
/// ``StoreCore/StateStoring`` and never learn which backend it is.
public enum StateStores {
  /// An opened store and what to tell the user once about its location.
  public struct Opened: Sendable {
    /// The store; nil for a read that found nothing recorded yet (nothing was created).
    public var store: (any StateStoring)?
    /// A one-line notice for stderr (the first use of a location), or nil.
    public var notice: String?

    public init(store: (any StateStoring)?, notice: String?) {
      self.store = store
      self.notice = notice
    }
  }

  /// Opens `location` for a command that records (apply, import, drift, lock unlock, migrate):
  /// the database is created (an SQLite file, or schema `hk` in an existing PostgreSQL database)
  /// when missing, and said so.
  ///
  /// - Throws: ``StoreCore/StoreError``: an unknown scheme, a missing directory or database, an
  ///   unreachable server, refused credentials, a newer schema. Nothing is created then.
  public static func open(_ location: String) throws -> Opened {
    switch try StoreLocation.parse(location) {
    case .sqlite(let path):
      try SQLiteStateStore.checkTrusted(path)
      let existed = FileManager.default.fileExists(atPath: path)
      try SQLiteStateStore.checkDirectory(of: path)
      let store = try SQLiteStateStore(path: path)
      return Opened(store: store, notice: existed ? nil : "hk: created the state database \(path) (first use of this location)")
    case .postgres(let conninfo):
      let store = try PostgresStateStore(conninfo: conninfo)
      return Opened(
        store: store,
        notice: store.createdSchema ? "hk: created schema hk in \(store.displayLocation) (first use of this database)" : nil)
    case .s3(let s3):
      return try openS3(s3, creating: true)
    }
  }

  /// Opens `location` for a command that only reads (plan, state, lock list): nothing is created
  /// or migrated; a location where hk never wrote gives no store and a notice.
  ///
  /// With `snapshot`, an SQLite file this process cannot write is read through a private copy.
  public static func openForReading(_ location: String, snapshot: Bool = true) throws -> Opened {
    switch try StoreLocation.parse(location) {
    case .sqlite(let path):
      try SQLiteStateStore.checkTrusted(path)
      try SQLiteStateStore.checkDirectory(of: path)
      var info = stat()
      // A missing or empty file is an empty state (SQLite would write its schema into it on open).
      guard stat(path, &info) == 0, !(info.st_mode & S_IFMT == S_IFREG && info.st_size == 0) else {
        return Opened(store: nil, notice: "hk: no state recorded yet at \(path) (first use of this location)")
      }
      let store = snapshot ? try SQLiteStateStore.openSnapshot(path: path) : try SQLiteStateStore(path: path)
      return Opened(store: store, notice: nil)
    case .postgres(let conninfo):
      guard let reader = try PostgresStateStore.openForReading(conninfo: conninfo) else {
        return Opened(
          store: nil,
          notice: "hk: no state recorded yet in \(StoreLocation.redact(conninfo)) (first use of this database: no schema hk)")
      }
      return Opened(store: snapshot ? reader : try PostgresStateStore(conninfo: conninfo), notice: nil)
    case .s3(let s3):
      return try openS3(s3, creating: false)
    }
  }
}
