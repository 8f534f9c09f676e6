import Foundation
import GRDB
import HKTestSupport
import Model
import Store
import Testing

/// Bad state locations (issue #10's last paragraph, #16 item 6) and untrusted state files (#17
/// item 6), through the real hk binary: one clear line, exit 1, no secret, nothing written.
@Suite struct StateLocationTests {
  static let secret = "pw-Secret-4711"

  /// Locations that cannot be used, and what the one error line must name.
  static func badLocations() throws -> [(location: String, names: String)] {
    let admin = try PostgresServer.shared()
    let port = URLComponents(string: admin)?.port ?? 5432
    return [
      ("postgresql://hk_pw:\(secret)@127.0.0.1:\(port)/postgres", "refused the credentials"),
      ("postgresql://hk:\(secret)@127.0.0.1:1/postgres?connect_timeout=5", "cannot reach state database"),
      ("postgresql://hk:\(secret)@127.0.0.1:\(port)/hk_no_such_database", "does not exist"),
      ("mysql://hk:\(secret)@127.0.0.1/hk", "unknown scheme 'mysql://'"),
      ("postgres://hk:\(secret)@127.0.0.1:\(port)/my db", "white space"),
      ("s3://corp-state/hk.sqlite", "the S3 backend needs the AWS CLI"),
      ("/nonexistent-\(UUID().uuidString)/dir/hk.sqlite", "does not exist"),
    ]
  }

  @Test func badLocationsGiveOneLineExitOneAndNoSecret() throws {
    let hk = try TestProducts.executable("hk")
    let dir = try TemporaryDirectory(prefix: "hk-location")
    let repo = dir.path + "/repo"
    try FileManager.default.createDirectory(atPath: repo, withIntermediateDirectories: true)
    try FileManager.default.copyItem(atPath: packageRoot + "/environments", toPath: repo + "/environments")
    let commands = [
      ["plan", "dev", "--detailed-exitcode"], ["apply", "dev", "--yes"], ["state", "list"], ["state", "history", "dev"],
      ["lock", "list"], ["import", "dev"], ["drift", "dev"],
    ]
    for (location, names) in try Self.badLocations() {
      for command in commands {
        let r = try runProcess(hk, command + ["--root", repo, "--state-db", location], env: ["NO_COLOR": "1"], cwd: repo, timeout: 60)
        let shown = "\(command.joined(separator: " ")) with \(StoreLocation.redact(location))"
        #expect(r.exitCode == 1, "\(shown): \(r)")
        let lines = r.stderr.split(separator: "\n").filter { !$0.hasPrefix("hk: ") }
        #expect(lines.count == 1, "\(shown): \(r.stderr)")
        #expect(r.stderr.contains(names), "\(shown): \(r.stderr)")
        #expect(!(r.stdout + r.stderr).contains(Self.secret), "\(shown) printed the password")
        #expect(!r.stderr.contains("Fatal error") && !r.stderr.contains("Stack dump"), "\(shown): \(r.stderr)")
      }
    }
    // Nothing was written: no state directory, no file.
    #expect(!FileManager.default.fileExists(atPath: repo + "/state"))
  }

  @Test func aMissingDirectoryIsAnErrorAndAFirstUseIsSaidOnce() throws {
    let hk = try TestProducts.executable("hk")
    let dir = try TemporaryDirectory(prefix: "hk-location")
    try FileManager.default.copyItem(atPath: packageRoot + "/environments", toPath: dir.path + "/environments")
    // The issue's example: before, this printed a create plan and "nothing recorded yet".
    let missing = try runProcess(
      hk, ["plan", "dev", "--detailed-exitcode", "--root", dir.path], env: ["HK_STATE_DB": "/nonexistent/dir/hk.sqlite"], cwd: dir.path)
    #expect(missing.exitCode == 1 && missing.stdout.isEmpty, "\(missing)")
    #expect(missing.stderr.contains("its directory /nonexistent/dir does not exist"), "\(missing)")
    // A valid new location: said once, on stderr; the plan is still printed.
    let fresh = try runProcess(hk, ["plan", "dev", "--root", dir.path], env: ["NO_COLOR": "1"], cwd: dir.path)
    #expect(fresh.exitCode == 0, "\(fresh)")
    #expect(fresh.stderr.components(separatedBy: "first use of this location").count == 2, "\(fresh.stderr)")
  }

