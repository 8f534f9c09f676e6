import Config
import Foundation
import Model
import Planner
import Store

/// The pre-flight of an apply (DESIGN.md §5): kops's version, then the live objects against the
/// recorded ones; objects an interrupted apply already wrote as desired are adopted.
extension Run {
  // MARK: Pre-flight

  /// Checks kops's version and compares the live objects with the recorded ones. Objects that
  /// already equal the desired ones (an apply interrupted after a write) are adopted and their
  /// steps skipped, so that no write runs twice.
  mutating func preflight() async -> ApplyOutcome? {
    let pre = Step(id: 0, kind: .validate, command: [])
    // A plan that only closes a gateway left attached needs no kops.
    guard plan.steps.contains(where: { $0.kind != .igwAttach && $0.kind != .igwDetach }) else { return nil }
    // kops version, then the live objects: the same adapter as drift and import, journaled.
    let access = LiveAccess(
      runner: journaling(pre, kind: { $0.arguments.first == "version" ? "preflight-version" : "preflight-read" }),
      kops: engine.kops, aws: engine.aws, env: env)
    let live: (cluster: YAMLNode?, igs: [YAMLNode])
    do {
      let version = try await access.checkedVersion()
      kopsVersion = version
      let objects = try await access.readObjects(version: version)
      live = (objects.cluster, objects.instanceGroups)
      liveCluster = objects.cluster
      liveInstanceGroups = objects.instanceGroups
    } catch {
      return finish(.refused, failed: nil, reason: error.message, next: "fix that, then run 'hk apply \(name)' again")
    }
    let recordedObjects: RecordedObjects
    do { recordedObjects = try RecordedObjects.parse(current) } catch {
      return finish(.refused, failed: nil, reason: error.description, next: "inspect the state with 'hk state show \(name)'")
    }
    self.recordedObjects = recordedObjects

    guard let recordedCluster = recordedObjects.cluster else {
      // Nothing recorded: the cluster must not exist yet, unless an interrupted create wrote it.
      guard let liveCluster = live.cluster else { return nil }
      // The plan creates the cluster: its manifest is what an interrupted create wrote.
      let create = plan.steps.first(where: { $0.kind.writesObjects }).flatMap { $0.kind == .clusterCreate ? $0 : nil }
      if let create, let desiredCluster = create.manifest.first,
        LiveComparison.differences(
          recordedCluster: desiredCluster, recordedIGs: Array(create.manifest.dropFirst()), liveCluster: liveCluster, liveIGs: live.igs
        ).isEmpty
      {
        // Only an earlier apply of this environment that ran 'kops create' explains it; any
        // other cluster (another state's, or one made by hand) is adopted on purpose only.
        let interrupted: Bool
        do { interrupted = try earlierRunCreatedCluster() } catch {
          return finish(
            .refused, failed: nil, reason: "cannot read \(name)'s earlier runs from the state database: \(error.localizedDescription)",
            next: "check the state location (hk state list), then run 'hk apply \(name)' again")
        }
        guard interrupted || engine.options.adopt else {
          return finish(
            .refused, failed: nil,
            reason:
              "cluster \(settings.cluster) already exists in \(settings.stateStore) as the files describe it, but nothing is recorded for \(name) and no earlier apply of \(name) created it (another state may track it)",
            next: "adopt it with 'hk import \(name)' (or record it as it is with 'hk apply \(name) --adopt'), then plan again")
        }
        engine.observer.note(
          environment: name,
          interrupted
            ? "the cluster is already in the kops state store as desired (an earlier apply was interrupted after 'kops create'): recording it and going on"
            : "the cluster is already in the kops state store as desired: recording it (--adopt) and going on")
        recordObjects(
          RecordedObjects(cluster: desiredCluster, instanceGroups: Array(create.manifest.dropFirst())), rolls: [],
          note: interrupted ? "adopted objects written by an interrupted apply" : "adopted an existing cluster (--adopt)")
        completed.append(create)
        return nil
      }
      return finish(
        .refused, failed: nil,
        reason: "cluster \(settings.cluster) already exists in \(settings.stateStore) but nothing is recorded for \(name)",
        next: "adopt it with 'hk import \(name)', then plan again")
    }
    let drift = LiveComparison.differences(
      recordedCluster: recordedCluster, recordedIGs: recordedObjects.instanceGroups, liveCluster: live.cluster, liveIGs: live.igs)
    if drift.isEmpty { return nil }
    // Differences explained by this plan's own writes (interrupted after a write): adopt them.
    var remaining = drift
    var adoptedSteps: [Step] = []
    for step in plan.steps where step.kind.writesObjects {
      guard let object = step.object else { continue }
      let related = remaining.filter { $0.object == object }
      if related.isEmpty { continue }
      if objectMatchesDesired(step, live: live) {
        remaining.removeAll { d in related.contains(d) }
        adoptedSteps.append(step)
      }
    }
    if !remaining.isEmpty && !engine.options.allowDrift {
      let fields = remaining.prefix(12).map { d in
        "  \(d.path): recorded \(d.recorded.map { $0.serialized() } ?? "absent"), live \(d.live.map { $0.serialized() } ?? "absent")"
      }.joined(separator: "\n")
      return finish(
        .refused, failed: nil,
        reason:
          "the live objects differ from the recorded state (changed outside hk):\n\(fields)\(remaining.count > 12 ? "\n  … and \(remaining.count - 12) more" : "")",
        next: "review with 'hk drift \(name)'; bring the change into git, or apply over it with --allow-drift")
    }
    if !remaining.isEmpty {
      engine.observer.note(environment: name, "applying over \(remaining.count) drifted field(s) (--allow-drift)")
    }
    for step in adoptedSteps {
      engine.observer.note(
        environment: name,
        "step \(step.id) (\(step.object?.stepObject ?? "")) is already in the kops state store as desired (an earlier apply was interrupted): recording it, not writing it again"
      )
      advanceObjects(after: step)
      completed.append(step)
    }
    return nil
  }

  /// Whether one of this environment's last runs journaled a `kops create` of the cluster: that
  /// tells a crash after the create from a cluster hk never made.
  /// A store that cannot be read is an error, never "no".
  func earlierRunCreatedCluster() throws -> Bool {
    for run in try store.runs(name, limit: 20) where run.id != runID {
      if try store.journal(runID: run.id).contains(where: { $0.kind == StepKind.clusterCreate.rawValue }) { return true }
    }
    return false
  }

  /// Whether the live object an object step writes is already what the step would write (a
  /// deleted group: already gone).
  func objectMatchesDesired(_ step: Step, live: (cluster: YAMLNode?, igs: [YAMLNode])) -> Bool {
    switch step.object {
    case .cluster?:
      guard let lc = live.cluster, let desired = step.manifest.first else { return false }
      return TreeDiff.diff(LiveNormalizer.stripVolatile(desired), LiveNormalizer.cluster(live: lc, recorded: desired)).isEmpty
    case .instanceGroup(let igName)?:
      let liveIG = live.igs.first { InstanceGroupView($0).name == igName }
      return Self.matches(desired: step.manifest.first, live: liveIG)
    default:
      return false
    }
  }

  static func matches(desired: YAMLNode?, live liveIG: YAMLNode?) -> Bool {
    switch (desired, liveIG) {
    case (nil, nil): return true  // a delete that already happened
    case (let d?, let l?): return TreeDiff.diff(LiveNormalizer.stripVolatile(d), LiveNormalizer.instanceGroup(live: l, recorded: d)).isEmpty
    default: return false
    }
  }
}
