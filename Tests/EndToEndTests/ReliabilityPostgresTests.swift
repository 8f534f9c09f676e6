import Foundation
import HKTestSupport
import Model
import Store
import Testing

/// hk end to end with its state in a real PostgreSQL (DESIGN.md §8): the sample scenario,
/// concurrent applies from separate processes, a SIGKILLed holder whose lease lapses, a database
/// outage mid-apply, and migration from SQLite.
///
/// Each test writes its figures to the reliability report (`scripts/reliability`, section
/// "PostgreSQL backend").
@Suite(.serialized) struct ReliabilityPostgresTests {
  /// A world whose state is a fresh database on `server` (default: the tests' shared PostgreSQL).
  static func world(on server: String? = nil) throws -> World {
    let w = try World()
    w.stateLocation = try PostgresServer.freshDatabase(on: server)
    return w
  }

  static func report(_ scenario: String, _ figure: String, ok: Bool, started: Date) {
    ReliabilityReport.append(
      "postgres",
      [
        ("scenario", .string(scenario)), ("figure", .string(figure)), ("ok", .bool(ok)),
        ("seconds", .int(Int64(Date().timeIntervalSince(started).rounded()))),
      ])
  }

  @Test func sampleScenarioAppliesPlansNothingAndDriftsClean() throws {
    let started = Date()
    let w = try Self.world()
    let r = try w.apply(["dev", "staging", "prod"])
    #expect(r.exitCode == 0, "\(r)")
    #expect(
      r.stderr.components(separatedBy: "first use of this database").count == 2, "the first use is said once: \(r.stderr)")
    let plan = try w.hk(["plan", "--detailed-exitcode"])
    #expect(plan.exitCode == 0, "\(plan)")
    let drift = try w.hk(["drift", "--detailed-exitcode"])
    #expect(drift.exitCode == 0, "\(drift)")
    let store = try w.anyStore()
    #expect(try store.recorded(["dev", "staging", "prod"]).count == 3)
    #expect(try store.locks().isEmpty)
    #expect(try w.attachedVPCs("dev").isEmpty)
    #expect(try store.runs("dev", limit: 1).first?.result == .succeeded)
    Self.report(
      "sample scenario (dev, staging, prod)",
      "apply exit \(r.exitCode), then plan --detailed-exitcode \(plan.exitCode), drift --detailed-exitcode \(drift.exitCode)",
      ok: r.exitCode == 0 && plan.exitCode == 0 && drift.exitCode == 0, started: started)
  }

  @Test func tenConcurrentAppliesOneRunsNineAreRefusedNamingTheHolder() throws {
    let started = Date()
    let w = try Self.world()
    // Schema first, so that the racers race for the lease, not for the migration.
    #expect(try w.hk(["state", "list"]).exitCode == 0)
    _ = try w.anyStore()
    var racing = w.environment
    racing["FAKE_KOPS_SLEEP"] = "1"
    let env = racing
    let results = onThreadsE2E(10) { _ in
      (try? runProcess(
        w.hk, ["apply", "dev", "--yes", "--root", w.root, "--state-db", w.stateDB, "--validate-interval", "0.2"], env: env,
        cwd: w.root, timeout: 240)) ?? ProcessResult(exitCode: -1, stdout: "", stderr: "did not run", timedOut: false)
    }
    let winners = results.filter { $0.exitCode == 0 }
    #expect(winners.count == 1, "\(results.map(\.exitCode))")
    let refused = results.filter { $0.exitCode == 1 }
    #expect(refused.count == 9, "\(results.map(\.exitCode))")
    for r in refused {
      #expect((r.stdout + r.stderr).contains("locked by"), "\(r)")
      #expect((r.stdout + r.stderr).contains(" pid "), "\(r)")
    }
    #expect(w.kops.invocations().filter { $0.first == "create" }.count == 1)
    let converged = try w.hk(["plan", "dev", "--detailed-exitcode"]).exitCode == 0
    #expect(converged)
    let naming = refused.filter { ($0.stdout + $0.stderr).contains("locked by") }.count
    Self.report(
      "10 simultaneous applies, separate processes",
      "\(winners.count) ran, \(naming) exited 1 naming the holder, \(w.kops.invocations().filter { $0.first == "create" }.count) cluster create",
      ok: winners.count == 1 && naming == 9 && converged, started: started)
  }

  @Test func aSigkilledApplysLeaseLapsesAndAPlainApplyTakesOver() throws {
    let started = Date()
    let w = try Self.world()
    var env = w.environment
    env["HK_LOCK_TTL"] = "8"
    try w.sigkillApplyDuringKopsUpdate(env: env)
    let store = try w.anyStore()
    let dead = try #require(try store.locks().first)
    // Within the TTL the lease holds.
    w.faults = ["HK_LOCK_TTL": "8"]
    let early = try w.apply(["dev"])
    #expect(Date() < dead.expiresAt, "the check came too late to see the lease held")
    #expect(early.exitCode == 1 && (early.stdout + early.stderr).contains("locked by"), "\(early)")
    // After it, a plain apply (no unlock, no --force) takes over and converges.
    Thread.sleep(forTimeInterval: max(0, dead.expiresAt.timeIntervalSinceNow) + 0.5)
    let list = try w.hk(["lock", "list"])
    #expect(list.stdout.contains("expired"), "\(list.stdout)")
    let again = try w.apply(["dev"])
    #expect(again.exitCode == 0, "\(again)")
    #expect(try w.attachedVPCs("dev").isEmpty)
    let runs = try store.runs("dev", limit: 5)
    #expect(runs.contains { $0.result == .interrupted && $0.message.contains("expired") }, "\(runs)")
    #expect(try store.locks().isEmpty)
    #expect(dead.generation >= 1)
    #expect(w.kops.invocations().filter { $0.first == "create" }.count == 1)
    let converged = try w.hk(["plan", "dev", "--detailed-exitcode"]).exitCode == 0
    #expect(converged)
    let detached = try w.attachedVPCs("dev").isEmpty
    Self.report(
      "SIGKILL during kops update (HK_LOCK_TTL=8)",
      "within the TTL: apply exit \(early.exitCode) (locked); after it: plain apply exit \(again.exitCode), dead run interrupted, "
        + "gateway \(detached ? "detached" : "**attached**"), converged: \(converged ? "yes" : "**no**")",
      ok: early.exitCode == 1 && again.exitCode == 0 && detached && converged, started: started)
  }

  @Test func postgresStoppedMidApplyExitsCleanlyThenConverges() throws {
    let server = try PostgresServer()
    let w = try Self.world(on: server.url)
    var env = w.environment
    env["FAKE_KOPS_SLEEP"] = "1.5"
    env["HK_LOCK_TTL"] = "3"
    let started = Date()
    let output = w.dir.path + "/outage.log"
    let process = try w.startApply(env: env, flags: ["--validate-interval", "0.2"], output: output)
    w.waitForKops("create")
    server.stop()
    let exited = Date().addingTimeInterval(120)
    while process.isRunning, Date() < exited { usleep(100_000) }
    #expect(!process.isRunning, "hk hung with the database gone")
    if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    process.waitUntilExit()
    let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
    #expect(process.terminationStatus == 1, "\(text)")
    #expect(text.contains("state database") || text.contains("lease"), "\(text)")
    #expect(!text.contains("Fatal error"), "\(text)")
    let exitSeconds = Date().timeIntervalSince(started)
    #expect(exitSeconds < 110)
    w.killHungKops()
    try server.start()
    // Once the database is back, the next apply (after the dead lease lapses) converges.
    Thread.sleep(forTimeInterval: 3.5)
    w.faults = ["HK_LOCK_TTL": "3"]
    let again = try w.apply(["dev"])
    #expect(again.exitCode == 0, "\(again)")
    #expect(try w.attachedVPCs("dev").isEmpty)
    #expect(w.kops.invocations().filter { $0.first == "create" }.count == 1)
    let converged = try w.hk(["plan", "dev", "--detailed-exitcode"]).exitCode == 0
    #expect(converged)
    Self.report(
      "PostgreSQL stopped during the apply",
      "hk exit \(process.terminationStatus) naming the database problem after \(Int(exitSeconds)) s, no hang; "
        + "once back: apply exit \(again.exitCode), converged: \(converged ? "yes" : "**no**")",
      ok: process.terminationStatus == 1 && again.exitCode == 0 && converged, started: started)
  }

  @Test func aHolderWhoseLeaseIsBrokenStopsBeforeItsNextStep() throws {
    let started = Date()
    let w = try Self.world()
    var env = w.environment
    env["FAKE_KOPS_SLEEP"] = "2"
    env["HK_LOCK_TTL"] = "1.5"
    let output = w.dir.path + "/broken.log"
    let process = try w.startApply(env: env, output: output)
    w.waitForKops("create")
    let lock = try #require(try w.anyStore().lock("dev"))
    #expect(try w.hk(["lock", "unlock", "dev", "--force", lock.lockID]).exitCode == 0)
    let exited = Date().addingTimeInterval(60)
    while process.isRunning, Date() < exited { usleep(100_000) }
    if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    process.waitUntilExit()
    let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
    #expect(process.terminationStatus == 1, "\(text)")
    #expect(text.contains("lost the lease on dev"), "\(text)")
    // Stopped before its next step: the gateway was never attached, kops update never ran.
    let updates = w.kops.invocations().filter { $0.first == "update" }.count
    #expect(updates == 0)
    #expect(try w.attachedVPCs("dev").isEmpty)
    Self.report(
      "lease broken (hk lock unlock --force) during kops create",
      "holder exit \(process.terminationStatus) saying it lost the lease; steps run after: \(updates) (kops update), gateway never attached",
      ok: process.terminationStatus == 1 && updates == 0 && text.contains("lost the lease"), started: started)
  }

  @Test func migrateFromSQLiteKeepsHistoryIdentical() throws {
    let started = Date()
    let w = try World()
    #expect(try w.apply(["dev", "staging"]).exitCode == 0)
    w.faults = ["FAKE_KOPS_FAIL": "validate"]
    _ = try w.apply(["prod"])
    w.faults = [:]
    let before = try ["dev", "staging", "prod"].map { try w.hk(["state", "history", $0]).stdout }
    let list = try w.hk(["state", "list"]).stdout
    let target = try PostgresServer.freshDatabase()
    let sqliteBytes = FileManager.default.contents(atPath: w.stateDB)
    let migrate = try w.hk(["state", "migrate", "--to", target])
    #expect(migrate.exitCode == 0, "\(migrate)")
    #expect(migrate.stdout.contains("counts and digests verified"), "\(migrate.stdout)")
    #expect(FileManager.default.contents(atPath: w.stateDB) == sqliteBytes, "the source is never changed")
    let again = try w.hk(["state", "migrate", "--to", target])
    #expect(again.exitCode == 1 && again.stderr.contains("--force"), "\(again)")
    #expect(try w.hk(["state", "migrate", "--to", target, "--force"]).exitCode == 0)
    let sqlite = w.stateDB
    w.stateLocation = target
    let after = try ["dev", "staging", "prod"].map { try w.hk(["state", "history", $0]).stdout }
    #expect(after == before)
    #expect(try w.hk(["state", "list"]).stdout == list)
    #expect(try w.hk(["plan", "dev", "staging", "--detailed-exitcode"]).exitCode == 0)
    // And back: PostgreSQL → a new SQLite file.
    let back = w.dir.path + "/back.sqlite"
    #expect(try w.hk(["state", "migrate", "--to", back]).exitCode == 0)
    w.stateLocation = back
    let roundTrip = try ["dev", "staging", "prod"].map { try w.hk(["state", "history", $0]).stdout }
    #expect(roundTrip == before)
    _ = sqlite
    Self.report(
      "hk state migrate SQLite → PostgreSQL → SQLite",
      "state history of 3 environments identical after each copy: \(after == before && roundTrip == before ? "yes" : "**no**"); "
        + "source unchanged; a non-empty target refused without --force",
      ok: after == before && roundTrip == before && migrate.exitCode == 0, started: started)
  }
}

/// Runs `body(0..<count)` on `count` threads released together; results in index order.
func onThreadsE2E<T: Sendable>(_ count: Int, _ body: @escaping @Sendable (Int) -> T) -> [T] {
  let lock = NSLock()
  nonisolated(unsafe) var results: [Int: T] = [:]
  let start = DispatchSemaphore(value: 0)
  let done = DispatchGroup()
  for index in 0..<count {
    done.enter()
    Thread {
      start.wait()
      let value = body(index)
      lock.lock()
      results[index] = value
      lock.unlock()
      done.leave()
    }.start()
  }
  for _ in 0..<count { start.signal() }
  done.wait()
  return (0..<count).compactMap { results[$0] }
}
