import Config
import Foundation
import Model
import Planner
import Store

/// Tunables of an apply.
public struct ApplyOptions: Sendable {
  /// Apply even when the live objects differ from the recorded state.
  public var allowDrift: Bool
  /// The longest one kops/aws step may run (kops retries a failing task for up to 10 minutes).
  public var stepTimeout: Duration
  /// How long `validate` is polled until the cluster is healthy.
  public var validateTimeout: Duration
  /// Pause between two `kops validate cluster` polls.
  public var validateInterval: Duration
  /// Lifetime of the admin credential exported for rolling-update/validate (kops ≤ 1.30).
  public var kubeconfigAdminTTL: String
  /// Extra environment for every kops/aws call (tests point AWS_ENDPOINT_URL etc. here).
  public var environment: [String: String]
  /// Record a cluster that already exists as desired while nothing is recorded and no earlier
  /// apply of this environment created it (else apply refuses and points to `hk import`).
  public var adopt: Bool
  /// The git commit of the environment's desired files, recorded with each revision written.
  public var gitCommit: String?
  /// Go on when kops's dry run shows a launch template or IAM change the plan did not predict.
  public var allowSurprises: Bool

  public init(
    allowDrift: Bool = false, stepTimeout: Duration = .seconds(45 * 60), validateTimeout: Duration = .seconds(15 * 60),
    validateInterval: Duration = .seconds(10), kubeconfigAdminTTL: String = "1h", environment: [String: String] = [:],
    adopt: Bool = false, allowSurprises: Bool = false
  ) {
    self.adopt = adopt
    self.allowSurprises = allowSurprises
    self.allowDrift = allowDrift
    self.stepTimeout = stepTimeout
    self.validateTimeout = validateTimeout
    self.validateInterval = validateInterval
    self.kubeconfigAdminTTL = kubeconfigAdminTTL
    self.environment = environment
  }
}

/// Progress of an apply, for the terminal (or a JSON log later).
public protocol ApplyObserver: Sendable {
  func stepStarted(environment: String, step: Step, total: Int)
  func output(environment: String, step: Step, line: OutputLine)
  func stepFinished(environment: String, step: Step, total: Int, status: String, duration: Double, succeeded: Bool)
  func note(environment: String, _ message: String)
}

/// How one environment's apply ended.
public struct ApplyOutcome: Sendable {
  public enum Status: String, Sendable { case succeeded, failed, interrupted, refused }
  public var environment: String
  public var status: Status
  /// Steps that completed (or were already done, from an interrupted run).
  public var completed: [Step]
  /// The step that failed, with why.
  public var failedStep: Step?
  public var reason: String
  /// Steps not run because an earlier one failed.
  public var notRun: [Step]
  /// What to do next.
  public var next: String
  public var finalSerial: Int64?

  public var succeeded: Bool { status == .succeeded }
}

/// Runs one environment's plan step by step (DESIGN.md §5): takes the lock, checks kops's
/// version and the live objects, runs each step through the ``CommandRunner`` with a journal
/// entry before and after, advances the three recorded layers as each step achieves them, and
/// always closes the internet-gateway bracket.
public struct ApplyEngine: Sendable {
  public var store: any StateStoring
  public var runner: any CommandRunner
  public var kops: String
  public var aws: String
  public var actor: StoreActor
  public var options: ApplyOptions
  public var observer: any ApplyObserver
  /// The lease's time to live (`HK_LOCK_TTL`, default 120 s); renewed every third of it.
  public var leaseTTL: TimeInterval = LeaseSettings.ttl()

  public init(
    store: any StateStoring, runner: any CommandRunner, kops: String, aws: String, actor: StoreActor, options: ApplyOptions,
    observer: any ApplyObserver
  ) {
    self.store = store
    self.runner = runner
    self.kops = kops
    self.aws = aws
    self.actor = actor
    self.options = options
    self.observer = observer
  }

