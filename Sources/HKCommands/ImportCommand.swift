import ArgumentParser
import Config
import Executor
import Foundation
import Model
import Planner
import Store

extension HK {
  /// `hk import ENV [--force]`: adopt a running cluster: live objects → a new recorded lineage,
  /// then the plan of the desired files against what was imported.
  public struct ImportCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
      commandName: "import",
      abstract: "Adopt a running cluster: record its live objects (read through kops) as the environment's state.",
      discussion: """
        Checks 'kops version' against kopsVersion, reads the live Cluster and InstanceGroups, removes what \
        kops adds (creationTimestamp, generation, defaults it filled in), and records them under the \
        environment lock as a new revision with a new lineage (the cloud counts as updated, no rolls \
        owed; for strategy temporary whether the internet gateway is attached). Then prints the plan of \
        the desired files against the imported state: only the real differences. Refuses an environment \
        that already has recorded state unless --force.
        """)

    @OptionGroup public var global: GlobalOptions
    @Argument(help: "The environment to import.") public var environment: String
    @Flag(help: "Import even though the environment has recorded state (starts a new lineage).")
    public var force = false
    @Option(help: "Format of the plan printed afterwards: text, markdown or json.")
    public var format: OutputFormat = .text

    public init() {}

    public func run() async throws {
      let term = global.terminal
      guard Environment.isValidName(environment) else {
        throw CommandError.message("'\(environment)' is not an environment name ([a-z0-9][a-z0-9-]*)")
      }
      let loaded: LoadedEnvironments
      do {
        loaded = try Workspace(root: global.root).load([environment], validate: false)
      } catch {
        term.print(error.diagnostics)
        throw ExitCode.failure
      }
      guard let env = loaded.environments.first else {
        for (_, diagnostics) in loaded.diagnostics { term.print(diagnostics) }
        throw CommandError.message("\(environment)'s files cannot be loaded (above); fix them and run 'hk import \(environment)' again")
      }
      let problems = Validator.validate(env).filter { $0.severity == .error }
      if !problems.isEmpty {
        term.print(problems)
        // Names and identifiers that reach kops's and aws's argv are never let through.
        if problems.contains(where: { Validator.argvRules.contains($0.rule ?? "") }) {
          throw CommandError.invalidEnvironments([environment])
        }
        term.err("note: \(environment) has validation errors (above); importing anyway, fix them before 'hk apply'.\n")
      }
      let kops = try global.kopsSelection().executable(for: env.settings)
      let store = try StoreAccess.open(global.stateDBPath)
      let commandLine = (["hk"] + CommandLine.arguments.dropFirst()).joined(separator: " ")
      let importer = Importer(
        store: store, runner: SubprocessRunner(), kops: kops, aws: global.awsExecutable,
        actor: .current(command: Redaction.redact(text: commandLine)), force: force)
      let imported = try await importer.run(env)

      let message =
        "Imported \(env.name): cluster \(env.settings.cluster) with \(imported.state.instanceGroupsYAML.count) instance group"
        + "\(imported.state.instanceGroupsYAML.count == 1 ? "" : "s") from \(env.settings.stateStore) (kops \(imported.kopsVersion)), "
        + "recorded as serial \(imported.state.serial), new lineage \(imported.state.lineage.prefix(8))"
        + (imported.state.igwAttached ? "; internet gateway \(env.settings.igwID ?? "") is attached: the next apply detaches it" : "")
        + ".\n"
      let plan: EnvironmentPlan
      do {
        plan = try PlanBuilder.plan(env, recorded: imported.state)
      } catch {
        throw CommandError.message(error.description)
      }
      let wrapped = Plan(environments: [plan])
      switch format {
      case .text:
        term.out(message + "\nDesired files vs the imported state:\n\n" + PlanRenderer(color: term.color).text(wrapped))
      case .markdown:
        term.err(message)
        term.out(PlanRenderer().markdown(wrapped).joined(separator: "\n<!-- hk:part -->\n"))
      case .json:
        term.err(message)
        term.out(PlanJSON.render(wrapped))
      }
    }
  }
}

/// Adopts a running cluster into the recorded state (the work behind `hk import`).
struct Importer {
  var store: any StateStoring
  var runner: any CommandRunner
  var kops: String
  var aws: String
  var actor: StoreActor
  var force: Bool

  struct Imported {
    var state: RecordedState
    var kopsVersion: KopsVersion
  }

  /// Takes the lock, reads the live side, records it with a new lineage, releases the lock.
  func run(_ env: Environment) async throws -> Imported {
    let name = env.name
    if let current = try store.recorded(name), !force {
      throw CommandError.message(
        "\(name) already has recorded state (serial \(current.serial), lineage \(current.lineage.prefix(8))); "
          + "compare it with the cluster using 'hk drift \(name)', or replace it with the live objects and a new lineage: "
          + "'hk import \(name) --force'")
    }
    let lock: LockInfo
    do {
      lock = try store.acquireLock(name, actor: actor)
    } catch {
      throw CommandError.message("\(error.localizedDescription); wait for it to finish, then run 'hk import \(name)' again")
    }
    // Renewed while the import reads the cluster, so a slow kops does not let the lease lapse.
    let keeper = LeaseKeeper(lease: lock, store: store, ttl: LeaseSettings.ttl())
    defer { keeper.stop() }
    let runID = try? store.beginRun(environment: name, command: actor.command, planID: nil, actor: actor, fence: lock)
    do {
      let imported = try await importLocked(env, fence: lock)
      if let runID {
        try? store.finishRun(runID: runID, result: .succeeded, message: "imported as serial \(imported.state.serial)")
      }
      try? store.releaseLock(name, lockID: lock.lockID)
      return imported
    } catch {
      if let runID { try? store.finishRun(runID: runID, result: .failed, message: Redaction.redact(text: error.localizedDescription)) }
      try? store.releaseLock(name, lockID: lock.lockID)
      throw error
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
    let version: KopsVersion
    let live: LiveObjects
    let attachments: [String]?
    do {
      version = try await access.checkedVersion()
      live = try await access.readObjects(version: version)
      attachments = try await access.gatewayAttachments()
    } catch {
      throw CommandError.message(error.message)
    }
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
