/// A plan: for each environment, the changes from recorded to desired state and the ordered steps
/// that achieve them (and whatever a lower layer still owes). A pure value; renderers turn it
/// into text, markdown or the `format_version` "1" JSON of DESIGN.md §4.
public struct Plan: Sendable, Hashable {
  public static let formatVersion = "1"
  public var environments: [EnvironmentPlan]
  /// Environments asked for that could not be planned (they failed to load or validate), with
  /// their errors: renderers list them so that a plan never looks clean while one is broken.
  public var failed: [FailedEnvironment]
  public init(environments: [EnvironmentPlan], failed: [FailedEnvironment] = []) {
    self.environments = environments
    self.failed = failed
  }

  public var hasChanges: Bool { environments.contains { $0.hasChanges } }
  public var totalChanges: Int { environments.reduce(0) { $0 + $1.changes.count } }
  public var totalSteps: Int { environments.reduce(0) { $0 + $1.steps.count } }
}

/// An environment that failed to load or validate, so it has no plan.
public struct FailedEnvironment: Sendable, Hashable {
  public var name: String
  /// Its errors (warnings left out), as loading and validation reported them.
  public var diagnostics: [Diagnostic]
  public init(name: String, diagnostics: [Diagnostic]) {
    self.name = name
    self.diagnostics = diagnostics
  }
}

/// The recorded revision a plan was made against (nil serial/lineage: empty state).
public struct PriorState: Sendable, Hashable {
  public var serial: Int64
  public var lineage: String
  public init(serial: Int64, lineage: String) {
    self.serial = serial
    self.lineage = lineage
  }
}

/// One environment's part of a plan.
public struct EnvironmentPlan: Sendable, Hashable {
  public var name: String
  public var cluster: String
  /// The recorded revision diffed against; nil when nothing is recorded yet.
  public var prior: PriorState?
  /// Digest of the desired files the plan was made from (binds saved plans).
  public var desiredDigest: String
  public var changes: [Change]
  public var steps: [Step]
  /// Why steps exist without changes (e.g. the last apply stopped before kops update), and
  /// what the user still owes (a manual roll, a kops upgrade to review).
  public var owed: [OwedWork]
  /// Variables every kops call of this environment gets (its AWS profile and region).
  public var kopsEnvironment: [String: String]

  public init(
    name: String, cluster: String, prior: PriorState?, desiredDigest: String, changes: [Change], steps: [Step],
    owed: [OwedWork] = [], kopsEnvironment: [String: String] = [:]
  ) {
    self.name = name
    self.cluster = cluster
    self.prior = prior
    self.desiredDigest = desiredDigest
    self.changes = changes
    self.steps = steps
    self.owed = owed
    self.kopsEnvironment = kopsEnvironment
  }

  public var hasChanges: Bool { !changes.isEmpty || !steps.isEmpty }
  /// The instance groups this plan rolls, sorted.
  public var rolls: [String] { Array(Set(changes.flatMap(\.rolls))).sorted() }
  public var wideningCount: Int { changes.filter(\.widening).count }
  /// Changes of the `settings` category (each gets a review banner).
  public var settingsChanges: [Change] { changes.filter { $0.category == .settings } }
}

/// What a change is about; decides rendering groups and roll rules.
///
/// `settings`: an `environment.yaml` setting hk records with each revision changed
/// (`settings.stateStore`, `settings.aws.profile`, …): nothing rolls, but a reviewer must see it
/// (docs/SECURITY.md).
public enum ChangeCategory: String, Sendable, Hashable, CaseIterable, Codable {
  case spec, iam, logging, instancegroup, igw
  /// A kops upgrade: `kopsVersion` differs from the kops that last ran `update --yes`.
  case upgrade
  /// A change of what environment.yaml tells hk (stateStore, AWS profile/region, gateway, kopsPath).
  case settings
}

public enum ChangeAction: String, Sendable, Hashable, Codable {
  case create, update, delete
}

/// One field-level change between recorded and desired state.
public struct Change: Sendable, Hashable {
  public var category: ChangeCategory
  public var action: ChangeAction
  /// `spec.egressProxy.excludes`, `spec.subnets[name=a].cidr`, `instancegroup[nodes-a].spec.machineType`.
  public var path: String
  /// The object the change is about (the path starts with its ``ObjectAddress/pathPrefix``).
  public var object: ObjectAddress
  /// The gateway attached around `kops update --yes` and detached after it (strategy
  /// temporary): a means of the apply, not a change of what is recorded.
  public var gatewayBracket: Bool
  public var before: JSONValue?
  public var after: JSONValue?
  /// Instance groups this change makes roll.
  public var rolls: [String]
  /// An IAM change that adds privilege.
  public var widening: Bool

