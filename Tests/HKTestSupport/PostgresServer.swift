import Foundation

/// A real PostgreSQL server for the tests, started by `scripts/pg-test-server` (`initdb` +
/// `pg_ctl` in a temporary directory, as `nobody` when the tests run as root, loopback only).
///
/// ``shared()`` is the server of the whole test process: `HK_TEST_POSTGRES_URL` when
/// `scripts/test` exported it, else one started on first use and stopped when the process exits.
/// Tests that stop and restart the server (a database outage) start their own instance.
public final class PostgresServer: @unchecked Sendable {
  /// The data and socket directory.
  public let directory: String
  public let port: Int
  /// `postgresql://hk@127.0.0.1:PORT/postgres` (role `hk`, trusted on loopback).
  public let url: String
  private let lock = NSLock()
  private var running = true

  /// The password of role `hk_pw`, which must give it (tests of refused credentials).
  public static let passwordRolePassword = "hk-test-password"

  /// Starts a server in a new directory on a free port.
  ///
  /// - Throws: ``TestSupportError`` naming what is missing (Debian's `postgresql`).
  public init() throws {
    directory = "/tmp/hk-pg-" + UUID().uuidString.prefix(8).lowercased()
    let output = try Self.script(["start", directory])
    url = output
    guard let port = URLComponents(string: output)?.port else { throw TestSupportError("pg-test-server printed '\(output)'") }
    self.port = port
  }

  /// Stops the server (an outage); ``start()`` brings it back on the same port with its data.
  public func stop() {
    lock.lock()
    defer { lock.unlock() }
    guard running else { return }
    _ = try? Self.script(["stop", directory])
    running = false
  }

  /// Starts the stopped server again.
  public func start() throws {
    lock.lock()
    defer { lock.unlock() }
    guard !running else { return }
    _ = try Self.script(["start", directory, String(port)])
    running = true
  }

  deinit {
    stop()
    try? FileManager.default.removeItem(atPath: directory)
  }

  private static func script(_ arguments: [String]) throws -> String {
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent("scripts/pg-test-server").path
    let result = try runProcess(script, arguments, timeout: 120)
    guard result.exitCode == 0 else {
      throw TestSupportError(
        "cannot start PostgreSQL for the tests (install Debian's postgresql, or set HK_TEST_POSTGRES_URL): \(result.stderr)")
    }
    return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
  }

  // MARK: - The process's shared server

  nonisolated(unsafe) private static var sharedServer: PostgresServer?
  nonisolated(unsafe) private static var sharedURL: String?
  private static let sharedLock = NSLock()

  /// The admin URL of the process's server: `HK_TEST_POSTGRES_URL`, else a server started now.
  public static func shared() throws -> String {
    sharedLock.lock()
    defer { sharedLock.unlock() }
    if let sharedURL { return sharedURL }
    if let url = ProcessInfo.processInfo.environment["HK_TEST_POSTGRES_URL"], !url.isEmpty {
      sharedURL = url
      return url
    }
    let server = try PostgresServer()
    sharedServer = server
    sharedURL = server.url
    atexit { PostgresServer.stopShared() }
    return server.url
  }

  private static func stopShared() {
    sharedServer?.stop()
    if let directory = sharedServer?.directory { try? FileManager.default.removeItem(atPath: directory) }
  }

  /// A new, empty database on `server` (default: the shared one); returns its URL.
  public static func freshDatabase(on server: String? = nil) throws -> String {
    let admin = try server ?? shared()
    let name = "hk_t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
    try psql(admin, "CREATE DATABASE \(name)")
    return try database(name, of: admin)
  }

  /// `admin` with its database replaced by `name`.
  public static func database(_ name: String, of admin: String) throws -> String {
    guard var components = URLComponents(string: admin) else { throw TestSupportError("not a URL: \(admin)") }
    components.path = "/" + name
    guard let url = components.string else { throw TestSupportError("cannot build a URL from \(admin)") }
    return url
  }

  /// Runs one SQL command with `psql` (tests: set up roles, inspect tables).
  @discardableResult
  public static func psql(_ url: String, _ sql: String) throws -> String {
    guard let psql = findExecutable("psql") ?? Self.debianBinary("psql") else {
      throw TestSupportError("psql not found: install Debian's postgresql-client")
    }
    let result = try runProcess(psql, ["-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", url, "-c", sql], timeout: 60)
    guard result.exitCode == 0 else { throw TestSupportError("psql \(sql): \(result.stderr)") }
    return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
  }

  private static func debianBinary(_ name: String) -> String? {
    let root = "/usr/lib/postgresql"
    let versions = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
    for version in versions.sorted().reversed() where FileManager.default.isExecutableFile(atPath: "\(root)/\(version)/bin/\(name)") {
      return "\(root)/\(version)/bin/\(name)"
    }
    return nil
  }
}
