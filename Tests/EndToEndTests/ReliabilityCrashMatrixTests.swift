import Foundation
import GRDB
import HKTestSupport
import Model
import Store
import Testing

/// Issue 6, crash matrix: SIGKILL hk at every step boundary and in the middle of every step of
/// an apply that replaces the cluster, creates, resizes and deletes instance groups, attaches
/// the gateway, updates, detaches, rolls and validates; then check that nothing was lost.
///
/// Three kinds of kill point per step:
/// - `start`: the step's first command hangs before doing anything (the journal shows the step
///   started; for the gateway attach, its intent is recorded);
/// - `mid`: the step's command did its work (kops wrote the object, EC2 attached the gateway,
///   the instances were replaced) and then hangs, so hk never learns of it;
/// - `boundary`: hk is killed as soon as the step's journal entry is finished (the next
///   command hangs before doing anything, so the kill lands before the next step has effects).
///   After the last step no command follows, only the write that finishes the run; there the
///   test holds that write open (see ``CrashScenario/FinishRunDelay``) so the kill lands
///   between the step's entry and the run's end every time, not when a poll happens to win.
///
/// After each kill: `PRAGMA integrity_check` is ok, the run is left `running` with the
/// interrupted step last in its journal, the lock is stale and refuses another apply, and
/// `hk lock unlock --force` + `hk apply --yes` converge (plan: no changes; drift: in sync; every
/// layer recorded; no gateway attached) with no non-idempotent step run twice.
///
/// Every point runs on its own environment cloned from `dev`. The full matrix (29 points) runs
/// with `HK_CRASH_MATRIX=1`; otherwise three representative points.
///
/// The points are shared between two suites, each serialized on a World (and a moto) of its own,
/// and neither is one of ``Reliability``'s: that parent runs its suites one after another, and
/// the matrix at its end was most of a CI run's last four minutes, on one core of two. Each kill
/// point waits for the journal rather than for a time, so sharing the cores does not move it.
@Suite(.serialized) struct ReliabilityCrashMatrix {
  static let world = SharedWorld()

  @Test(arguments: CrashPoint.selected.half(0))
  func killThenUnlockAndReapplyConverges(_ point: CrashPoint) throws {
    try CrashScenario.check(point, in: Self.world)
  }

  /// The control: the same plan applied without a kill converges in one run.
  @Test func withoutAKillTheFullPlanConvergesInOneRun() throws {
    let w = try Self.world.get()
    let point = CrashPoint(kind: .none, step: "none", match: "", next: nil, journalKind: "")
    let outcome = try CrashScenario(w: w, point: point, name: Self.world.nextName("crash")).run()
    ReliabilityReport.append("crash-control", outcome.report)
    #expect(outcome.problems.isEmpty, "\(outcome.problems.joined(separator: "\n"))")
  }
}

/// The other half of the crash matrix (see ``ReliabilityCrashMatrix``).
@Suite(.serialized) struct ReliabilityCrashMatrixSecondHalf {
  static let world = SharedWorld()

  @Test(arguments: CrashPoint.selected.half(1))
  func killThenUnlockAndReapplyConverges(_ point: CrashPoint) throws {
    try CrashScenario.check(point, in: Self.world)
  }
}

extension [CrashPoint] {
  /// Every other point, from the first (`0`) or the second (`1`): the two halves take turns
  /// along the steps, so each has points early and late in the apply.
  func half(_ which: Int) -> [CrashPoint] {
    enumerated().filter { $0.offset % 2 == which }.map(\.element)
  }
}

/// One World shared by the reliability suites (built on first use, released at exit), and
/// unique environment names inside it.
final class SharedWorld: @unchecked Sendable {
  private let lock = NSLock()
  private var world: World?
  private var counter = 0

  func get() throws -> World {
    lock.lock()
    defer { lock.unlock() }
    if let world { return world }
    let w = try World()
    try w.prepareReliability()
    ReliabilityCleanup.add(world: w)
    world = w
    return w
  }

  /// A fresh environment name (`<prefix><n>`).
  func nextName(_ prefix: String) -> String {
    lock.lock()
    defer { lock.unlock() }
    counter += 1
    return "\(prefix)\(counter)"
  }
}

/// A kill point of the crash matrix.
struct CrashPoint: Sendable, CustomTestStringConvertible {
  enum Kind: String, Sendable {
    case start, mid, boundary
    /// No kill (the control).
    case none
  }
  var kind: Kind
  /// The step kind (`cluster-replace`, …) or `preflight`.
  var step: String
  /// The wrappers' `REL_MATCH`: a substring of the argv of the command to hang.
  var match: String
  /// For `boundary`: the first command of the next step (hung as a safety net), if any.
  var next: String?
  /// The journal kind the kill leaves last (for start/mid).
  var journalKind: String

