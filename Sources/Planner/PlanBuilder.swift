import Config
import Model

/// A problem that stops planning an environment (its recorded state cannot be read).
public struct PlanningError: HKError, CustomStringConvertible {
  public var environment: String
  public var message: String
  public init(environment: String, message: String) {
    self.environment = environment
    self.message = message
  }
  public var description: String { "environment \(environment): \(message)" }
  public var errorDescription: String? { description }
  public var nextStep: String { NextStep.of(message, otherwise: "inspect it with 'hk state show \(environment)'") }
}

/// The recorded objects parsed back into trees.
public struct RecordedObjects: Sendable {
  public var cluster: YAMLNode?
  public var instanceGroups: [YAMLNode]
  public init(cluster: YAMLNode?, instanceGroups: [YAMLNode]) {
    self.cluster = cluster
    self.instanceGroups = instanceGroups
  }

  /// Parses a recorded revision's YAML (written by hk, so a failure means a damaged database).
  ///
  /// A revision that cannot be read is an error, never an empty state: planned over as empty,
  /// it would create what exists and then be recorded over. Only an empty `clusterYAML` (a
  /// revision written before any object, e.g. a gateway attach) holds no objects.
  ///
  /// With `desired`, a recorded object whose text parses into one of the desired objects node
  /// for node (``Config/YAMLParser/matches(_:_:limits:)``: what an apply of these files
  /// recorded) is that tree, taken without parsing the text; one that differs from the desired
  /// object at its place only in a few scalar values (the files were edited since) is that tree
  /// with the recorded values put in. Either way the result is the parse's, marks and the
  /// quoting of equal values aside, which nothing planned from it reads.
  public static func parse(_ state: RecordedState?, desired: Environment? = nil) throws(PlanningError) -> RecordedObjects {
    guard let state else { return RecordedObjects(cluster: nil, instanceGroups: []) }
    do {
      let file = "state:\(state.environment)@\(state.serial)"
      guard !state.clusterYAML.isEmpty else {
        if !state.instanceGroupsYAML.isEmpty { throw Damage("it holds instance groups but no cluster") }
        return RecordedObjects(cluster: nil, instanceGroups: [])
      }
      let cluster = try object(state.clusterYAML, file: file, what: "the cluster", like: desired.map { [$0.cluster] } ?? [])
      let desiredIGs = desired?.instanceGroups ?? []
      var igs: [YAMLNode] = []
      for (i, text) in state.instanceGroupsYAML.enumerated() {
        // The desired group at the same position first (an apply records them in file order).
        let like = i < desiredIGs.count ? Array(desiredIGs[i...] + desiredIGs[..<i]) : desiredIGs
        igs.append(try object(text, file: file, what: "instance group \(i + 1)", like: like))
      }
      return RecordedObjects(cluster: cluster, instanceGroups: igs)
    } catch {
      throw PlanningError(
        environment: state.environment,
        message: "recorded revision \(state.serial) cannot be read (\(error)); the state database is damaged, "
          + "so hk plans and records nothing over it. Inspect it with 'hk state show \(state.environment)', then restore "
          + "the state database from a copy (docs/STATE.md) or adopt the running cluster anew with "
          + "'hk import \(state.environment) --force'")
    }
  }

  /// One recorded object: exactly one YAML document, a mapping; the first of `candidates` that
  /// the text parses into node for node, without parsing it; else the first candidate with the
  /// few values an edit of the files changed since the apply replaced
  /// (``Config/YAMLParser/matching(_:_:maxChangedScalars:limits:)``), again without parsing it.
  private static func object(_ text: String, file: String, what: String, like candidates: [YAMLNode]) throws -> YAMLNode {
    var near: YAMLNode? = nil
    for (i, c) in candidates.enumerated() where c.isMapping {
      if i == 0, let m = YAMLParser.matching(text, c, maxChangedScalars: maxChangedScalars) {
        if m.changedScalars == 0 { return m.tree }
        near = m.tree
      } else if i > 0 && YAMLParser.matches(text, c) {
        return c
      }
    }
    if let near { return near }
    let docs = try YAMLParser.parse(text, file: file)
    guard docs.count == 1, let doc = docs.first, doc.isMapping else {
      throw Damage("\(what) is not one YAML mapping")
    }
    return doc
  }

