import Config
import Executor
import Foundation
import Model
import Planner
import Store

/// Adopts a running cluster (the work behind `hk import`): live objects → a new recorded
/// lineage, under the environment's lease and as a run of its own; then the plan of the desired
/// files against what was imported.
public struct ImportOperation: Sendable {
  /// The repository, the state location, kops and aws, where the load and validation errors go.
  public var context: OperationContext
  /// Who imports (the command line, redacted).
  public var actor: StoreActor
  /// Import even though the environment has recorded state (a new lineage).
  public var force: Bool
  /// Receives notes for the user (validation errors that do not stop an import).
  public var note: @Sendable (String) -> Void

  public init(_ context: OperationContext, actor: StoreActor, force: Bool, note: @escaping @Sendable (String) -> Void) {
    self.context = context
    self.actor = actor
    self.force = force
    self.note = note
  }

  public struct Result: Sendable {
    public var environment: Environment
    public var imported: Importer.Imported
    /// The desired files vs the imported state.
    public var plan: Plan
  }

  /// Loads `name`, imports its live objects and plans the desired files against them.
  public func run(_ name: String) async throws -> Result {
    guard Environment.isValidName(name) else {
      throw CommandError.message(
        "'\(name)' is not an environment name ([a-z0-9][a-z0-9-]*); name one of the directories under environments/")
    }
    let loaded = try Workspace(root: context.root).load([name], validate: false)
    guard let env = loaded.environments.first else {
      for (_, diagnostics) in loaded.diagnostics { context.report(diagnostics) }
      throw CommandError.message("\(name)'s files cannot be loaded (above); fix them and run 'hk import \(name)' again")
    }
    let problems = Validator.validate(env).filter { $0.severity == .error }
    if !problems.isEmpty {
      context.report(problems)
      // Names and identifiers that reach kops's and aws's argv are never let through.
      if problems.contains(where: { Validator.argvRules.contains($0.rule ?? "") }) {
        throw CommandError.invalidEnvironments([name])
      }
      note("note: \(name) has validation errors (above); importing anyway, fix them before 'hk apply'.\n")
    }
    let importer = Importer(
      store: try StoreAccess.open(context.stateLocation, notice: context.notice), runner: SubprocessRunner(),
      kops: context.kops.executable(for: env.settings),
      aws: context.aws,
      actor: actor, force: force)
    let imported = try await importer.run(env)
    let plan = try PlanBuilder.plan(env, recorded: imported.state)
    return Result(environment: env, imported: imported, plan: Plan(environments: [plan]))
  }
}

/// Records a running cluster's live objects as an environment's state (built by ``ImportOperation``).
public struct Importer: Sendable {
  public var store: any StateStoring
  public var runner: any CommandRunner
  public var kops: String
  public var aws: String
  public var actor: StoreActor
  public var force: Bool

  public struct Imported: Sendable {
    public var state: RecordedState
    public var kopsVersion: KopsVersion
  }

  /// Takes the lease, reads the live side, records it with a new lineage, releases the lease:
  /// one run (``RunLease``), like an apply's.
  public func run(_ env: Environment) async throws -> Imported {
    let name = env.name
    if let current = try store.recorded(name), !force {
      throw CommandError.message(
        "\(name) already has recorded state (serial \(current.serial), lineage \(current.lineage.prefix(8))); "
          + "compare it with the cluster using 'hk drift \(name)', or replace it with the live objects and a new lineage: "
          + "'hk import \(name) --force'")
    }
    let lease: RunLease
    do {
      // Renewed while the import reads the cluster, so a slow kops does not let the lease lapse.
      lease = try RunLease.acquire(name, store: store, actor: actor)
    } catch {
      throw CommandError.message("\(error.localizedDescription); wait for it to finish, then run 'hk import \(name)' again")
    }
    return try await lease.perform(command: "hk import \(name)") { fence in
      try await importLocked(env, fence: fence)
    } summary: {
      "imported as serial \($0.state.serial)"
    }
  }

  func importLocked(_ env: Environment, fence: LockInfo? = nil) async throws -> Imported {
    let name = env.name
    let settings = env.settings
    // Read again under the lock: an apply may have recorded since the check above.
    let current = try store.recorded(name)
    if let current, !force {
      throw CommandError.message("\(name) was recorded meanwhile (serial \(current.serial)); see 'hk drift \(name)'")
    }
    let access = LiveAccess(runner: runner, kops: kops, aws: aws, env: env)
    let version = try await access.checkedVersion()
    let live = try await access.readObjects(version: version)
    let attachments = try await access.gatewayAttachments()
    guard let liveCluster = live.cluster else {
      throw CommandError.message(
        "cluster \(settings.cluster) does not exist in \(settings.stateStore), so there is nothing to import; "
          + "check cluster and stateStore in \(env.settingsFile), or create it with 'hk apply \(name)'")
    }
    let imported = Self.normalise(live: LiveObjects(cluster: liveCluster, instanceGroups: live.instanceGroups), desired: env)
    let vpc = ClusterView(imported.cluster).networkID ?? env.clusterView.networkID
    let igwAttached = attachments.map { a in vpc.map { a.contains($0) } ?? !a.isEmpty } ?? false
    let draft = RecordedStateDraft(
      environment: name, clusterYAML: YAMLEmitter.emit(imported.cluster),
      instanceGroupsYAML: imported.instanceGroups.map { YAMLEmitter.emit($0) }, cloudUpdated: true, pendingRolls: [],
      igwAttached: igwAttached, kopsVersion: version.description, desiredDigest: nil, settings: env.settings.recorded)
    let prior = current.map { PriorState(serial: $0.serial, lineage: $0.lineage) }
    let state = try store.record(
      draft, expectedPrior: prior, actor: actor, note: "imported from the live cluster (kops \(version))", planID: nil,
      newLineage: true, fence: fence)
    return Imported(state: state, kopsVersion: version)
  }

  /// The live objects without what kops adds or rewrites (``LiveNormalizer``, against the
  /// desired objects), so that a plan afterwards shows only real differences.
  static func normalise(live: LiveObjects, desired: Environment) -> (cluster: YAMLNode, instanceGroups: [YAMLNode]) {
    let cluster = live.cluster.map { LiveNormalizer.cluster(live: $0, recorded: desired.cluster) } ?? desired.cluster
    let desiredByName = Dictionary(
      desired.instanceGroups.compactMap { n in InstanceGroupView(n).name.map { ($0, n) } }, uniquingKeysWith: { a, _ in a })
    let igs = live.instanceGroups.map { ig in
      LiveNormalizer.instanceGroup(live: ig, recorded: InstanceGroupView(ig).name.flatMap { desiredByName[$0] })
    }
    return (cluster, igs)
  }
}
