import CLibPQ
import Foundation
import Model
import StoreCore

/// One libpq connection. All connection handling is libpq's (conninfo URI and keyword forms,
/// `PG*` variables, service files, `.pgpass`, `sslmode`); hk adds only defaults a LOCATION can
/// override (connect timeout, TCP keepalives) and per-session timeouts, so that nothing hangs.
///
/// Not thread-safe: ``PostgresStateStore`` serialises every use behind its mutex.
final class PGConnection {
  private var conn: OpaquePointer?
  /// libpq's functions (loaded on the first connection of the process).
  private let pq: LibPQ
  /// The LOCATION (kept for libpq and for scrubbing secrets from its messages).
  let conninfo: String
  /// The LOCATION with its password replaced by `***`.
  let display: String
  /// `statement_timeout` and `lock_timeout` of the session, in milliseconds.
  static let statementTimeoutMilliseconds = 30_000

  /// Connects; a refused, unreachable or missing database throws a ``StoreError`` naming it.
  init(conninfo: String) throws {
    self.conninfo = conninfo
    self.display = StoreLocation.redact(conninfo)
    let pq = try LibPQ.forLocation(display)
    self.pq = pq
    let env = ProcessInfo.processInfo.environment
    // Defaults first: with expand_dbname the LOCATION's own parameters (then PG* variables for
    // what neither sets) win over them.
    var pairs: [(String, String)] = [
      ("keepalives", "1"), ("keepalives_idle", "5"), ("keepalives_interval", "2"), ("keepalives_count", "3"),
      ("application_name", "hk"),
    ]
    if env["PGCONNECT_TIMEOUT"] == nil { pairs.append(("connect_timeout", "10")) }
    pairs.append(("dbname", conninfo))
    conn = Self.connect(pairs, pq)
    guard let conn, pq.status(conn) == CONNECTION_OK else {
      let message = conn.map { pq.errorMessage($0).map { String(cString: $0) } ?? "" } ?? "out of memory"
      if let conn { pq.finish(conn) }
      self.conn = nil
      throw Self.connectionError(message, conninfo: conninfo, display: display)
    }
    let timeout = Self.statementTimeoutMilliseconds
    _ = try exec(
      "SET statement_timeout = \(timeout); SET lock_timeout = \(timeout); SET idle_in_transaction_session_timeout = \(timeout * 2);"
        + " SET client_min_messages = warning; SET TIME ZONE 'UTC'")
  }

  deinit {
    if let conn { pq.finish(conn) }
  }

  private static func connect(_ pairs: [(String, String)], _ pq: LibPQ) -> OpaquePointer? {
    let keys = pairs.map { strdup($0.0) }
    let values = pairs.map { strdup($0.1) }
    defer {
      for pointer in keys + values { free(pointer) }
    }
    var keyPointers: [UnsafePointer<CChar>?] = keys.map { UnsafePointer($0) } + [nil]
    var valuePointers: [UnsafePointer<CChar>?] = values.map { UnsafePointer($0) } + [nil]
    return keyPointers.withUnsafeMutableBufferPointer { k in
      valuePointers.withUnsafeMutableBufferPointer { v in
        pq.connectdbParams(k.baseAddress, v.baseAddress, 1)
      }
    }
  }

  /// Classifies a libpq connection failure into one line naming the problem (secrets scrubbed).
  static func connectionError(_ raw: String, conninfo: String, display: String) -> StoreError {
    let message = firstLines(StoreLocation.scrub(raw, location: conninfo))
    let lower = message.lowercased()
    if lower.contains("password authentication failed") || lower.contains("no password supplied")
      || lower.contains("authentication failed")
    {
      return .authenticationFailed(path: display, detail: message)
    }
    if lower.contains("database") && lower.contains("does not exist") {
      return .missingDatabase(path: display, detail: message + "; create it (createdb) or fix the database name in the location")
    }
    if lower.contains("invalid uri") || lower.contains("invalid connection option") || lower.contains("invalid integer value")
      || lower.contains("invalid percent-encoded") || lower.contains("unexpected spaces") || lower.contains("missing \"=\"")
    {
      return .unsupportedLocation(location: display, reason: "is not a valid PostgreSQL location: \(message)")
    }
    return .unreachable(path: display, detail: message)
  }