  /// The most values a recorded object may differ by from the desired one and still be taken
  /// from it (more: it is parsed).
  static let maxChangedScalars = 32

  /// What is wrong with a recorded revision.
  private struct Damage: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
  }
}

/// Diffs an environment's desired configuration against its recorded state into changes, and
/// orders the steps that apply them (DESIGN.md §4–§5), including what lower layers still owe.
public enum PlanBuilder {
  /// Plans one environment.
  ///
  /// - Parameters:
  ///   - env: the desired configuration (base merged).
  ///   - recorded: the latest recorded revision, or nil for an empty state.
  ///   - showContent: Show file and user-data contents (redacted) instead of a digest and a length.
  /// - Returns: The changes, the ordered steps and what the recorded layers still owe. Steps name
  ///   the executables `kops` and `aws`, never a path: the applying machine resolves them, and
  ///   the plan (and its digest) is the same on every machine.
  /// - Throws: ``PlanningError`` when the recorded YAML cannot be read back.
  public static func plan(
    _ env: Environment, recorded: RecordedState?, showContent: Bool = false
  ) throws(PlanningError) -> EnvironmentPlan {
    let objects = try RecordedObjects.parse(recorded, desired: env)
    let settings = env.settings
    let desiredIGs = env.instanceGroupViews
    var changes: [Change] = []
    var owed: [OwedWork] = []
    let recordedByName = Dictionary(
      objects.instanceGroups.compactMap { n in InstanceGroupView(n).name.map { ($0, n) } }, uniquingKeysWith: { a, _ in a })

    // MARK: changes
    // A created object's value is redacted as it is made (``Model/Redaction/plannedJSON(_:concealing:)``:
    // the subtrees of a shared base once per run), exactly as ``redacted(_:showContent:)`` would
    // redact its JSON; the changes at these indices are not redacted again at the end.
    var redactedAlready = Set<Int>()
    func appendCreate(_ change: Change, _ object: YAMLNode) {
      var c = change
      if object.storageIdentity != nil {
        // A collection: its path (`cluster[…]`, `instancegroup[…]`) conceals no content, only a
        // string's would.
        c.after = Redaction.plannedJSON(object, concealing: !showContent)
        redactedAlready.insert(changes.count)
      } else {
        c.after = object.json
      }
      changes.append(c)
    }
    var clusterChanged = false
    var igCreates: [String] = []
    var igUpdates: [String] = []
    var igDeletes: [String] = []
    if let recordedCluster = objects.cluster {
      let c = clusterChanges(recorded: recordedCluster, desired: env.cluster, desiredIGs: desiredIGs, kops: settings.kopsVersion)
      clusterChanged = !c.isEmpty
      changes += c
      for ig in env.instanceGroups {
        guard let name = InstanceGroupView(ig).name else { continue }
        if let before = recordedByName[name] {
          let c = instanceGroupChanges(name: name, recorded: before, desired: ig)
          if !c.isEmpty {
            igUpdates.append(name)
            changes += c
          }
        } else {
          igCreates.append(name)
          appendCreate(
            Change(
              category: .instancegroup, action: .create, path: "instancegroup[\(name)]", before: nil, after: nil,
              object: .instanceGroup(name)), ig)
          // A new group with its own instance profile: the profile is an IAM grant to review.
          if let profile = ig[path: "spec", "iam", "profile"], !profile.isNull {
            changes.append(
              Change(
                category: .iam, action: .create, path: "instancegroup[\(name)].spec.iam.profile", before: nil, after: profile.json,
                widening: true, object: .instanceGroup(name)))
          }
        }
      }
      let desiredNames = Set(desiredIGs.compactMap(\.name))
      for ig in objects.instanceGroups {
        guard let name = InstanceGroupView(ig).name, !desiredNames.contains(name) else { continue }
        igDeletes.append(name)
        changes.append(
          Change(
            category: .instancegroup, action: .delete, path: "instancegroup[\(name)]", before: ig.json, after: nil,
            object: .instanceGroup(name)))
      }
    } else {
      appendCreate(Change(category: .spec, action: .create, path: "cluster[\(settings.cluster)]", before: nil, after: nil), env.cluster)
      for ig in env.instanceGroups {
        let name = InstanceGroupView(ig).name ?? "?"
        igCreates.append(name)
        appendCreate(
          Change(
            category: .instancegroup, action: .create, path: "instancegroup[\(name)]", before: nil, after: nil, object: .instanceGroup(name)
          ), ig)
      }
    }

    // A kops upgrade: every kops release ships a different nodeup, so the kops that runs
    // `update --yes` rewrites every launch template (DESIGN.md §5).
    var upgrades = false
    if objects.cluster != nil, let last = recorded?.updatedByKops.flatMap({ KopsVersion($0) }),
      settings.kopsCapabilities.rollsEveryGroup(afterUpdateBy: last)
    {
      upgrades = true
      changes.append(
        Change(
          category: .upgrade, action: .update, path: "kopsVersion", before: .string(last.description),
          after: .string(settings.kopsVersion.description), rolls: desiredIGs.compactMap(\.name).sorted()))
      if settings.kopsCapabilities.upgradeNeedsReview(from: last) {
        owed.append(.upgradeReview(from: last, to: settings.kopsVersion, cluster: settings.cluster, stateStore: settings.stateStore))
      }
    }
    // Settings recorded with the last revision vs the files (none before hk recorded them).
    if let recorded, !recorded.isEmpty, let was = recorded.settings {
      changes += settingsChanges(recorded: was, desired: settings.recorded)
    }

    // MARK: steps
    let k = KopsArgv(kops: "kops", cluster: settings.cluster, stateStore: settings.stateStore)
    let a = AWSArgv(aws: "aws", region: settings.region, profile: settings.profile)
    let vpc = env.clusterView.networkID ?? ""
    let scratch = Step.scratchPlaceholder
    var steps: [Step] = []
    func add(
      _ kind: StepKind, _ command: [String], disruptive: Bool = false, object: ObjectAddress? = nil, igs: [String] = [],
      rolls: [String] = [], manifest: [YAMLNode] = [], recordedObject: YAMLNode? = nil
    ) {
      steps.append(
        Step(
          id: steps.count + 1, kind: kind, command: command, disruptive: disruptive, object: object, instanceGroups: igs, rolls: rolls,
          manifest: manifest, recordedObject: recordedObject))
    }
    // The rolls an object's write makes owed: its own changes' (a kops upgrade's are the cluster's).
    func rollsOwed(by object: ObjectAddress) -> [String] {
      changes.filter { $0.object == object }.flatMap(\.rolls)
    }
    let desiredByName = Dictionary(
      env.instanceGroups.compactMap { n in InstanceGroupView(n).name.map { ($0, n) } }, uniquingKeysWith: { a, _ in a })

    let usesTemporaryIGW = settings.igwStrategy == .temporary
    let igwID = settings.igwID ?? "<internetGateway.id>"
    if let recorded, recorded.igwAttached, usesTemporaryIGW {
      owed.append(.gatewayLeftAttached(gateway: igwID))
      changes.append(
        Change(
          category: .igw, action: .update, path: "internetGateway[\(igwID)]", before: .string("attached"), after: .string("detached"),
          object: .internetGateway(igwID)))
      add(.igwDetach, a.detach(igw: igwID, vpc: vpc), object: .internetGateway(igwID))
    }

    let isCreate = objects.cluster == nil
    if isCreate {
      // kops splits a file on "\n---\n": the cluster and its groups go in one manifest.
      add(.clusterCreate, k.create(file: "\(scratch)/cluster.yaml"), object: .cluster, manifest: [env.cluster] + env.instanceGroups)
    } else {
      if clusterChanged {
        add(
          .clusterReplace, k.replace(file: "\(scratch)/cluster.yaml", force: false), object: .cluster, rolls: rollsOwed(by: .cluster),
          manifest: [env.cluster], recordedObject: objects.cluster)
      }
      for n in igCreates {
        add(
          .instanceGroupCreate, k.replace(file: "\(scratch)/instancegroup-\(n).yaml", force: true), object: .instanceGroup(n),
          rolls: rollsOwed(by: .instanceGroup(n)), manifest: desiredByName[n].map { [$0] } ?? [])
      }
      for n in igUpdates {
        add(
          .instanceGroupReplace, k.replace(file: "\(scratch)/instancegroup-\(n).yaml", force: false), object: .instanceGroup(n),
          rolls: rollsOwed(by: .instanceGroup(n)), manifest: desiredByName[n].map { [$0] } ?? [], recordedObject: recordedByName[n])
      }
      for n in igDeletes {
        add(.instanceGroupDelete, k.deleteInstanceGroup(n), disruptive: true, object: .instanceGroup(n), recordedObject: recordedByName[n])
      }
    }
    let wroteObjects = steps.contains { $0.kind.writesObjects }
    let cloudLags = recorded?.owesUpdate ?? false
    if cloudLags && !wroteObjects {
      owed.append(.cloudLags(serial: recorded?.serial ?? 0))
    }
    let needsUpdate = wroteObjects || cloudLags || upgrades
    if needsUpdate {
      if usesTemporaryIGW {
        changes.append(
          Change(
            category: .igw, action: .update, path: "internetGateway[\(igwID)]", before: .string("detached"),
            after: .string("attached during kops update --yes, then detached"), object: .internetGateway(igwID), gatewayBracket: true))
        add(.igwAttach, a.attach(igw: igwID, vpc: vpc), object: .internetGateway(igwID))
      }
      let overrides = settings.igwStrategy == .lifecycleIgnore ? ["InternetGateway=Ignore"] : []
      // A kops upgrade's rolls are owed once kops updated the cloud (no object write records them).
      let upgradeRolls = changes.filter { $0.category == .upgrade }.flatMap(\.rolls)
      add(.kopsUpdate, k.update(yes: true, lifecycleOverrides: overrides), rolls: upgradeRolls)
      steps[steps.count - 1].changesIAM = changes.contains { $0.category == .iam }
      if usesTemporaryIGW { add(.igwDetach, a.detach(igw: igwID, vpc: vpc), object: .internetGateway(igwID)) }
    }

    let desiredNames = Set(desiredIGs.compactMap(\.name))
    var rolls = Set(changes.flatMap(\.rolls))
    let pending = Set(recorded?.pendingRolls ?? [])
    if !pending.isEmpty {
      let owedRolls = pending.subtracting(rolls).intersection(desiredNames)
      if !owedRolls.isEmpty { owed.append(.rollsOwed(owedRolls.sorted())) }
    }
    rolls.formUnion(pending)
    rolls = rolls.intersection(desiredNames).subtracting(igCreates)
    if isCreate { rolls = [] }
    // What kops's dry run and NeedsUpdate listing after `update --yes` are compared with.
    if let i = steps.firstIndex(where: { $0.kind == .kopsUpdate }) { steps[i].predictedRolls = rolls.sorted() }
    if !rolls.isEmpty {
      if settings.rollingUpdate == .auto {
        add(.rollingUpdate, k.rollingUpdate(yes: true, instanceGroups: rolls.sorted()), disruptive: true, igs: rolls.sorted())
      } else {
        owed.append(.manualRolls(cluster: settings.cluster, instanceGroups: rolls.sorted()))
      }
    }
    // Layer 4: an apply that stopped during (or before) its validate left the cluster
    // unvalidated since kops last changed it; validating is then all that is left to do.
    let owesValidation = recorded?.owesValidation ?? false
    let validates = needsUpdate || steps.contains(where: { $0.kind == .rollingUpdate })
    if owesValidation && !validates {
      owed.append(.validationOwed)
    }
    if validates || owesValidation {
      add(.validate, k.validate())
    }

    return EnvironmentPlan(
      name: env.name, cluster: settings.cluster,
      prior: recorded.flatMap { $0.isEmpty && $0.serial == 0 ? nil : PriorState(serial: $0.serial, lineage: $0.lineage) },
      desiredDigest: env.desiredDigest,
      changes: changes.indices.map { redactedAlready.contains($0) ? changes[$0] : redacted(changes[$0], showContent: showContent) },
      steps: steps, owed: owed,
      kopsEnvironment: settings.kopsVariables)
  }

