import Foundation
import GRDB
import Model

/// hk's recorded state in one SQLite file (default `state/hk.sqlite`), through GRDB.
///
/// One ``GRDB/DatabaseQueue`` per instance, WAL journal mode (so `hk plan` reads while an
/// apply writes), a busy timeout of ``busyTimeout`` seconds, and every write in one
/// IMMEDIATE transaction, so that several hk processes may share the file without an
/// `SQLITE_BUSY` escaping. Open one instance per file for the whole process.
///
/// Opening never damages what it cannot use: a directory, an unreadable or read-only
/// file, a file that is not SQLite, or a database written by a newer hk is refused with a
/// ``StoreError`` before anything is created or written. Only a missing file (and its
/// missing parent directories) is created.
public final class SQLiteStateStore: StateStoring {
  /// Where `hk` keeps the state database, relative to the repository root (DESIGN.md §2).
  public static let defaultRelativePath = "state/hk.sqlite"
  /// Seconds a writer waits for another process's transaction before giving up.
  public static let busyTimeout: TimeInterval = 10
  /// The identifiers of the migrations this hk knows, in order.
  public static var schemaMigrations: [String] { Schema.migrator.migrations }
  /// The newest migration this hk knows.
  public static var latestSchema: String { Schema.migrator.migrations.last ?? "" }
  /// Output tails longer than this many UTF-8 bytes keep only their end.
  static let maximumOutputTailBytes = 64 * 1024

  private let dbQueue: DatabaseQueue
  /// The file path as given, or `:memory:`; used in messages.
  public let location: String
  /// The file path (no secret to hide).
  public var displayLocation: String { location }
  /// For a snapshot (``openSnapshot(path:)``): the private folder holding the copy, removed
  /// with the store.
  let snapshotFolder: String?

  /// Opens (creating when missing) the state database at `path`, migrating it to this hk's schema.
  ///
  /// - Parameter path: The database file. Missing parent directories are created.
  /// - Throws: ``StoreError/isADirectory(path:)``, ``StoreError/unreadable(path:)``,
  ///   ``StoreError/unwritable(path:reason:)``, ``StoreError/notADatabase(path:)``,
  ///   ``StoreError/newerSchema(path:unknownMigrations:)`` (none of which creates or writes
  ///   anything), or another ``StoreError`` when SQLite fails.
  public convenience init(path: String) throws {
    try Self.checkCanOpen(path)
    try self.init(opening: path, named: path, snapshotFolder: nil)
  }

  /// Opens `file`, naming it `path` in messages; a snapshot's folder is removed with the store.
  init(opening file: String, named path: String, snapshotFolder: String?, readOnly: Bool = false) throws {
    location = path
    self.snapshotFolder = snapshotFolder
    do {
      dbQueue = try DatabaseQueue(path: file, configuration: Self.configuration(readOnly: readOnly))
    } catch {
      throw Self.map(error, path: path)
    }
    try checkSchemaObjects()
    if readOnly {
      let applied: Set<String>
      do { applied = try dbQueue.read(Self.appliedIdentifiers) } catch { throw Self.map(error, path: path) }
      try Self.refuseUnknown(applied, path: path)
      if !applied.isSuperset(of: Schema.migrator.migrations) { throw SchemaIsOlder.older }
      return
    }
    try prepare(inMemory: false)
  }

  /// A read-only open found a schema this hk would migrate.
  enum SchemaIsOlder: Error { case older }

  /// Refuses a database holding views or triggers (hk creates none): a crafted file could make
  /// a read run arbitrary SQL or never end.
  private func checkSchemaObjects() throws {
    let foreign: [String]
    do {
      foreign = try dbQueue.read { db in
        try String.fetchAll(
          db, sql: "SELECT type || ' ' || name FROM sqlite_master WHERE type IN ('view', 'trigger') ORDER BY name")
      }
    } catch {
      throw Self.map(error, path: location)
    }
    guard foreign.isEmpty else {
      throw StoreError.untrusted(
        path: location,
        reason: "it holds schema objects hk never creates (\(foreign.prefix(3).joined(separator: ", "))); it was not written by hk. "
          + "Move it aside and point --state-db at hk's own state file")
    }
  }

  deinit {
    if let snapshotFolder { try? FileManager.default.removeItem(atPath: snapshotFolder) }
  }

  /// Opens an independent in-memory state database (for tests); pass `true`.
  ///
  /// The database disappears with the instance. There is no read-only variant: `false`
  /// gives an in-memory database too.
  public init(inMemory: Bool) throws {
    location = ":memory:"
    snapshotFolder = nil
    do {
      dbQueue = try DatabaseQueue(configuration: Self.configuration())
    } catch {
      throw Self.map(error, path: location)
    }
    try prepare(inMemory: true)
  }

  private static func configuration(readOnly: Bool = false) -> Configuration {
    var config = Configuration()
    config.readonly = readOnly
    config.busyMode = .timeout(busyTimeout)
    config.foreignKeysEnabled = true
    config.label = "hk.state"
    // WAL is switched on in `prepare`, after the schema check: GRDB's own `.wal` setup
    // writes to the file on open, and a database of a newer hk must stay untouched.
    config.journalMode = .default
    config.prepareDatabase { db in
      // Per connection. FULL, not WAL's usual NORMAL: a revision or journal entry that was
      // committed must survive a power loss too, or a re-run would plan from a stale layer.
      try db.execute(sql: "PRAGMA synchronous = FULL")
      // A crafted file's functions in views, triggers or defaults must not run.
      try db.execute(sql: "PRAGMA trusted_schema = OFF")
    }
    return config
  }