  var testDescription: String { "\(kind.rawValue) \(step)" }

  /// The apply's steps in order: (kind, the argv substring of its main command, the argv
  /// substring of its first command, the journal kind of that first command).
  static let steps: [(kind: String, main: String, first: String, firstJournal: String)] = [
    ("cluster-replace", "/cluster.yaml --state", "/cluster.yaml --state", "cluster-replace"),
    (
      "instancegroup-create", "/instancegroup-nodes-extra-ap-northeast-1a.yaml", "/instancegroup-nodes-extra-ap-northeast-1a.yaml",
      "instancegroup-create"
    ),
    (
      "instancegroup-replace", "/instancegroup-nodes-ap-northeast-1a.yaml", "/instancegroup-nodes-ap-northeast-1a.yaml",
      "instancegroup-replace"
    ),
    ("instancegroup-delete", " delete instancegroup ", " delete instancegroup ", "instancegroup-delete"),
    ("igw-attach", " attach-internet-gateway ", " attach-internet-gateway ", "igw-attach"),
    // kops-update runs the dry run first, then `--yes`, then asks kops which groups need a roll
    ("kops-update", " --yes --create-kube-config=false", " update cluster ", "kops-update-dryrun"),
    ("igw-detach", " detach-internet-gateway ", " detach-internet-gateway ", "igw-detach"),
    ("rolling-update", " --yes --instance-group ", " export kubeconfig ", "export-kubeconfig"),
    ("validate", " validate cluster ", " validate cluster ", "validate"),
  ]

  static var all: [CrashPoint] {
    var points = [
      CrashPoint(kind: .start, step: "preflight", match: " version --short ", next: nil, journalKind: "preflight-version"),
      CrashPoint(kind: .mid, step: "preflight", match: " get ", next: nil, journalKind: "preflight-read"),
    ]
    for (i, s) in steps.enumerated() {
      points.append(CrashPoint(kind: .start, step: s.kind, match: s.first, next: nil, journalKind: s.firstJournal))
      points.append(CrashPoint(kind: .mid, step: s.kind, match: s.main, next: nil, journalKind: s.kind))
      let next = i + 1 < steps.count ? steps[i + 1].first : nil
      points.append(CrashPoint(kind: .boundary, step: s.kind, match: s.main, next: next, journalKind: s.kind))
    }
    return points
  }

  /// The full matrix with `HK_CRASH_MATRIX=1`, else three representative points: the gateway
  /// attached while update runs, a write done but not recorded, and a finished roll.
  /// `HK_CRASH_POINTS="boundary validate,mid kops-update"` picks points by name instead.
  static var selected: [CrashPoint] {
    if let names = ProcessInfo.processInfo.environment["HK_CRASH_POINTS"], !names.isEmpty {
      let wanted = Set(names.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
      return all.filter { wanted.contains($0.testDescription) }
    }
    if ReliabilityReport.fullMatrix { return all }
    return all.filter {
      ($0.kind == .mid && $0.step == "kops-update") || ($0.kind == .mid && $0.step == "instancegroup-create")
        || ($0.kind == .boundary && $0.step == "rolling-update")
    }
  }
}

/// What one kill point found.
struct CrashOutcome {
  var killed = false
  var problems: [String] = []
  var notes: [String] = []
  var checks: [(String, Bool)] = []
  var report: [(String, JSONValue)] = []

  mutating func check(_ name: String, _ ok: Bool, _ detail: @autoclosure () -> String = "") {
    checks.append((name, ok))
    if !ok { problems.append("\(name): \(detail())") }
  }
}

/// Runs one kill point on a fresh environment.
struct CrashScenario {
  let w: World
  let point: CrashPoint
  /// The environment the point runs on (created here).
  let name: String

  static let expectedSteps = CrashPoint.steps.map(\.kind)

  /// Runs `point` on a fresh environment of `world` and expects the kill and the convergence.
  static func check(_ point: CrashPoint, in world: SharedWorld) throws {
    let w = try world.get()
    let outcome = try CrashScenario(w: w, point: point, name: world.nextName("crash")).run()
    ReliabilityReport.append("crash", outcome.report)
    #expect(outcome.killed, "\(point): hk was not killed (\(outcome.notes.joined(separator: "; ")))")
    #expect(outcome.problems.isEmpty, "\(point): \(outcome.problems.joined(separator: "\n"))")
  }