  /// `settings.KEY` changes between two ``Model/EnvironmentSettings/recorded`` maps.
  static func settingsChanges(recorded: [String: String], desired: [String: String]) -> [Change] {
    Set(recorded.keys).union(desired.keys).sorted().compactMap { key in
      let before = recorded[key]
      let after = desired[key]
      guard before != after else { return nil }
      let action: ChangeAction = before == nil ? .create : after == nil ? .delete : .update
      return Change(
        category: .settings, action: action, path: "settings.\(key)", before: before.map(JSONValue.string),
        after: after.map(JSONValue.string), object: .settings)
    }
  }

  static func redacted(_ c: Change, showContent: Bool = false) -> Change {
    var c = c
    if showContent {
      c.before = c.before.map(Redaction.redact)
      c.after = c.after.map(Redaction.redact)
    } else {
      c.before = c.before.map { Redaction.redact($0, concealingContentAt: c.path) }
      c.after = c.after.map { Redaction.redact($0, concealingContentAt: c.path) }
    }
    return c
  }

  // MARK: Cluster

  static let loggingPaths: Set<String> = [
    "spec.docker.logDriver", "spec.kubelet.containerLogMaxSize", "spec.kubelet.containerLogMaxFiles",
  ]

  static func clusterChanges(recorded: YAMLNode, desired: YAMLNode, desiredIGs: [InstanceGroupView], kops: KopsVersion) -> [Change] {
    var changes: [Change] = []
    // IAM: per statement
    let rPolicies = recorded[path: "spec", "additionalPolicies"]
    let dPolicies = desired[path: "spec", "additionalPolicies"]
    changes += IAMDiff.changes(recorded: rPolicies, desired: dPolicies)
    // logOpt: as a key=value map
    let rOpt = recorded[path: "spec", "docker", "logOpt"]
    let dOpt = desired[path: "spec", "docker", "logOpt"]
    let r = withoutPartsDiffedApart(recorded)
    let d = withoutPartsDiffedApart(desired)
    let version = kops
    func context(_ sub: [String], _ f: FieldDiff?) -> RollRules.Context {
      RollRules.Context(subPath: sub, before: f?.before, after: f?.after, cluster: desired, kops: version)
    }
    let allRolls = RollRules.rolls(clusterSpecKey: "docker", context: context(["logOpt"], nil), instanceGroups: desiredIGs)
    changes += logOptChanges(recorded: rOpt, desired: dOpt, rolls: allRolls)

    for f in TreeDiff.diff(r, d) {
      // an emptied parent (e.g. `docker: {}` after logOpt moved out) is not a change of its own
      if let b = f.before, let a = f.after, b.pairs?.isEmpty == true || a.pairs?.isEmpty == true, b.isMapping, a.isMapping {
        continue
      }
      let specKey = f.keys.count >= 2 && f.keys[0] == "spec" ? f.keys[1] : nil
      let rolls =
        specKey.map { RollRules.rolls(clusterSpecKey: $0, context: context(Array(f.keys.dropFirst(2)), f), instanceGroups: desiredIGs) }
        ?? []
      let category: ChangeCategory =
        loggingPaths.contains(f.path) || (f.path == "spec.docker" || f.path == "spec.kubelet") && isLoggingOnly(f) ? .logging : .spec
      let change = Change(category: category, action: f.action, path: f.path, before: f.before?.json, after: f.after?.json, rolls: rolls)
      changes.append(IAMFields.classify(change, keys: f.keys, instanceGroup: false))
    }
    return changes
  }

