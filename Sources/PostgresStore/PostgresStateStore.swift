import Foundation
import Model
import StoreCore

/// hk's recorded state in PostgreSQL (schema `hk`), through libpq (DESIGN.md §8).
///
/// One connection per instance, used by one call at a time. Every write is one transaction;
/// compare-and-swap and lease decisions take a transaction-scoped advisory lock per environment,
/// so concurrent hk processes on different machines serialise on the server. Lease times come
/// from the server's clock, so runners with skewed clocks agree on expiry.
public final class PostgresStateStore: StateStoring, @unchecked Sendable {
  private let connection: PGConnection
  private let mutex = NSLock()
  /// The location with its password replaced by `***`.
  public let displayLocation: String
  /// Whether opening created the schema (the first use of this database by hk).
  public private(set) var createdSchema = false

  /// The migration identifiers this hk knows, in order.
  public static var schemaMigrations: [String] { PGSchema.identifiers }

  /// Connects to `conninfo` (a `postgres://` URL, libpq's conninfo) and prepares schema `hk`.
  ///
  /// - Parameters:
  ///   - conninfo: The LOCATION, given to libpq as is.
  ///   - readOnly: Read without creating or migrating anything; nil is returned by
  ///     ``openForReading(conninfo:)`` when hk never wrote there.
  /// - Throws: ``StoreError`` naming the problem (unreachable server, refused credentials,
  ///   missing database, a schema migrated by a newer hk), never a password.
  public init(conninfo: String, readOnly: Bool = false) throws {
    connection = try PGConnection(conninfo: conninfo)
    displayLocation = connection.display
    try map {
      if readOnly {
        let applied = try self.appliedMigrations()
        try self.refuseUnknown(applied)
      } else {
        try self.migrate()
      }
    }
  }

  /// Opens for a command that never writes: nil when the database has no schema `hk` yet.
  public static func openForReading(conninfo: String) throws -> PostgresStateStore? {
    let store = try PostgresStateStore(conninfo: conninfo, readOnly: true)
    return try store.hasSchema() ? store : nil
  }

  private func hasSchema() throws -> Bool {
    try call { c in (try c.exec("SELECT to_regclass('hk.migrations') IS NOT NULL").first?.first ?? nil) == "t" }
  }

  private func appliedMigrations() throws -> Set<String> {
    let exists = try connection.exec("SELECT to_regclass('hk.migrations') IS NOT NULL").first?.first ?? nil
    guard exists == "t" else { return [] }
    return Set(try connection.exec("SELECT identifier FROM hk.migrations").compactMap { $0.first ?? nil })
  }

  private func refuseUnknown(_ applied: Set<String>) throws {
    let unknown = applied.subtracting(PGSchema.identifiers).sorted()
    guard unknown.isEmpty else { throw StoreError.newerSchema(path: displayLocation, unknownMigrations: unknown) }
  }

  /// Creates schema `hk` and applies the missing migrations, one server-wide advisory lock
  /// held, so that concurrent first uses do not race.
  private func migrate() throws {
    let applied = try appliedMigrations()
    try refuseUnknown(applied)
    if applied.isSuperset(of: PGSchema.identifiers) { return }
    try connection.transaction {
      try connection.exec("SELECT pg_advisory_xact_lock(72620001)")
      try connection.exec(
        "CREATE SCHEMA IF NOT EXISTS hk; CREATE TABLE IF NOT EXISTS hk.migrations "
          + "(identifier text NOT NULL PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT clock_timestamp())")
      let now = Set(try connection.exec("SELECT identifier FROM hk.migrations").compactMap { $0.first ?? nil })
      try refuseUnknown(now)
      if now.isEmpty { createdSchema = true }
      for migration in PGSchema.migrations where !now.contains(migration.identifier) {
        try connection.exec(migration.sql)
        try connection.exec("INSERT INTO hk.migrations (identifier) VALUES ($1)", [migration.identifier])
      }
    }
  }

  /// The migrations recorded in the database, in this hk's order.
  public func recordedMigrations() throws -> [String] {
    let applied = try call { _ in try self.appliedMigrations() }
    return PGSchema.identifiers.filter(applied.contains)
  }

  // MARK: - Calls

  /// Runs `body` with the connection, one call at a time, mapping errors to ``StoreError``.
  func call<T>(_ body: (PGConnection) throws -> T) throws -> T {
    mutex.lock()
    defer { mutex.unlock() }
    return try map {
      try connection.ensureConnected()
      return try body(connection)
    }
  }

  /// One transaction with the connection.
  func write<T>(_ body: (PGConnection) throws -> T) throws -> T {
    try call { c in try c.transaction { try body(c) } }
  }

  /// One read-only snapshot (REPEATABLE READ), so that several statements see one state.
  func read<T>(_ body: (PGConnection) throws -> T) throws -> T {
    try call { c in
      try c.transaction {
        try c.exec("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        return try body(c)
      }
    }
  }

  private func map<T>(_ body: () throws -> T) throws -> T {
    do {
      return try body()
    } catch let error as StoreError {
      throw error
    } catch let error as PGError {
      throw Self.storeError(error, display: displayLocation)
    }
  }

  static func storeError(_ error: PGError, display: String) -> StoreError {
    switch error.sqlState {
    case "57014", "55P03", "40001", "40P01":
      return .busy(path: display)
    case "42501":
      return .unwritable(path: display, reason: error.message)
    case "57P01", "57P02", "57P03", "08000", "08003", "08006", "08001", "08004":
      return .unreachable(path: display, detail: error.message)
    default:
      return .databaseFailure(path: display, message: error.message)
    }
  }

  // MARK: - Encoding

  static func time(_ date: Date) -> String { String(format: "%.3f", date.timeIntervalSince1970) }

  static func date(_ text: String?) -> Date? {
    guard let text, let seconds = Double(text) else { return nil }
    return Date(timeIntervalSince1970: (seconds * 1000).rounded() / 1000)
  }

  static func bool(_ value: Bool) -> String { value ? "true" : "false" }

  static func json(_ value: some Encodable) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
  }

  func decode<T: Decodable>(_ type: T.Type, _ text: String?, what: String) throws -> T {
    guard let text, let value = try? JSONDecoder().decode(type, from: Data(text.utf8)) else {
      throw StoreError.corrupted(path: displayLocation, detail: "\(what) is not valid JSON")
    }
    return value
  }

  /// A text[] literal of `names` for `= ANY($1::text[])`.
  static func textArray(_ names: [String]) -> String {
    "{"
      + names.map { "\"" + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
      .joined(separator: ",") + "}"
  }

  /// `column` of a row, or a ``StoreError/corrupted(path:detail:)`` when it is NULL.
  func text(_ row: [String?], _ index: Int, _ what: String) throws -> String {
    guard index < row.count, let value = row[index] else {
      throw StoreError.corrupted(path: displayLocation, detail: "\(what) is missing")
    }
    return value
  }

  func int(_ row: [String?], _ index: Int, _ what: String) throws -> Int64 {
    guard let value = Int64(try text(row, index, what)) else {
      throw StoreError.corrupted(path: displayLocation, detail: "\(what) is not a number")
    }
    return value
  }

  func time(_ row: [String?], _ index: Int, _ what: String) throws -> Date {
    guard let value = Self.date(try text(row, index, what)) else {
      throw StoreError.corrupted(path: displayLocation, detail: "\(what) is not a time")
    }
    return value
  }

  /// `extract(epoch …)` of a timestamptz column, as text seconds.
  static func epoch(_ column: String) -> String { "extract(epoch FROM \(column))::float8" }
}