  func run() throws -> CrashOutcome {
    let clock = ContinuousClock()
    let started = clock.now
    var o = CrashOutcome()
    try w.addEnvironment(name)
    let scenario = w.reliabilityDir + "/" + name
    try FileManager.default.createDirectory(atPath: scenario, withIntermediateDirectories: true)
    let common = ["HK_AWS": w.awsWrapper]

    // A first apply, then the edit that makes the full plan.
    let first = try w.apply([name], env: common)
    guard first.exitCode == 0 else {
      o.check("first apply", false, "\(first)")
      return finish(o, name: name, started: started)
    }
    try w.editForFullPlan(name)
    let plan = try w.hk(["plan", name, "--format", "json"], env: common)
    let kinds = (try? JSONValue.parse(plan.stdout))?["environments"]?.arrayValue?.first?["steps"]?.arrayValue?.compactMap {
      $0["kind"]?.stringValue
    }
    o.check("plan has every step kind", kinds == Self.expectedSteps, "\(kinds ?? []) \(plan.stderr)")
    let rollsBefore = w.cloud(name)?["rollingUpdates"]?.arrayValue?.count ?? 0

    // The apply to kill.
    var faults = common
    faults["REL_DIR"] = scenario
    switch point.kind {
    case .start:
      faults["REL_MODE"] = "hang-before"
      faults["REL_MATCH"] = point.match
    case .mid:
      faults["REL_MODE"] = "hang-after"
      faults["REL_MATCH"] = point.match
    case .boundary:
      if let next = point.next {
        faults["REL_MODE"] = "hang-before"
        faults["REL_MATCH"] = next
      }
    case .none:
      let r = try w.apply([name], env: common)
      o.check("apply exit 0", r.exitCode == 0, "\(r)")
      convergence(&o, store: try w.store(), rollsBefore: rollsBefore)
      return finish(o, name: name, started: started)
    }
    // After the last step no command follows, only the run's final write: it is held open by a
    // trigger, installed once hk has opened (and checked) the database and its run has begun —
    // hk refuses a state file that holds schema objects it never creates.
    var delay: FinishRunDelay? = nil
    defer { try? delay?.remove() }
    let log = scenario + "/killed-apply.log"
    let process = try w.spawnHK(
      ["apply", name, "--yes", "--validate-interval", "0.2", "--validate-timeout", "20"], env: faults, log: log)
    let holdsFinalWrite = point.kind == .boundary && point.next == nil
    let reached = waitForKillPoint(name: name, process: process, scenario: scenario) {
      if holdsFinalWrite && delay == nil { delay = try? FinishRunDelay(db: w.stateDB, environment: name) }
    }
    if holdsFinalWrite { o.check("final write held", delay != nil, "the delay trigger could not be installed") }
    if process.isRunning {
      kill(process.processIdentifier, SIGKILL)
      process.waitUntilExit()
      o.killed = process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL
    } else {
      o.notes.append("hk exited \(process.terminationStatus) before the kill")
    }
    if !reached { o.notes.append("kill point not reached within the time limit") }
    w.killHungWrappers(scenario)
    try delay?.remove()
    let killedLog = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
    guard o.killed else {
      o.check("killed at the point", false, "hk output:\n\(killedLog)")
      return finish(o, name: name, started: started)
    }

    // After the kill: the database, the journal, the lock.
    let store = try w.store()
    let integrity = (try? store.integrityCheck()) ?? "error"
    o.check("integrity_check ok", integrity == "ok", integrity)
    let run = try store.runs(name, limit: 1).first
    o.check("run left running", run?.result == .running, "\(run.map { "\($0.result)" } ?? "no run")")
    let journal = try run.map { try store.journal(runID: $0.id) } ?? []
    let last = journal.last
    let lastText = last.map { "\($0.kind) \($0.status.rawValue)" } ?? "none"
    switch point.kind {
    case .start, .mid:
      o.check(
        "journal shows the interrupted step", last?.kind == point.journalKind && last?.status == .started,
        "last entry \(lastText), expected \(point.journalKind) started")
    case .boundary:
      // The step's entry finished; the next step's first command may have started.
      let stepEntry = journal.last { $0.kind == point.journalKind }
      let shown = stepEntry?.status == .succeeded && (last == stepEntry || last?.status == .started)
      o.check("journal shows the interrupted step", shown, "last entry \(lastText)")
    case .none:
      break
    }
    let lock = try store.lock(name)
    o.check("lock stale", lock?.isStale == true, "\(String(describing: lock))")
    let list = try w.hk(["lock", "list"], env: common)
    o.check("hk lock list says stale", list.stdout.contains("stale"), list.stdout)
    // Another apply is refused, naming the dead holder, while work is left; with nothing
    // left (killed after the last layer) it has nothing to do and leaves the lock alone.
    let owed = try w.hk(["plan", name, "--detailed-exitcode"], env: common)
    let refused = try w.apply([name], env: common)
    let refusedText = refused.stdout + refused.stderr
    if owed.exitCode == 2 {
      o.check(
        "another apply refused naming the holder",
        refused.exitCode == 1 && refusedText.contains("locked by") && refusedText.contains("pid \(process.processIdentifier)"), "\(refused)"
      )
    } else {
      o.notes.append("nothing left to apply after the kill")
      o.check("nothing left: apply has no changes", owed.exitCode == 0 && refused.exitCode == 0, "\(owed)\n\(refused)")
      o.check("the stale lock is left alone", (try store.lock(name))?.lockID == lock?.lockID)
    }

    // Recovery.
    let unlock = try w.hk(["lock", "unlock", name, "--force", lock?.lockID ?? "?"], env: common)
    o.check("unlock --force", unlock.exitCode == 0, "\(unlock)")
    let again = try w.apply([name], env: common)
    o.check("re-apply exit 0", again.exitCode == 0, "\(again)")
    convergence(&o, store: store, rollsBefore: rollsBefore)
    o.notes.append("last journal entry: \(lastText)")
    o.notes.append("hung: \(reached)")
    return finish(o, name: name, started: started)
  }