  /// `cluster` without `spec.additionalPolicies` and `spec.docker.logOpt` (each diffed apart):
  /// what `remove(path:)` of one and then the other leaves, with `spec` copied once, and
  /// `cluster` itself when it holds neither (so its subtrees keep their storage for
  /// ``TreeDiff``).
  static func withoutPartsDiffedApart(_ cluster: YAMLNode) -> YAMLNode {
    guard let spec = cluster["spec"], case .mapping(let pairs) = spec.content else { return cluster }
    let docker = spec["docker"]
    guard spec["additionalPolicies"] != nil || docker?["logOpt"] != nil else { return cluster }
    // One pass over `spec`'s pairs: what `remove("additionalPolicies")`, then `docker` without
    // `logOpt` set in its place, leave (a pair keeps its key, key mark and place; `docker` its mark).
    // Only the first `docker` pair is `spec["docker"]`, as `set` changes only the first.
    var kept: [YAMLPair] = []
    kept.reserveCapacity(pairs.count)
    var dockerSeen = false
    for p in pairs where p.key != "additionalPolicies" {
      guard !dockerSeen, p.key == "docker" else {
        kept.append(p)
        continue
      }
      dockerSeen = true
      if case .mapping(let d) = p.value.content, d.contains(where: { $0.key == "logOpt" }) {
        var q = p
        q.value = YAMLNode(.mapping(d.filter { $0.key != "logOpt" }), mark: p.value.mark)
        kept.append(q)
      } else {
        kept.append(p)
      }
    }
    var out = cluster
    out.set("spec", YAMLNode(.mapping(kept), mark: spec.mark))
    return out
  }

