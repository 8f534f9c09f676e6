import Config
import Executor
import Foundation
import Model
import Planner
import Store

/// Plans (or checks a reviewed plan against the re-plan), then applies environment by
/// environment through the ``Executor/ApplyEngine`` (the work behind `hk apply`). Asking for
/// confirmation and printing are the caller's.
public struct ApplyOperation: Sendable {
  /// The repository, the state location, kops and aws, where diagnostics go.
  public var context: OperationContext
  /// The command line, recorded with each run (redacted by the store's actor).
  public var commandLine: String
  public var options: ApplyOptions

  public init(_ context: OperationContext, commandLine: String, options: ApplyOptions) {
    self.context = context
    self.commandLine = commandLine
    self.options = options
  }

  /// What to apply: the re-plan, its environments, and the digest to record when a reviewed
  /// plan (a file or `--expect-digest`) is applied.
  public struct Ready: Sendable {
    public var plan: Plan
    public var environments: [Environment]
    public var planID: String?
    /// The environments with something to do, in order.
    public var work: [EnvironmentPlan] { plan.environments.filter(\.hasChanges) }

    /// Refuses environments whose stateStore changed (kops would work on another state store)
    /// unless `allowed`.
    public func checkStateStoreMoves(allowed: Bool) throws {
      let moved = work.filter { e in e.settingsChanges.contains { $0.path == "settings.stateStore" } }.map(\.name)
      if !moved.isEmpty && !allowed {
        throw CommandError.message(
          "stateStore changed for \(moved.joined(separator: ", ")): kops would work on another state store (the cluster's "
            + "objects are not there); if that is intended, run 'hk apply' again with --allow-state-store-change")
      }
    }
  }

  public enum Prepared: Sendable {
    /// Nothing to apply, and why (`toStderr`: a note, not output).
    case nothing(String, toStderr: Bool)
    case ready(Ready)
  }

  /// Plans `environments` (all when empty; with `changedSince`, those changed since that git
  /// ref) or, with `planFile`, re-plans the file's environments and refuses unless the re-plan
  /// is what was reviewed (``Staleness``); with `expectDigest`, refuses unless the re-plan has
  /// that digest.
  public func prepare(environments: [String], planFile: String?, changedSince: String?, expectDigest: String?) async throws
    -> Prepared
  {
    let planning = PlanOperation(context)
    var plan: Plan
    var envs: [Environment]
    if let planFile {
      let text: String
      do { text = try String(contentsOfFile: planFile, encoding: .utf8) } catch {
        throw CommandError.message(
          "cannot read the plan file \(planFile): \(error.localizedDescription); check the path, or save the plan again with 'hk plan --out FILE'"
        )
      }
      let saved: PlanJSON.Saved
      do { saved = try PlanJSON.decodeSaved(text) } catch { throw CommandError.message("\(planFile): \(error.description)") }
      let names = saved.plan.environments.map(\.name)
      if Set(names).count != names.count {
        throw CommandError.message(
          "\(planFile): an environment appears twice; nothing was run; save the plan again with 'hk plan --out FILE'")
      }
      if let missing = environments.first(where: { !names.contains($0) }) {
        throw CommandError.message(
          "\(planFile): the plan has no environment \(missing) (it has: \(names.joined(separator: ", "))); name only environments the plan has, or none to apply them all"
        )
      }
      if names.isEmpty { return .nothing("The plan \(planFile) names no environment: nothing to apply.\n", toStderr: false) }
      // The file's own digest covers all its environments; the check runs on them all, then
      // only the named ones run.
      let current = try planning.plan(names)
      if !current.failed.isEmpty { throw CommandError.invalidEnvironments(current.failed) }
      try Staleness.check(saved: saved, file: planFile, current: current.plan)
      if let expectDigest { try Staleness.check(expected: expectDigest, current: current.plan) }
      plan = current.plan
      if !environments.isEmpty { plan.environments = plan.environments.filter { environments.contains($0.name) } }
      envs = current.environments
    } else {
      var names = environments
      if let ref = changedSince {
        names = try await ChangedEnvironments.names(root: context.root, since: ref, among: environments)
        if names.isEmpty { return .nothing("No environment changed since \(ref); nothing to apply.\n", toStderr: true) }
      }
      let result = try planning.plan(names)
      if !result.failed.isEmpty { throw CommandError.invalidEnvironments(result.failed) }
      if let expectDigest { try Staleness.check(expected: expectDigest, current: result.plan) }
      plan = result.plan
      envs = result.environments
    }
    try checkKopsPresent(plan, envs: envs)
    let planID = planFile != nil || expectDigest != nil ? PlanDigest.digest(plan) : nil
    return .ready(Ready(plan: plan, environments: envs, planID: planID))
  }

  /// A missing kops is said before the plan is printed (the plan could not be applied).
  func checkKopsPresent(_ plan: Plan, envs: [Environment]) throws {
    for e in plan.environments where e.steps.contains(where: { $0.kind != .igwAttach && $0.kind != .igwDetach }) {
      guard let env = envs.first(where: { $0.name == e.name }) else { continue }
      // The kops the apply will run: the operator's selection first, `kopsPath` only after it.
      let access = LiveAccess(runner: SubprocessRunner(), kops: context.kops.executable(for: env.settings), aws: context.aws, env: env)
      if let missing = ExecutableLookup.missing(access.kops, hint: access.installAdvice) {
        throw CommandError.message("\(e.name): \(missing.localizedDescription)")
      }
    }
  }

  /// Applies `ready`'s work environment by environment (SIGINT/SIGTERM stop the running step
  /// cleanly, ``SignalGuard``), stopping after the first that does not succeed. `starting` is
  /// told before each environment, `finished` after it with the environments not applied
  /// because it failed. Returns whether every environment succeeded.
  ///
  /// - Throws: when the state location cannot be opened, or a reviewed plan cannot be saved
  ///   there (nothing has run then).
  public func apply(
    _ ready: Ready, observer: any ApplyObserver, starting: (EnvironmentPlan) -> Void,
    finished: (ApplyOutcome, _ notApplied: [String]) -> Void
  ) async throws -> Bool {
    let work = ready.work
    let store = try StoreAccess.open(context.stateLocation, notice: context.notice)
    if let planID = ready.planID {
      let bindings = ready.plan.environments.map { PlanBinding(environment: $0.name, prior: $0.prior, desiredDigest: $0.desiredDigest) }
      do {
        try store.savePlan(id: planID, planJSON: PlanJSON.render(ready.plan), bindings: bindings)
      } catch StoreError.planExists {
        // Saved by an earlier apply of the same reviewed plan (one that stopped before recording).
      } catch {
        throw RunRecordingError(
          what: "the reviewed plan \(planID) could not be saved to the state location", cause: error.localizedDescription,
          next: "nothing was run; check the state location, then run the command again")
      }
    }
    for e in work {
      guard let env = ready.environments.first(where: { $0.name == e.name }) else { continue }
      var options = options
      options.gitCommit = await GitCommit.of(env, root: context.root)
      let engine = ApplyEngine(
        store: store, runner: SubprocessRunner(), kops: context.kops.executable(for: env.settings), aws: context.aws,
        actor: .current(command: commandLine), options: options, observer: observer)
      starting(e)
      let id = ready.planID
      let outcome = await SignalGuard.run { await engine.apply(e, env: env, planID: id) }
      if !outcome.succeeded {
        finished(outcome, work.drop { $0.name != e.name }.dropFirst().map(\.name))
        return false
      }
      finished(outcome, [])
    }
    return true
  }
}