  /// Applies `plan` (made for `env`, whose files the caller checked against the plan's digest).
  public func apply(_ plan: EnvironmentPlan, env: Environment, planID: String?) async -> ApplyOutcome {
    let name = env.name
    func refused(_ reason: String, _ next: String) -> ApplyOutcome {
      ApplyOutcome(environment: name, status: .refused, completed: [], failedStep: nil, reason: reason, notRun: plan.steps, next: next)
    }
    let lease: RunLease
    do {
      lease = try RunLease.acquire(name, store: store, actor: actor, ttl: leaseTTL)
    } catch let error as StoreError where !error.isLocked {
      return refused(error.localizedDescription, "fix what stopped it (above), then run 'hk apply \(name)' again; nothing ran")
    } catch {
      return refused(
        error.localizedDescription,
        "wait for the other apply (a dead one's lease lapses \(Int(leaseTTL)) s after its last renewal and the next apply takes it "
          + "over), or break it with 'hk lock unlock \(name) --force LOCK_ID'")
    }
    var run = Run(engine: self, env: env, plan: plan, planID: planID)
    run.lifecycle = lease
    run.lease = lease.keeper
    let outcome = await run.execute()
    do {
      try lease.release()
    } catch {
      observer.note(
        environment: name,
        "could not release the lock \(lease.fence.lockID): \(error.localizedDescription); "
          + "break it with 'hk lock unlock \(name) --force \(lease.fence.lockID)'")
    }
    return outcome
  }
}

/// The state of one apply in progress.
struct Run: Sendable {
  let engine: ApplyEngine
  let env: Environment
  var plan: EnvironmentPlan
  let planID: String?
  var runID: Int64 = 0
  var current: RecordedState?
  var completed: [Step] = []
  var scratch: String = ""
  var kubeconfig: String? = nil
  /// Set when `update --yes` ran inside the gateway bracket: kops's roll listing is asked once the
  /// gateway is detached (it needs no internet gateway, and the bracket stays as short as kops needs).
  var rollsToAskAfterDetach = false
  var kopsVersion: KopsVersion? = nil
  /// Whether this run already wrote its revision (later progress amends it).
  var wroteRevision = false
  /// The run's lifecycle (lease, begin, finish, release), shared with import.
  var lifecycle: RunLease? = nil
  /// The lease kept while the run lasts; its generation fences every write. It also holds the
  /// first failure to keep the lease or to journal a command: the run stops before its next step.
  var lease: LeaseKeeper? = nil
  /// The first failure to record progress (the database went away, the lease was lost): the run
  /// stops before its next step.
  var storeProblem: String? = nil
  var fence: LockInfo? { lease?.lease }
  /// The live objects the pre-flight read (what kops assigned is sent back on replace).
  var liveCluster: YAMLNode? = nil
  var liveInstanceGroups: [YAMLNode] = []
  /// The recorded objects, read once at the pre-flight and advanced with each object step.
  var recordedObjects = RecordedObjects(cluster: nil, instanceGroups: [])
  /// Whether the recorded state owed `update --yes` when the run began: the cloud then lags by
  /// earlier, already reviewed writes too, whose IAM changes this plan does not list.
  var updateOwedAtStart = false

  init(engine: ApplyEngine, env: Environment, plan: EnvironmentPlan, planID: String?) {
    self.engine = engine
    self.env = env
    self.plan = plan
    self.planID = planID
  }

  var name: String { env.name }
  var settings: EnvironmentSettings { env.settings }
  var store: any StateStoring { engine.store }
  var k: KopsArgv { KopsArgv(kops: engine.kops, cluster: settings.cluster, stateStore: settings.stateStore) }

  func outcome(_ status: ApplyOutcome.Status, failed: Step?, reason: String, next: String) -> ApplyOutcome {
    let done = Set(completed.map(\.id))
    let notRun = plan.steps.filter { !done.contains($0.id) && $0.id != failed?.id }
    return ApplyOutcome(
      environment: name, status: status, completed: completed, failedStep: failed, reason: reason, notRun: notRun, next: next,
      finalSerial: current?.serial)
  }