  /// Refuses a newer schema, switches to WAL, then applies the missing migrations.
  private func prepare(inMemory: Bool) throws {
    let path = location
    do {
      let applied = try dbQueue.read(Self.appliedIdentifiers)
      try Self.refuseUnknown(applied, path: path)
      if !inMemory {
        try enableWAL()
      }
      if !applied.isSuperset(of: Schema.migrator.migrations) {
        try migrate()
      }
    } catch {
      throw Self.map(error, path: path)
    }
  }

  /// Switches the file to WAL mode (persistent), unless it is in WAL mode already.
  ///
  /// Leaving rollback mode needs an exclusive lock, and SQLite answers `SQLITE_BUSY` at once,
  /// without the busy handler, when another connection of a fresh file holds a shared lock
  /// meanwhile. So this retries, with a short random pause, for up to ``busyTimeout``.
  private func enableWAL() throws {
    let deadline = Date().addingTimeInterval(Self.busyTimeout)
    while true {
      do {
        let mode = try dbQueue.writeWithoutTransaction { db -> String? in
          let current = try String.fetchOne(db, sql: "PRAGMA journal_mode")
          if current?.lowercased() == "wal" { return current }
          return try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL")
        }
        guard mode?.lowercased() == "wal" else {
          throw StoreError.unwritable(
            path: location, reason: "SQLite could not switch it to WAL mode (it reports '\(mode ?? "none")')")
        }
        return
      } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY && Date() < deadline {
        Thread.sleep(forTimeInterval: Double.random(in: 0.005...0.05))
      }
    }
  }

  /// The migration identifiers recorded in the database, read in one snapshot.
  private static func appliedIdentifiers(_ db: Database) throws -> Set<String> {
    guard try db.tableExists("grdb_migrations") else { return [] }
    return try String.fetchSet(db, sql: "SELECT identifier FROM grdb_migrations")
  }

  private static func refuseUnknown(_ applied: Set<String>, path: String) throws {
    let unknown = applied.subtracting(Schema.migrator.migrations).sorted()
    guard unknown.isEmpty else {
      throw StoreError.newerSchema(path: path, unknownMigrations: unknown)
    }
  }

  /// Applies the missing migrations, tolerating other processes migrating at the same time.
  ///
  /// Each migration runs in its own IMMEDIATE transaction, but GRDB decides which ones are
  /// missing before taking the write lock, so when several processes open a fresh file
  /// together the slower ones fail on a migration (or on the `grdb_migrations` table) that
  /// a faster one just created. Such a failure rolled back, so the migrator runs again,
  /// a few times with a short pause, until the schema is complete.
  private func migrate() throws {
    var attempt = 0
    while true {
      do {
        try Schema.migrator.migrate(dbQueue)
        // A newer hk may have migrated further while this one did.
        try Self.refuseUnknown(dbQueue.read(Self.appliedIdentifiers), path: location)
        return
      } catch let error as DatabaseError {
        attempt += 1
        let applied = try dbQueue.read(Self.appliedIdentifiers)
        try Self.refuseUnknown(applied, path: location)
        if applied.isSuperset(of: Schema.migrator.migrations) { return }
        guard attempt < 10 else { throw error }
        Thread.sleep(forTimeInterval: 0.02 * Double(attempt))
      }
    }
  }

  func read<T>(_ body: (Database) throws -> T) throws -> T {
    do {
      return try dbQueue.read(body)
    } catch {
      throw Self.map(error, path: location)
    }
  }

  /// One IMMEDIATE transaction (GRDB's `write` begins writes as IMMEDIATE), so two writers
  /// never both read and then race to upgrade: the second waits on the busy timeout.
  func write<T>(_ body: (Database) throws -> T) throws -> T {
    do {
      return try dbQueue.write(body)
    } catch {
      throw Self.map(error, path: location)
    }
  }

  /// The newest `limit` rows of `Row`'s table for `environment` (runs, drift reports), newest first.
  func newest<Row: FetchableRecord & TableRecord>(_: Row.Type, of environment: String, limit: Int) throws -> [Row] {
    try read { db in
      try Row.fetchAll(
        db, sql: #"SELECT * FROM "\#(Row.databaseTableName)" WHERE "environment" = ? ORDER BY "id" DESC LIMIT ?"#,
        arguments: [environment, max(0, limit)])
    }
  }

  // MARK: - Maintenance

  /// Folds the WAL into the main file, so the file alone holds every committed write (the S3
  /// backend uploads that one file).
  func checkpoint() throws {
    do {
      try dbQueue.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
    } catch {
      throw Self.map(error, path: location)
    }
  }

  /// The result of `PRAGMA integrity_check`: `ok` for a sound database, else SQLite's findings.
  public func integrityCheck() throws -> String {
    try read { db in
      try String.fetchAll(db, sql: "PRAGMA integrity_check").joined(separator: "\n")
    }
  }

  /// The migrations applied to this database, in this hk's order.
  public func appliedMigrations() throws -> [String] {
    try read { db in try Schema.migrator.appliedMigrations(db) }
  }

  /// Closes the connection; every later call throws.
  public func close() throws {
    do {
      try dbQueue.close()
    } catch {
      throw Self.map(error, path: location)
    }
  }

  /// Runs raw SQL in one write transaction (tests: simulate other writers, damage).
  func executeForTesting(_ sql: String) throws {
    try write { db in try db.execute(sql: sql) }
  }

  /// The first column of the first row of `sql` as text (tests: inspect pragmas).
  func scalarForTesting(_ sql: String) throws -> String? {
    try read { db in try String.fetchOne(db, sql: sql) }
  }

  /// Holds the write lock while `body` runs (tests: a long transaction of another process).
  func holdingWriteLockForTesting(_ body: () throws -> Void) throws {
    try write { _ in try body() }
  }
}