  @Test func aStateFileTrackedByGitOrASymlinkIsRefused() throws {
    let hk = try TestProducts.executable("hk")
    let dir = try TemporaryDirectory(prefix: "hk-trust")
    try FileManager.default.copyItem(atPath: packageRoot + "/environments", toPath: dir.path + "/environments")
    let db = dir.path + "/state/hk.sqlite"
    try FileManager.default.createDirectory(atPath: dir.path + "/state", withIntermediateDirectories: true)
    try Self.craftDatabase(at: db)
    // A symlink to it.
    let link = dir.path + "/link.sqlite"
    try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: db)
    let before = FileManager.default.contents(atPath: db)
    for command in [["state", "list"], ["plan", "dev"], ["apply", "dev", "--yes"]] {
      let r = try runProcess(hk, command + ["--root", dir.path, "--state-db", link], cwd: dir.path)
      #expect(r.exitCode == 1 && r.stderr.contains("symbolic link"), "\(r)")
    }
    #expect(FileManager.default.contents(atPath: db) == before)
    // Tracked by git (committed in a pull request).
    let git = try #require(findExecutable("git"))
    for args in [["init", "-q"], ["add", "state/hk.sqlite"]] {
      #expect(try runProcess(git, ["-C", dir.path] + args).exitCode == 0)
    }
    let tracked = try runProcess(hk, ["state", "list", "--root", dir.path, "--state-db", db], cwd: dir.path)
    #expect(tracked.exitCode == 1 && tracked.stderr.contains("tracked by git"), "\(tracked)")
    #expect(FileManager.default.contents(atPath: db) == before)
  }

  @Test func aCraftedDatabaseIsRefusedOrReadWithoutCrashingOrChangingIt() throws {
    let hk = try TestProducts.executable("hk")
    let dir = try TemporaryDirectory(prefix: "hk-crafted")
    try FileManager.default.copyItem(atPath: packageRoot + "/environments", toPath: dir.path + "/environments")
    let db = dir.path + "/hk.sqlite"
    try Self.craftDatabase(at: db)
    // A foreign journal mode: a read-only command must not convert it (nor migrate it).
    let queue = try DatabaseQueue(path: db)
    try queue.writeWithoutTransaction { db in _ = try String.fetchOne(db, sql: "PRAGMA journal_mode = DELETE") }
    try queue.close()
    let plain = FileManager.default.contents(atPath: db)
    let list = try runProcess(hk, ["state", "list", "--root", dir.path, "--state-db", db], cwd: dir.path)
    #expect(list.exitCode == 0, "\(list)")
    #expect(FileManager.default.contents(atPath: db) == plain, "a read-only command changed the file")
    #expect(!FileManager.default.fileExists(atPath: db + "-wal"))
    // A value of the wrong type where a time is expected: an error, not a crash.
    let typed = try DatabaseQueue(path: db)
    try typed.write { db in try db.execute(sql: #"UPDATE "revision" SET "createdAt" = x'00ff'"#) }
    try typed.close()
    for command in [["state", "list"], ["state", "history", "dev"], ["state", "show", "dev"], ["plan", "dev"]] {
      let r = try runProcess(hk, command + ["--root", dir.path, "--state-db", db], cwd: dir.path)
      #expect(r.exitCode == 1 && r.stderr.contains("damaged"), "\(command): \(r)")
    }
    // A view or trigger (a recursive view hangs a read): refused before any read.
    let crafted = try DatabaseQueue(path: db)
    try crafted.write { db in
      try db.execute(
        sql: """
          CREATE VIEW "loop" AS WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT n FROM r;
          CREATE TRIGGER "spy" AFTER INSERT ON "run" BEGIN DELETE FROM "revision"; END;
          """)
    }
    try crafted.close()
    let craftedBytes = FileManager.default.contents(atPath: db)
    for command in [["state", "list"], ["plan", "dev"], ["apply", "dev", "--yes"]] {
      let r = try runProcess(hk, command + ["--root", dir.path, "--state-db", db], cwd: dir.path, timeout: 30)
      #expect(r.exitCode == 1 && r.stderr.contains("schema objects hk never creates"), "\(command): \(r)")
    }
    #expect(FileManager.default.contents(atPath: db) == craftedBytes)
  }

  @Test func aNewStateFileIsPrivate() throws {
    let dir = try TemporaryDirectory(prefix: "hk-private")
    let path = dir.path + "/state/hk.sqlite"
    _ = try StateStores.open(path)
    var info = stat()
    #expect(stat(path, &info) == 0 && info.st_mode & 0o777 == 0o600, "mode \(String(info.st_mode & 0o777, radix: 8))")
    #expect(stat(dir.path + "/state", &info) == 0 && info.st_mode & 0o777 == 0o700, "mode \(String(info.st_mode & 0o777, radix: 8))")
  }

  /// A SQLite state file at `db` holding one crafted revision of `dev`.
  static func craftDatabase(at db: String) throws {
    let store = try SQLiteStateStore(path: db)
    _ = try store.record(
      RecordedStateDraft(
        environment: "dev", clusterYAML: "kind: Cluster\n", instanceGroupsYAML: [], cloudUpdated: true, pendingRolls: [],
        igwAttached: false),
      expectedPrior: nil, actor: StoreActor(user: "u", host: "h", pid: 1, command: "hk import dev"), note: "crafted")
    try store.close()
  }
}