  mutating func execute() async -> ApplyOutcome {
    do {
      current = try store.recorded(name)
      updateOwedAtStart = current?.owesUpdate ?? false
    } catch {
      return outcome(.refused, failed: nil, reason: error.localizedDescription, next: "check the state database")
    }
    // The plan must still describe the recorded state (another apply may have run since).
    let prior = current.map { PriorState(serial: $0.serial, lineage: $0.lineage) }
    if prior != plan.prior {
      return outcome(
        .refused, failed: nil,
        reason: "the recorded state moved since the plan was made (plan: \(describe(plan.prior)), now: \(describe(prior)))",
        next: "run 'hk plan \(name)' and apply again")
    }
    do {
      guard let lifecycle else { throw StoreError.leaseLost(environment: name, lockID: "", detail: "no lease was taken") }
      runID = try lifecycle.begin(planID: planID)
    } catch {
      return outcome(
        .refused, failed: nil, reason: "the run could not be recorded: \(error.localizedDescription)",
        next: "check the state database, then run 'hk apply \(name)' again; nothing ran")
    }
    // A new 0700 directory (mkdtemp), after sweeping those a killed hk left behind.
    let parent = FileManager.default.temporaryDirectory.path
    for stale in Scratch.sweep(in: parent) { engine.observer.note(environment: name, "removed a stale scratch directory \(stale)") }
    do {
      scratch = try Scratch.create(environment: name, in: parent)
    } catch {
      return finish(.failed, failed: nil, reason: error.localizedDescription, next: "check TMPDIR")
    }
    defer { try? FileManager.default.removeItem(atPath: scratch) }

    // A plan of settings changes only runs nothing: the new settings are recorded.
    if plan.steps.isEmpty {
      if !plan.settingsChanges.isEmpty { record(note: "settings changed (\(settingsNote))") { _ in } }
      return finish(.succeeded, failed: nil, reason: "", next: "")
    }

    // Pre-flight: kops version, then the live objects.
    if let refusal = await preflight() { return refusal }

    // By index: kops's verdict after `update --yes` may change or add the rolling-update step.
    var index = 0
    while index < plan.steps.count {
      let step = plan.steps[index]
      index += 1
      if Task.isCancelled { return await interrupted(at: step) }
      if completed.contains(where: { $0.id == step.id }) { continue }
      // Never start a step that could not be recorded: the lease or the database is gone.
      if let problem = storeProblem ?? lease?.problem {
        // The gateway is never left attached because the database failed (a lost lease refuses
        // the detach: another apply owns the cluster then).
        if let closed = await closeGatewayBracket() { engine.observer.note(environment: name, closed) }
        return finish(
          .failed, failed: nil, reason: "\(problem) (before step \(step.id), \(step.kind.rawValue))",
          next: "run 'hk apply \(name)' again once the state database is reachable: the next plan contains exactly what is left")
      }
      let result = await runStep(step)
      switch result {
      case .success:
        completed.append(step)
        dropKubeconfigIfDone(after: step)
      case .interrupted:
        return await interrupted(at: step)
      case .failure(let reason):
        let closed = await closeGatewayBracket()
        let account = closed.map { " " + $0 } ?? ""
        return finish(
          .failed, failed: step, reason: reason + account,
          next: "fix the cause and run 'hk apply \(name)': the next plan contains exactly what is left")
      }
    }
    if !plan.settingsChanges.isEmpty && !wroteRevision {
      record(note: "settings changed (\(settingsNote))") { _ in }
    }
    return finish(.succeeded, failed: nil, reason: "", next: "")
  }

  /// The changed settings' names, for a revision's note.
  var settingsNote: String {
    plan.settingsChanges.map { String($0.path.dropFirst("settings.".count)) }.joined(separator: ", ")
  }

  func describe(_ p: PriorState?) -> String {
    p.map { "serial \($0.serial), lineage \($0.lineage.prefix(8))" } ?? "empty state"
  }

  mutating func finish(_ status: ApplyOutcome.Status, failed: Step?, reason: String, next: String) -> ApplyOutcome {
    let result: RunResult = status == .succeeded ? .succeeded : status == .interrupted ? .interrupted : .failed
    do {
      guard let lifecycle else { throw StoreError.leaseLost(environment: name, lockID: "", detail: "no lease was taken") }
      try lifecycle.finish(runID, result: result, message: reason)
    } catch {
      // The work is done (or stopped) but the journal does not say so: never a silent success.
      let problem = "the end of run \(runID) could not be recorded: \(error.localizedDescription)"
      return outcome(
        status == .succeeded ? .failed : status, failed: failed, reason: reason.isEmpty ? problem : reason + "; " + problem,
        next: "check the state database ('hk state show \(name) --run \(runID)' shows the run), then run 'hk apply \(name)': "
          + "the next plan contains exactly what is left")
    }
    return outcome(status, failed: failed, reason: reason, next: next)
  }

  mutating func interrupted(at step: Step) async -> ApplyOutcome {
    let closed = await closeGatewayBracket()
    return finish(
      .interrupted, failed: step, reason: "interrupted during step \(step.id) (\(step.kind.rawValue))" + (closed.map { "; " + $0 } ?? ""),
      next: "run 'hk apply \(name)' to finish: the next plan contains exactly what is left")
  }
}
