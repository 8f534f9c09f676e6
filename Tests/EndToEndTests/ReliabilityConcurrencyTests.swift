import Foundation
import HKTestSupport
import Model
import Store
import Testing

/// Issue 6, concurrency: ten `hk apply --yes` started together on one environment. Exactly one
/// runs; the nine others exit 1 naming the holder; no `SQLITE_BUSY` (or "database is locked")
/// escapes from any of them; and `plan`, `drift`, `state` and `lock list` work while the apply
/// holds the lock. Run on a state database that does not exist yet (ten processes create and
/// migrate it at once) and on one with recorded state.
extension Reliability {
  @Suite(.serialized) struct Concurrency {
    @Test func tenSimultaneousAppliesOnANewDatabase() throws {
      let (w, name) = try Reliability.world.withNewEnvironment("race")
      let db = w.dir.path + "/\(name).sqlite"
      let outcome = try ConcurrencyRace(w: w, name: name, db: db).run()
      ReliabilityReport.append("concurrency", [("round", .string("new database, first apply"))] + outcome.report)
      #expect(outcome.problems.isEmpty, "\(outcome.problems.joined(separator: "\n"))")
    }

    @Test func tenSimultaneousAppliesOnRecordedState() throws {
      let (w, name) = try Reliability.world.withNewEnvironment("race")
      let db = w.dir.path + "/\(name).sqlite"
      let base = try w.hk(["apply", name, "--yes", "--validate-interval", "0.2"], env: ["HK_AWS": w.awsWrapper], db: db)
      #expect(base.exitCode == 0, "\(base)")
      try w.editForFullPlan(name)
      let outcome = try ConcurrencyRace(w: w, name: name, db: db).run()
      ReliabilityReport.append("concurrency", [("round", .string("recorded state, full plan"))] + outcome.report)
      #expect(outcome.problems.isEmpty, "\(outcome.problems.joined(separator: "\n"))")
    }
  }
}

/// Ten applies at once, readers while the winner works, then the tally.
struct ConcurrencyRace {
  let w: World
  let name: String
  let db: String
  let count = 10

  static let busyMarkers = ["SQLITE_BUSY", "database is locked", "stayed locked by another process", "SQLite error 5"]

  struct Outcome {
    var problems: [String] = []
    var report: [(String, JSONValue)] = []
  }

  func run() throws -> Outcome {
    var o = Outcome()
    let dir = w.reliabilityDir + "/" + name
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let runsBefore = (try? SQLiteStateStore(path: db).runs(name, limit: 100).count) ?? 0
    // Every kops call of the applies sleeps a second, so the winner holds the lock for a while.
    let slow = ["HK_AWS": w.awsWrapper, "FAKE_KOPS_SLEEP": "1"]
    var processes: [Process] = []
    for i in 0..<count {
      processes.append(
        try w.spawnHK(
          ["apply", name, "--yes", "--validate-interval", "0.2", "--validate-timeout", "60"], env: slow, log: dir + "/apply-\(i).log",
          db: db))
    }

    // While the winner holds the lock: readers.
    var holder: LockInfo? = nil
    let deadline = Date().addingTimeInterval(60)
    while holder == nil, Date() < deadline {
      holder = try? SQLiteStateStore(path: db).lock(name)
      if holder == nil { usleep(50_000) }
    }
    // …once the apply has recorded something (its first step), so `state show` has a revision.
    let recordedBy = Date().addingTimeInterval(60)
    while Date() < recordedBy, (try? SQLiteStateStore(path: db).recorded(name)) == nil { usleep(50_000) }
    var readers: [(String, ProcessResult)] = []
    let fast = ["HK_AWS": w.awsWrapper]
    for args in [
      ["plan", name], ["drift", name], ["state", "list"], ["state", "show", name], ["state", "history", name], ["lock", "list"],
    ] {
      readers.append((args.joined(separator: " "), try w.hk(args, env: fast, db: db, timeout: 120)))
    }
    let stillHeld = (try? SQLiteStateStore(path: db).lock(name))?.lockID == holder?.lockID && holder != nil

    for p in processes { p.waitUntilExit() }
    let logs = (0..<count).map { (try? String(contentsOfFile: dir + "/apply-\($0).log", encoding: .utf8)) ?? "" }
    let codes = processes.map(\.terminationStatus)
    let winners = processes.indices.filter { codes[$0] == 0 }
    let winnerPID = winners.first.map { processes[$0].processIdentifier }
    let losers = processes.indices.filter { codes[$0] != 0 }
    let naming = losers.filter { i in
      codes[i] == 1 && logs[i].contains("locked by") && winnerPID.map { logs[i].contains("pid \($0)") } == true
    }
    let busy = (logs + readers.map { $0.1.stdout + $0.1.stderr }).filter { text in Self.busyMarkers.contains { text.contains($0) } }
    let readersOK = readers.filter { $0.1.exitCode == 0 }
    let store = try SQLiteStateStore(path: db)
    let runs = try store.runs(name, limit: 100).count - runsBefore
    let after = try w.hk(["plan", name, "--detailed-exitcode"], env: fast, db: db)

    func check(_ what: String, _ ok: Bool, _ detail: @autoclosure () -> String) { if !ok { o.problems.append("\(what): \(detail())") } }
    check("exactly one apply ran", winners.count == 1 && runs == 1, "exit codes \(codes), runs \(runs)")
    check(
      "the holder was the winner", holder?.pid == winnerPID, "holder \(String(describing: holder)), winner \(String(describing: winnerPID))"
    )
    check(
      "the others exit 1 naming the holder", naming.count == count - 1,
      "\(naming.count) of \(losers.count); first other: \(losers.first.map { logs[$0].suffix(800) } ?? "")")
    check("no SQLITE_BUSY escaped", busy.isEmpty, busy.first.map { String($0.suffix(600)) } ?? "")
    check(
      "readers work during the apply", readersOK.count == readers.count && stillHeld,
      "held throughout: \(stillHeld); " + readers.filter { $0.1.exitCode != 0 }.map { "\($0.0): \($0.1)" }.joined(separator: "\n"))
    check("the winner's apply converged", after.exitCode == 0, "\(after)")
    check("no gateway attached", (try w.attachedVPCs(name)).isEmpty, "")
    o.report = [
      ("processes", .int(Int64(count))), ("ran", .int(Int64(winners.count))), ("runsRecorded", .int(Int64(runs))),
      ("refusedNamingHolder", .int(Int64(naming.count))), ("busyErrors", .int(Int64(busy.count))),
      ("readers", .array(readers.map { .string("\($0.0): exit \($0.1.exitCode)") })), ("readersDuringApply", .bool(stillHeld)),
      ("converged", .bool(after.exitCode == 0)), ("problems", .array(o.problems.map { .string(String($0.prefix(600))) })),
    ]
    return o
  }
}