  /// Holds the write that finishes a run of `environment` open for a few seconds: a trigger
  /// on the `run` table that counts to eight million (about two seconds here) inside hk's own transaction. The
  /// step's journal entry is committed by then, the run's end is not, so the kill after the
  /// last step lands in that window deterministically. Installed in the test's database only,
  /// and removed (with hk dead) before the recovery runs.
  struct FinishRunDelay {
    let db: String
    let trigger: String

    init(db: String, environment: String) throws {
      self.db = db
      let literal = "'" + environment.replacingOccurrences(of: "'", with: "''") + "'"
      trigger = "crash_matrix_delay_\(environment.filter { $0.isLetter || $0.isNumber })"
      let queue = try DatabaseQueue(path: db)
      try queue.write { conn in
        try conn.execute(
          sql: """
            CREATE TRIGGER \(trigger) BEFORE UPDATE OF "result" ON "run"
            WHEN OLD."environment" = \(literal) AND NEW."result" != 'running'
            BEGIN
              SELECT count(*) FROM (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 8000000) SELECT x FROM c);
            END
            """)
      }
    }

    func remove() throws {
      let queue = try DatabaseQueue(path: db)
      try queue.write { try $0.execute(sql: "DROP TRIGGER IF EXISTS \(trigger)") }
    }
  }

  /// Converged: plan says no changes, drift says in sync, every layer recorded, the lock
  /// released, no gateway attached, the cloud on the desired configuration, and no
  /// non-idempotent step ran twice.
  func convergence(_ o: inout CrashOutcome, store: SQLiteStateStore, rollsBefore: Int, faultsInjected: Bool = false) {
    let common = ["HK_AWS": w.awsWrapper]
    do {
      let after = try w.hk(["plan", name, "--detailed-exitcode"], env: common)
      o.check("plan: no changes", after.exitCode == 0, "\(after)")
      let drift = try w.hk(["drift", name, "--detailed-exitcode"], env: common)
      o.check("drift: in sync", drift.exitCode == 0, "\(drift)")
      let recorded = try store.recorded(name)
      o.check(
        "every layer recorded",
        recorded?.cloudUpdated == true && recorded?.pendingRolls.isEmpty == true && recorded?.validated == true
          && recorded?.igwAttached == false,
        "\(String(describing: recorded))")
      o.check("lock released", (try store.lock(name)) == nil)
      let attached = try w.attachedVPCs(name)
      o.check("no gateway attached", attached.isEmpty, "\(attached)")
      o.check("cloud converged", cloudConverged(name), "\(w.cloud(name)?.serialized() ?? "no cloud")")

      // No non-idempotent step ran twice.
      let calls = w.kopsCalls(name)
      func succeeded(_ test: ([String]) -> Bool) -> Int { calls.filter { $0.exit == 0 && test($0.argv) }.count }
      func fileArg(_ argv: [String]) -> String { argv.firstIndex(of: "-f").map { argv[$0 + 1] } ?? "" }
      let repeats = [
        ("create", succeeded { $0.first == "create" }, 1),
        ("cluster replace", succeeded { $0.first == "replace" && fileArg($0).hasSuffix("/cluster.yaml") }, 1),
        (
          "instance group created",
          succeeded { $0.first == "replace" && fileArg($0).hasSuffix("/instancegroup-nodes-extra-ap-northeast-1a.yaml") }, 1
        ),
        (
          "instance group replaced",
          succeeded { $0.first == "replace" && fileArg($0).hasSuffix("/instancegroup-nodes-ap-northeast-1a.yaml") }, 1
        ),
        ("instance group deleted", succeeded { $0.first == "delete" }, 1),
      ]
      for (what, count, limit) in repeats {
        o.check("\(what) at most \(limit)×", count <= limit, "\(count) successful calls")
      }
      // Without injected failures, no write may fail either (a repeated create or delete would).
      if !faultsInjected {
        let failed = calls.filter { ["create", "replace", "delete"].contains($0.argv.first ?? "") && $0.exit != nil && $0.exit != 0 }
        o.check("no kops write failed", failed.isEmpty, failed.map { $0.argv.joined(separator: " ") }.joined(separator: "\n"))
      }
      let rolled = (w.cloud(name)?["rollingUpdates"]?.arrayValue ?? []).dropFirst(rollsBefore).flatMap {
        ($0["instanceGroups"]?.arrayValue ?? []).compactMap(\.stringValue)
      }
      o.check("no group rolled twice", Set(rolled).count == rolled.count, "\(rolled)")
      o.check("rolled what needed it", Set(rolled) == ["control-plane-ap-northeast-1a", "nodes-ap-northeast-1a"], "\(rolled)")
    } catch {
      o.check("convergence checks ran", false, "\(error)")
    }
  }

