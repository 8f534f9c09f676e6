import Foundation
import HKTestSupport
import Model
import Testing

@testable import Store

/// A password in a PostgreSQL LOCATION never shows: not in the store's name, lease holders,
/// recorded command lines, errors, nor `hk lock list` / `hk state history`.
@Suite struct PostgresSecretTests {
  @Test func thePasswordOfALocationNeverShows() throws {
    let admin = try PostgresServer.freshDatabase()
    let database = try #require(URLComponents(string: admin)?.path.dropFirst())
    try PostgresServer.psql(admin, "GRANT ALL ON DATABASE \(database) TO hk_pw")
    let password = PostgresServer.passwordRolePassword
    var components = try #require(URLComponents(string: admin))
    components.user = "hk_pw"
    components.password = password
    let url = try #require(components.string)
    let store = try #require(try StateStores.open(url).store)
    #expect(store.displayLocation.contains("hk_pw:***@") && !store.displayLocation.contains(password))
    let actor = StoreActor.current(command: "hk apply dev --yes --state-db \(url)")
    #expect(!actor.command.contains(password) && actor.command.contains("hk_pw:***@"))
    let lock = try store.acquireLock("dev", actor: actor, ttl: 60)
    _ = try store.beginRun(environment: "dev", command: actor.command, planID: nil, actor: actor, fence: lock)
    _ = try store.record(draft("dev"), expectedPrior: nil, actor: actor, note: "apply", planID: nil, newLineage: false, fence: lock)
    let held = try #require(try store.lock("dev"))
    #expect(!held.holderDescription.contains(password))
    #expect(try store.runs("dev", limit: 1).allSatisfy { !$0.command.contains(password) })
    #expect(try store.history("dev").allSatisfy { !$0.command.contains(password) })
    let refused = try #require(throws: StoreError.self) { try store.acquireLock("dev", actor: tester, ttl: 60) }
    #expect(!refused.localizedDescription.contains(password))

    let hk = try TestProducts.executable("hk")
    let scratch = try ScratchDirectory()
    defer { scratch.remove() }
    for command in [["lock", "list"], ["state", "history", "dev"], ["state", "list"]] {
      let r = try runProcess(hk, command + ["--root", scratch.path, "--state-db", url], env: ["NO_COLOR": "1"])
      #expect(r.exitCode == 0, "\(r)")
      #expect(!(r.stdout + r.stderr).contains(password), "\(command) printed the password")
    }
    let lockList = try runProcess(hk, ["lock", "list", "--root", scratch.path, "--state-db", url], env: ["NO_COLOR": "1"])
    // The location is still shown (the command that holds the lease): the user name stays, the
    // password is `***` (the store's redaction; the output boundary does not mask it twice).
    #expect(lockList.stdout.contains("--state-db postgresql://hk_pw:***@127.0.0.1"), "\(lockList.stdout)")
    // A failing statement (a role without rights on the schema) names the redacted location only.
    try PostgresServer.psql(admin, "REVOKE ALL ON SCHEMA hk FROM hk_pw; REVOKE ALL ON ALL TABLES IN SCHEMA hk FROM hk_pw")
    let denied = try runProcess(hk, ["state", "list", "--root", scratch.path, "--state-db", url], env: ["NO_COLOR": "1"])
    #expect(!(denied.stdout + denied.stderr).contains(password))
  }
}