  public init(
    category: ChangeCategory, action: ChangeAction, path: String, before: JSONValue?, after: JSONValue?,
    rolls: [String] = [], widening: Bool = false, object: ObjectAddress = .cluster, gatewayBracket: Bool = false
  ) {
    self.category = category
    self.action = action
    self.path = path
    self.object = object
    self.gatewayBracket = gatewayBracket
    self.before = before
    self.after = after
    self.rolls = rolls
    self.widening = widening
  }
}

/// The kinds of step, in the order DESIGN.md §5 runs them.
public enum StepKind: String, Sendable, Hashable, CaseIterable, Codable {
  case clusterCreate = "cluster-create"
  case clusterReplace = "cluster-replace"
  case instanceGroupCreate = "instancegroup-create"
  case instanceGroupReplace = "instancegroup-replace"
  case instanceGroupDelete = "instancegroup-delete"
  case igwAttach = "igw-attach"
  case kopsUpdate = "kops-update"
  case igwDetach = "igw-detach"
  case rollingUpdate = "rolling-update"
  case validate

  /// Steps that write objects to the kops state store (the first layer).
  public var writesObjects: Bool {
    switch self {
    case .clusterCreate, .clusterReplace, .instanceGroupCreate, .instanceGroupReplace, .instanceGroupDelete: true
    default: false
    }
  }
}

/// One command of a plan, with what the executor needs to run it.
///
/// Equality is the reviewed step's (what plan JSON shows: id, kind, command, disruptive, object,
/// instance groups): the payload (``rolls``, ``predictedRolls``, ``changesIAM``, ``manifest``,
/// ``recordedObject``) comes from the desired files and the recorded revision the plan's digest
/// binds (apply runs a re-plan, never steps read from a file).
public struct Step: Sendable {
  public var id: Int
  public var kind: StepKind
  /// The argv as it will run. A manifest file argument is `<scratch>/NAME.yaml`: apply writes
  /// ``manifest`` there.
  public var command: [String]
  /// Replaces nodes or interrupts workloads.
  public var disruptive: Bool
  /// The object this step writes (object steps) or attaches/detaches (gateway steps).
  public var object: ObjectAddress?
  /// For rolling-update: the instance groups rolled.
  public var instanceGroups: [String]
  /// The instance groups whose roll is owed once this step succeeded: an object write's
  /// changes' rolls; for `kops update --yes`, a kops upgrade's.
  public var rolls: [String]
  /// For `kops update --yes`: the instance groups the plan predicts to roll (its changes' rolls
  /// and those the recorded state owes, less the groups it creates), which kops's dry run and
  /// `NeedsUpdate` listing are compared with.
  public var predictedRolls: [String]
  /// For `kops update --yes`: whether the plan changes IAM (else IAM tasks in kops's dry run are
  /// a surprise).
  public var changesIAM: Bool
  /// The desired documents an object step writes: the cluster and its instance groups for
  /// `cluster-create`, the one object for a replace; empty for a delete.
  public var manifest: [YAMLNode]
  /// The object as recorded (what a replace keeps kops's assignments from); nil for a create.
  public var recordedObject: YAMLNode?

  public init(
    id: Int, kind: StepKind, command: [String], disruptive: Bool = false, object: ObjectAddress? = nil,
    instanceGroups: [String] = [], rolls: [String] = [], predictedRolls: [String] = [], changesIAM: Bool = false,
    manifest: [YAMLNode] = [], recordedObject: YAMLNode? = nil
  ) {
    self.id = id
    self.kind = kind
    self.command = command
    self.disruptive = disruptive
    self.object = object
    self.instanceGroups = instanceGroups
    self.rolls = rolls
    self.predictedRolls = predictedRolls
    self.changesIAM = changesIAM
    self.manifest = manifest
    self.recordedObject = recordedObject
  }

  /// The placeholder directory in manifest arguments.
  public static let scratchPlaceholder = "<scratch>"

  /// The instance group an object step writes or deletes.
  public var instanceGroup: String? { object?.instanceGroupName }
}

extension Step: Hashable {
  public static func == (a: Step, b: Step) -> Bool {
    a.id == b.id && a.kind == b.kind && a.command == b.command && a.disruptive == b.disruptive
      && a.object?.stepObject == b.object?.stepObject && a.instanceGroups == b.instanceGroups
  }

  public func hash(into hasher: inout Hasher) {
    hasher.combine(id)
    hasher.combine(kind)
    hasher.combine(command)
    hasher.combine(disruptive)
    hasher.combine(object?.stepObject)
    hasher.combine(instanceGroups)
  }
}