  /// Waits until hk reached the kill point: a wrapper hangs (start, mid) or the step's journal
  /// entry finished (boundary). False on timeout or when hk exited.
  func waitForKillPoint(name: String, process: Process, scenario: String, runBegan: () -> Void = {}) -> Bool {
    let deadline = Date().addingTimeInterval(90)
    var store: SQLiteStateStore? = nil
    while Date() < deadline, process.isRunning {
      switch point.kind {
      case .start, .mid:
        if !w.hungWrappers(scenario).isEmpty { return true }
        usleep(20_000)
      case .boundary:
        if store == nil { store = try? SQLiteStateStore(path: w.stateDB) }
        if let store, let run = try? store.runs(name, limit: 1).first, run.result == .running,
          let entries = try? store.journal(runID: run.id)
        {
          if !entries.isEmpty { runBegan() }
          if entries.contains(where: { $0.kind == point.journalKind && $0.status == .succeeded }) { return true }
        }
        usleep(2_000)
      case .none:
        return true
      }
    }
    return false
  }

  /// The simulated cloud has the desired groups, every instance on its group's configuration.
  func cloudConverged(_ name: String) -> Bool {
    guard let cloud = w.cloud(name), let groups = cloud["groups"]?.arrayValue else { return false }
    let names = Set(groups.compactMap { $0["name"]?.stringValue })
    guard names == ["control-plane-ap-northeast-1a", "nodes-ap-northeast-1a", "nodes-extra-ap-northeast-1a"] else { return false }
    return groups.allSatisfy { g in
      let hash = g["hash"]?.stringValue
      return (g["instances"]?.arrayValue ?? []).allSatisfy { $0["hash"]?.stringValue == hash }
    }
  }

  func finish(_ o: CrashOutcome, name: String, started: ContinuousClock.Instant) -> CrashOutcome {
    var o = o
    let d = ContinuousClock.now - started
    o.report = [
      ("kind", .string(point.kind.rawValue)), ("step", .string(point.step)), ("environment", .string(name)),
      ("killed", .bool(o.killed)), ("converged", .bool((o.killed || point.kind == .none) && o.problems.isEmpty)),
      ("checks", .obj(o.checks.map { ($0.0, .bool($0.1)) })),
      ("problems", .array(o.problems.map { .string(String($0.prefix(600))) })),
      ("notes", .array(o.notes.map { .string($0) })), ("seconds", .double((Double(d.components.seconds) * 10).rounded() / 10)),
    ]
    return o
  }
}

/// The parent of the reliability suites: serialized, so that they never compete for the two
/// cores among themselves (each starts moto and many hk processes). The crash matrix runs beside
/// them, on Worlds of its own (``ReliabilityCrashMatrix``).
@Suite(.serialized) enum Reliability {
  /// One World (one moto) for every reliability suite; each scenario adds its own environments.
  static let world = SharedWorld()
}
