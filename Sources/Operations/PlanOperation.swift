import Config
import Foundation
import Model
import Planner
import Store

/// Loads environments and recorded state and builds the plan (the work behind `hk plan`, and
/// the first half of `hk apply`).
public struct PlanOperation: Sendable {
  /// The repository, the state location and where diagnostics go.
  public var context: OperationContext
  /// Show file and user-data contents (``PlanBuilder/plan(_:recorded:kops:aws:showContent:)``).
  public var showContent: Bool

  public init(_ context: OperationContext, showContent: Bool = false) {
    self.context = context
    self.showContent = showContent
  }

  public struct Result: Sendable {
    public var plan: Plan
    public var environments: [Environment]
    /// The environments left out of the plan for their errors.
    public var failed: [String]
  }

  /// Plans the named environments (all when empty). Environments with errors are left out of
  /// the plan's environments and listed in its ``Plan/failed`` (their errors also go to
  /// ``report`` when `reportErrors`); the others are planned.
  ///
  /// - Throws: ``Model/DiagnosticError`` when the names cannot be resolved, the store's error
  ///   when the recorded state cannot be read, ``Planner/PlanningError`` for a recorded
  ///   revision that cannot be parsed.
  public func plan(_ names: [String], reportErrors: Bool = true) throws -> Result {
    let workspace = Workspace(root: context.root)
    let resolved = try workspace.repository.resolveNames(names)
    // The recorded state is read while the files load (one core would idle otherwise); its
    // errors are reported after the files' diagnostics, as if read afterwards.
    let path = context.stateLocation
    let notice = context.notice
    let reading = Background { () throws -> [String: RecordedState] in
      try StoreAccess.openForReading(path, snapshot: true, notice: notice)?.recorded(resolved) ?? [:]
    }
    // A plan reports errors only (warnings are `hk validate`'s): the cross-environment checks,
    // which only warn, would change nothing here.
    let loaded = workspace.load(resolved: resolved, crossChecks: false)
    var failed: [FailedEnvironment] = []
    for (name, diags) in loaded.diagnostics where diags.contains(where: { $0.severity == .error }) {
      let errors = diags.filter { $0.severity == .error }
      if reportErrors { context.report(errors) }
      failed.append(FailedEnvironment(name: name, diagnostics: errors))
    }
    let recorded = try reading.value()
    defer { KeepUntilExit.keep(recorded) }
    // Plans name the executables `kops` and `aws` (never this machine's paths): apply resolves
    // them (--kops-map, --kops, HK_KOPS_MAP, HK_KOPS, then kopsPath; --aws), so a plan's digest
    // is the same on every machine.
    let showContent = self.showContent
    let planned = Parallel.map(loaded.environments) { env in
      Swift.Result { () throws(PlanningError) in
        try PlanBuilder.plan(env, recorded: recorded[env.name], showContent: showContent)
      }
    }
    var plans: [EnvironmentPlan] = []
    for p in planned { plans.append(try p.get()) }
    return Result(plan: Plan(environments: plans, failed: failed), environments: loaded.environments, failed: loaded.failed)
  }
}