  /// libpq's message on one line, trimmed.
  static func firstLines(_ message: String) -> String {
    message.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
      .joined(separator: "; ")
  }

  /// Whether the connection is usable; a broken one is reset once (the server came back).
  func ensureConnected() throws {
    guard let conn else { throw StoreError.unreachable(path: display, detail: "the connection is closed") }
    if pq.status(conn) != CONNECTION_OK {
      pq.reset(conn)
      guard pq.status(conn) == CONNECTION_OK else {
        throw Self.connectionError(errorMessage(conn), conninfo: conninfo, display: display)
      }
      _ = try exec(
        "SET statement_timeout = \(Self.statementTimeoutMilliseconds); SET lock_timeout = \(Self.statementTimeoutMilliseconds);"
          + " SET TIME ZONE 'UTC'")
    }
  }

  /// Runs `sql` with text parameters `$1…`; returns the rows as text (nil for NULL).
  ///
  /// - Throws: ``PGError`` for a failed statement, ``StoreError/unreachable(path:detail:)`` when
  ///   the connection was lost.
  @discardableResult
  func exec(_ sql: String, _ parameters: [String?] = []) throws -> [[String?]] {
    guard let conn else { throw StoreError.unreachable(path: display, detail: "the connection is closed") }
    let copies = parameters.map { $0.map { strdup($0) } ?? nil }
    defer {
      for pointer in copies { free(pointer) }
    }
    var pointers: [UnsafePointer<CChar>?] = copies.map { $0.map { UnsafePointer($0) } }
    let result: OpaquePointer? =
      parameters.isEmpty
      ? pq.exec(conn, sql)
      : pointers.withUnsafeMutableBufferPointer { p in
        pq.execParams(conn, sql, Int32(parameters.count), nil, p.baseAddress, nil, nil, 0)
      }
    defer { pq.clear(result) }
    let status = result.map { pq.resultStatus($0) } ?? PGRES_FATAL_ERROR
    guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else {
      let message = Self.firstLines(StoreLocation.scrub(errorMessage(conn), location: conninfo))
      if pq.status(conn) != CONNECTION_OK {
        throw StoreError.unreachable(path: display, detail: "the connection was lost (\(message))")
      }
      let state = result.flatMap { pq.resultErrorField($0, Int32(UInt8(ascii: "C"))) }.map { String(cString: $0) } ?? ""
      throw PGError(sqlState: state, message: message)
    }
    guard let result, status == PGRES_TUPLES_OK else { return [] }
    let rows = pq.ntuples(result)
    let columns = pq.nfields(result)
    var out: [[String?]] = []
    out.reserveCapacity(Int(rows))
    for r in 0..<rows {
      var row: [String?] = []
      row.reserveCapacity(Int(columns))
      for c in 0..<columns {
        row.append(pq.getisnull(result, r, c) == 1 ? nil : pq.getvalue(result, r, c).map { String(cString: $0) })
      }
      out.append(row)
    }
    return out
  }

  /// libpq's message for the connection's last failure.
  private func errorMessage(_ conn: OpaquePointer) -> String {
    pq.errorMessage(conn).map { String(cString: $0) } ?? ""
  }

  /// Runs `body` in one transaction: committed when it returns, rolled back when it throws.
  func transaction<T>(_ body: () throws -> T) throws -> T {
    try ensureConnected()
    try exec("BEGIN")
    do {
      let value = try body()
      try exec("COMMIT")
      return value
    } catch {
      if let conn, pq.status(conn) == CONNECTION_OK { _ = try? exec("ROLLBACK") }
      throw error
    }
  }
}

/// A failed PostgreSQL statement: its SQLSTATE and libpq's message (secrets scrubbed).
struct PGError: HKError {
  var sqlState: String
  var message: String
  var errorDescription: String? { "PostgreSQL error \(sqlState): \(message)" }
  var nextStep: String { "check the database server and retry" }
}