  /// A whole `docker`/`kubelet` block added or removed that holds only logging keys.
  static func isLoggingOnly(_ f: FieldDiff) -> Bool {
    let node = f.after ?? f.before
    let keys = Set(node?.pairs?.map(\.key) ?? [])
    return !keys.isEmpty && keys.isSubset(of: ["logDriver", "logOpt", "containerLogMaxSize", "containerLogMaxFiles"])
  }

  /// `spec.docker.logOpt` compared as a `key=value` map (order-insensitive).
  static func logOptChanges(recorded: YAMLNode?, desired: YAMLNode?, rolls: [String]) -> [Change] {
    func map(_ n: YAMLNode?) -> [(String, String)] {
      (n?.items ?? []).compactMap(\.text).map { item in
        // ASCII text (nearly every option) splits at its first `=` byte, which is where the first
        // `=` Character is: only a non-ASCII scalar can join a following mark to it.
        if item.utf8.allSatisfy({ $0 < 0x80 }) {
          guard let eq = item.utf8.firstIndex(of: 0x3D) else { return (item, "") }
          return (String(item[..<eq]), String(item[item.utf8.index(after: eq)...]))
        }
        if let eq = item.firstIndex(of: "=") {
          return (String(item[..<eq]), String(item[item.index(after: eq)...]))
        }
        return (item, "")
      }
    }
    let before = map(recorded)
    let after = map(desired)
    var out: [Change] = []
    for (k, v) in after {
      let old = before.first { $0.0 == k }?.1
      if old == v { continue }
      out.append(
        Change(
          category: .logging, action: old == nil ? .create : .update, path: "spec.docker.logOpt[\(k)]",
          before: old.map(JSONValue.string), after: .string(v), rolls: rolls))
    }
    for (k, v) in before where !after.contains(where: { $0.0 == k }) {
      out.append(
        Change(category: .logging, action: .delete, path: "spec.docker.logOpt[\(k)]", before: .string(v), after: nil, rolls: rolls))
    }
    return out
  }

  // MARK: Instance groups

  static func instanceGroupChanges(name: String, recorded: YAMLNode, desired: YAMLNode) -> [Change] {
    TreeDiff.diff(recorded, desired, path: "instancegroup[\(name)]").map { f in
      let specKey = f.keys.count >= 2 && f.keys[0] == "spec" ? f.keys[1] : nil
      let rolls = specKey.map { RollRules.rollsInstanceGroup(specKey: $0) } ?? false
      let change = Change(
        category: .instancegroup, action: f.action, path: f.path, before: f.before?.json, after: f.after?.json, rolls: rolls ? [name] : [],
        object: .instanceGroup(name))
      return IAMFields.classify(change, keys: f.keys, instanceGroup: true)
    }
  }
}
