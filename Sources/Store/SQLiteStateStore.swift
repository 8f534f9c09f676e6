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

  // MARK: - Error mapping

  /// Turns a GRDB error into a ``StoreError`` that says what to do; passes others through.
  static func map(_ error: any Error, path: String) -> any Error {
    if error is RowDecodingError {
      // GRDB's description quotes the whole row (recorded YAML included) and its columns: hk
      // never prints a row (docs/SECURITY.md), so the message says only what is wrong.
      return StoreError.corrupted(path: path, detail: "a row holds a value of the wrong type")
    }
    guard let error = error as? DatabaseError else { return error }
    switch error.resultCode {
    case .SQLITE_BUSY, .SQLITE_LOCKED:
      return StoreError.busy(path: path)
    case .SQLITE_NOTADB:
      return StoreError.notADatabase(path: path)
    case .SQLITE_CORRUPT:
      return StoreError.corrupted(path: path, detail: error.message ?? "SQLITE_CORRUPT")
    case .SQLITE_READONLY, .SQLITE_PERM:
      return StoreError.unwritable(path: path, reason: error.message ?? "SQLite reports it read-only")
    case .SQLITE_CANTOPEN:
      return StoreError.unwritable(path: path, reason: error.message ?? "SQLite cannot open it")
    case .SQLITE_FULL:
      return StoreError.databaseFailure(path: path, message: "the disk is full")
    default:
      return StoreError.databaseFailure(path: path, message: error.message ?? "\(error.resultCode)")
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

  // MARK: - Revisions

  public func recorded(_ environment: String) throws -> RecordedState? {
    try read { db in
      guard let current = try EnvironmentRow.fetchOne(db, key: environment) else { return nil }
      return try RevisionRow.fetchOne(db, key: ["environment": environment, "serial": current.currentSerial])
        .map(Self.state)
    }
  }

  public func recorded(_ environments: [String]) throws -> [String: RecordedState] {
    if environments.isEmpty { return [:] }
    let wanted = Set(environments)
    let join = #"SELECT r.* FROM "revision" r JOIN "environment" e ON r."environment" = e."name" AND r."serial" = e."currentSerial""#
    return try read { db in
      // A few names: look them up; many: one scan of the current revisions, filtered here.
      let rows =
        wanted.count <= 200
        ? try RevisionRow.fetchAll(
          db, sql: join + #" WHERE e."name" IN ("# + Array(repeating: "?", count: wanted.count).joined(separator: ",") + ")",
          arguments: StatementArguments(Array(wanted)))
        : try RevisionRow.fetchAll(db, sql: join)
      var out: [String: RecordedState] = [:]
      for row in rows where wanted.contains(row.environment) { out[row.environment] = Self.state(row) }
      return out
    }
  }

  public func revision(_ environment: String, serial: Int64) throws -> RecordedState? {
    try read { db in
      try RevisionRow.fetchOne(db, key: ["environment": environment, "serial": serial]).map(Self.state)
    }
  }

  public func history(_ environment: String) throws -> [RevisionSummary] {
    try read { db in
      try RevisionRow.fetchAll(
        db, sql: #"SELECT * FROM "revision" WHERE "environment" = ? ORDER BY "serial" DESC"#,
        arguments: [environment]
      ).map(Self.summary)
    }
  }

  public func environments() throws -> [EnvironmentSummary] {
    try read { db in
      let rows = try Row.fetchAll(
        db,
        sql: """
          SELECT e."name", e."currentSerial", e."lineage", r."createdAt", r."createdBy",
            (SELECT "result" FROM "run" WHERE "run"."environment" = e."name" ORDER BY "id" DESC LIMIT 1)
              AS "lastRunResult"
          FROM "environment" e
          JOIN "revision" r ON r."environment" = e."name" AND r."serial" = e."currentSerial"
          ORDER BY e."name"
          """)
      // Throwing decodes: a crafted value of the wrong type is an error, never a crash.
      return try rows.map { row in
        let result = try row.decode(String?.self, forColumn: "lastRunResult")
        return EnvironmentSummary(
          name: try row.decode(String.self, forColumn: "name"), serial: try row.decode(Int64.self, forColumn: "currentSerial"),
          lineage: try row.decode(String.self, forColumn: "lineage"), lastAppliedAt: try row.decode(Date.self, forColumn: "createdAt"),
          lastAppliedBy: try row.decode(String.self, forColumn: "createdBy"),
          lastRunResult: result.map { RunResult(rawValue: $0) ?? .interrupted })
      }
    }
  }

  @discardableResult
  public func record(
    _ state: RecordedStateDraft, expectedPrior: PriorState?, actor: StoreActor, note: String,
    planID: String?, newLineage: Bool, fence: LockInfo?
  ) throws -> RecordedState {
    try write { db in
      try Self.checkFence(db, fence)
      let current = try EnvironmentRow.fetchOne(db, key: state.environment)
      let actual = current.map { PriorState(serial: $0.currentSerial, lineage: $0.lineage) }
      guard actual == expectedPrior else {
        throw StoreError.conflict(expected: expectedPrior, actual: actual)
      }
      let now = Date()
      let serial = (actual?.serial ?? 0) + 1
      let lineage: String
      if let actual, !newLineage {
        lineage = actual.lineage
      } else {
        lineage = UUID().uuidString.lowercased()
      }
      let environment = EnvironmentRow(
        name: state.environment, lineage: lineage, currentSerial: serial, createdAt: current?.createdAt ?? now)
      try environment.save(db)
      let revision = RevisionRow(
        environment: state.environment, serial: serial, lineage: lineage, clusterYAML: state.clusterYAML,
        instanceGroupsYAML: state.instanceGroupsYAML, cloudUpdated: state.cloudUpdated,
        pendingRolls: state.pendingRolls, igwAttached: state.igwAttached, validated: state.validated,
        kopsVersion: state.kopsVersion, updatedByKops: state.updatedByKops, desiredDigest: state.desiredDigest,
        gitCommit: state.gitCommit, settings: state.settings, createdAt: now,
        createdBy: actor.userAtHost,
        command: actor.command,
        planID: planID, note: note)
      try revision.insert(db)
      return Self.state(revision)
    }
  }

  @discardableResult
  public func amend(
    _ state: RecordedStateDraft, at expected: PriorState, actor: StoreActor, note: String, fence: LockInfo?
  ) throws -> RecordedState {
    try write { db in
      try Self.checkFence(db, fence)
      let current = try EnvironmentRow.fetchOne(db, key: state.environment)
      let actual = current.map { PriorState(serial: $0.currentSerial, lineage: $0.lineage) }
      guard actual == expected else {
        throw StoreError.conflict(expected: expected, actual: actual)
      }
      guard
        var revision = try RevisionRow.fetchOne(
          db, key: ["environment": state.environment, "serial": expected.serial])
      else { throw StoreError.conflict(expected: expected, actual: nil) }
      revision.clusterYAML = state.clusterYAML
      revision.instanceGroupsYAML = state.instanceGroupsYAML
      revision.cloudUpdated = state.cloudUpdated
      revision.pendingRolls = state.pendingRolls
      revision.igwAttached = state.igwAttached
      revision.validated = state.validated
      revision.kopsVersion = state.kopsVersion
      revision.updatedByKops = state.updatedByKops
      revision.desiredDigest = state.desiredDigest
      revision.gitCommit = state.gitCommit
      revision.settings = state.settings
      revision.createdAt = Date()
      revision.createdBy = actor.userAtHost
      revision.note = note
      try revision.update(db)
      return Self.state(revision)
    }
  }

  static func state(_ row: RevisionRow) -> RecordedState {
    RecordedState(
      environment: row.environment, serial: row.serial, lineage: row.lineage, clusterYAML: row.clusterYAML,
      instanceGroupsYAML: row.instanceGroupsYAML, cloudUpdated: row.cloudUpdated, pendingRolls: row.pendingRolls,
      igwAttached: row.igwAttached, validated: row.validated, kopsVersion: row.kopsVersion, desiredDigest: row.desiredDigest,
      gitCommit: row.gitCommit, updatedByKops: row.updatedByKops, settings: row.settings)
  }

  static func summary(_ row: RevisionRow) -> RevisionSummary {
    RevisionSummary(
      environment: row.environment, serial: row.serial, lineage: row.lineage, createdAt: row.createdAt,
      createdBy: row.createdBy, command: row.command, note: row.note, planID: row.planID,
      cloudUpdated: row.cloudUpdated, pendingRolls: row.pendingRolls, igwAttached: row.igwAttached,
      kopsVersion: row.kopsVersion, desiredDigest: row.desiredDigest, gitCommit: row.gitCommit)
  }

  // MARK: - Saved plans

  public func savePlan(id: String, planJSON: String, bindings: [PlanBinding]) throws {
    let environments = try Self.json(bindings.map(\.environment))
    let bindingJSON = try Self.json(bindings)
    try write { db in
      guard try !PlanRow.exists(db, key: id) else { throw StoreError.planExists(id: id) }
      try PlanRow(
        id: id, createdAt: Date(), environmentsJSON: environments, planJSON: planJSON, bindingJSON: bindingJSON
      ).insert(db)
    }
  }

  public func savedPlan(id: String) throws -> SavedPlan? {
    guard let row = try read({ db in try PlanRow.fetchOne(db, key: id) }) else { return nil }
    let environments = try decode([String].self, row.environmentsJSON, what: "plan \(id) environments")
    let bindings = try decode([PlanBinding].self, row.bindingJSON, what: "plan \(id) bindings")
    return SavedPlan(
      id: row.id, createdAt: row.createdAt, environments: environments, planJSON: row.planJSON, bindings: bindings)
  }

  // MARK: - Runs and journal

  public func beginRun(environment: String, command: String, planID: String?, actor: StoreActor, fence: LockInfo?) throws -> Int64 {
    try write { db in
      try Self.checkFence(db, fence)
      var row = RunRow(
        id: nil, environment: environment, command: command, planID: planID, startedAt: Date(), finishedAt: nil,
        result: RunResult.running.rawValue, message: "", holder: actor.holder)
      try row.insert(db)
      guard let id = row.id else { throw StoreError.databaseFailure(path: location, message: "no run ID assigned") }
      return id
    }
  }

  public func journalStepStarted(runID: Int64, stepID: Int, kind: String, argv: [String], fence: LockInfo?) throws -> Int64 {
    let argvJSON = try Self.json(argv)
    return try write { db in
      try Self.checkFence(db, fence)
      guard try RunRow.exists(db, key: runID) else { throw StoreError.noSuchRun(id: runID) }
      var row = JournalRow(
        id: nil, runID: runID, stepID: stepID, kind: kind, argvJSON: argvJSON, startedAt: Date(), finishedAt: nil,
        exitCode: nil, outputTail: "", durationSeconds: nil, status: JournalStatus.started.rawValue)
      try row.insert(db)
      guard let id = row.id else {
        throw StoreError.databaseFailure(path: location, message: "no journal entry ID assigned")
      }
      return id
    }
  }

  public func journalStepFinished(
    entryID: Int64, status: JournalStatus, exitCode: Int32?, outputTail: String, duration: Double, fence: LockInfo?
  ) throws {
    let tail = Self.tail(outputTail)
    try write { db in
      try Self.checkFence(db, fence)
      guard var row = try JournalRow.fetchOne(db, key: entryID) else {
        throw StoreError.noSuchJournalEntry(id: entryID)
      }
      row.status = status.rawValue
      row.exitCode = exitCode
      row.outputTail = tail
      row.durationSeconds = duration.isFinite ? duration : nil
      row.finishedAt = Date()
      try row.update(db)
    }
  }

  public func finishRun(runID: Int64, result: RunResult, message: String, fence: LockInfo?) throws {
    try write { db in
      try Self.checkFence(db, fence)
      guard var row = try RunRow.fetchOne(db, key: runID) else { throw StoreError.noSuchRun(id: runID) }
      row.result = result.rawValue
      row.message = message
      row.finishedAt = result == .running ? nil : Date()
      try row.update(db)
    }
  }

  public func runs(_ environment: String, limit: Int) throws -> [RunSummary] {
    try read { db in
      try RunRow.fetchAll(
        db, sql: #"SELECT * FROM "run" WHERE "environment" = ? ORDER BY "id" DESC LIMIT ?"#,
        arguments: [environment, max(0, limit)]
      ).map { row in
        RunSummary(
          id: row.id ?? 0, environment: row.environment, command: row.command, planID: row.planID,
          startedAt: row.startedAt, finishedAt: row.finishedAt,
          result: RunResult(rawValue: row.result) ?? .interrupted, message: row.message, holder: row.holder)
      }
    }
  }

  public func journal(runID: Int64) throws -> [JournalEntry] {
    let rows = try read { db in
      try JournalRow.fetchAll(db, sql: #"SELECT * FROM "journal" WHERE "runID" = ? ORDER BY "id""#, arguments: [runID])
    }
    return try rows.map { row in
      JournalEntry(
        id: row.id ?? 0, runID: row.runID, stepID: row.stepID, kind: row.kind,
        argv: try decode([String].self, row.argvJSON, what: "journal entry \(row.id ?? 0) argv"),
        startedAt: row.startedAt, finishedAt: row.finishedAt, exitCode: row.exitCode, outputTail: row.outputTail,
        durationSeconds: row.durationSeconds, status: JournalStatus(rawValue: row.status) ?? .interrupted)
    }
  }

  // MARK: - Drift reports

  public func saveDriftReport(environment: String, status: String, reportJSON: String) throws {
    try write { db in
      var row = DriftReportRow(
        id: nil, environment: environment, createdAt: Date(), status: status, reportJSON: reportJSON)
      try row.insert(db)
    }
  }

  public func driftReports(_ environment: String, limit: Int) throws -> [DriftReportRecord] {
    try read { db in
      try DriftReportRow.fetchAll(
        db, sql: #"SELECT * FROM "driftReport" WHERE "environment" = ? ORDER BY "id" DESC LIMIT ?"#,
        arguments: [environment, max(0, limit)]
      ).map { row in
        DriftReportRecord(
          id: row.id ?? 0, environment: row.environment, createdAt: row.createdAt, status: row.status,
          reportJSON: row.reportJSON)
      }
    }
  }

  // MARK: - JSON columns

  static func json(_ value: some Encodable) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
  }

  func decode<T: Decodable>(_ type: T.Type, _ text: String, what: String) throws -> T {
    do {
      return try JSONDecoder().decode(type, from: Data(text.utf8))
    } catch {
      throw StoreError.corrupted(path: location, detail: "\(what) is not valid JSON")
    }
  }

  /// The end of `text`, at most ``maximumOutputTailBytes`` UTF-8 bytes, starting at a whole character.
  static func tail(_ text: String) -> String {
    guard text.utf8.count > maximumOutputTailBytes else { return text }
    var bytes = Array(text.utf8.suffix(maximumOutputTailBytes))
    while let first = bytes.first, first & 0xC0 == 0x80 { bytes.removeFirst() }
    return String(decoding: bytes, as: UTF8.self)
  }
}
