/// A drift report: for each environment, how its live objects compare with the recorded state
/// and how the desired files compare with it (DESIGN.md §6). A pure value, next to ``Plan``;
/// the planner's `DriftJSON` and `DriftRenderer` turn it into the `format_version` "1" JSON,
/// text or markdown.
public struct DriftReport: Sendable, Hashable {
  /// The drift JSON's `format_version` (a contract: additive changes only).
  public static let formatVersion = "1"
  /// One entry per environment, in the order they were asked for.
  public var environments: [EnvironmentDrift]

  public init(environments: [EnvironmentDrift]) { self.environments = environments }

  /// How many environments have `status`.
  public func count(_ status: DriftStatus) -> Int { environments.filter { $0.status == status }.count }

  /// Some environment drifted (including an IGW finding).
  public var hasDrift: Bool { environments.contains { $0.status == .drifted } }
  /// Some environment has desired changes or owed layers (and did not drift or fail).
  public var hasPending: Bool { environments.contains { $0.status == .pending } }
  /// Some environment could not be checked.
  public var hasErrors: Bool { environments.contains { $0.status == .error } }
}

/// The status of one environment, by precedence: `error` (it could not be read), `drifted`
/// (live ≠ recorded, or an internet gateway attached outside an apply), `pending` (desired ≠
/// recorded, or a layer still owes an update or a roll), `in-sync`.
public enum DriftStatus: String, Sendable, Hashable, CaseIterable, Codable {
  case inSync = "in-sync"
  case drifted
  case pending
  case error
}

/// One environment's part of a drift report.
///
/// ``status`` is derived from the contents, never stored, so it cannot disagree with them.
public struct EnvironmentDrift: Sendable, Hashable {
  public var name: String
  /// The cluster name from `environment.yaml`; nil when the environment could not be loaded.
  public var cluster: String?
  /// The recorded revision compared with; nil when nothing is recorded.
  public var recorded: PriorState?
  /// Fields whose live value differs from the recorded one (values redacted), not ignored.
  public var drift: [DriftItem]
  /// Desired changes and owed layers (what `hk plan` would do).
  public var pending: [PendingItem]
  /// The internet gateway check (strategy `temporary` only).
  public var gateway: GatewayCheck?
  /// Drifted fields an ignore rule matched: unexpired rules suppress the field; expired ones
  /// are listed with `expired: true` and the field stays in ``drift``.
  public var ignored: [IgnoredField]
  /// Why the environment could not be checked, with what to do next; nil when it was.
  public var error: String?
  /// Remarks for people: never applied, expired rules that match nothing, gateway oddities.
  public var notes: [String]

  public init(
    name: String, cluster: String?, recorded: PriorState? = nil, drift: [DriftItem] = [], pending: [PendingItem] = [],
    gateway: GatewayCheck? = nil, ignored: [IgnoredField] = [], error: String? = nil, notes: [String] = []
  ) {
    self.name = name
    self.cluster = cluster
    self.recorded = recorded
    self.drift = drift
    self.pending = pending
    self.gateway = gateway
    self.ignored = ignored
    self.error = error
    self.notes = notes
  }

  /// `error` if it could not be checked, else `drifted` on drift or a gateway finding, else
  /// `pending` when something is pending, else `in-sync`.
  public var status: DriftStatus {
    if error != nil { return .error }
    if !drift.isEmpty || gateway?.finding != nil { return .drifted }
    if !pending.isEmpty { return .pending }
    return .inSync
  }

  /// Drift items (and a gateway finding) not in the previous report.
  public var newCount: Int { drift.filter(\.isNew).count + (gateway?.isNew == true ? 1 : 0) }
}

/// Something `hk apply` would still do: a desired change (`category` as in the plan) or a
/// layer the recorded state owes (`category` `layer`: path `cloud` for `kops update --yes`,
/// `rolling-update[IG]` for a roll).
public struct PendingItem: Sendable, Hashable {
  /// `spec`, `iam`, `logging`, `instancegroup`, `igw` or `layer`.
  public var category: String
  /// `create`, `update` or `delete` for changes; nil for layers.
  public var action: String?
  public var path: String
  /// Why a layer is owed; nil for changes.
  public var note: String?

  public init(category: String, action: String? = nil, path: String, note: String? = nil) {
    self.category = category
    self.action = action
    self.path = path
    self.note = note
  }
}

/// Whether the internet gateway is attached to the cluster's VPC.
public enum GatewayState: String, Sendable, Hashable, Codable {
  case attached, detached
}

/// The internet gateway of a `temporary`-strategy environment, as expected and as EC2 reports it.
public struct GatewayCheck: Sendable, Hashable {
  /// The finding reported when the gateway is attached and nothing recorded says hk attached it.
  public static let outsideApplyFinding = "IGW attached outside an apply"

  /// `internetGateway.id`.
  public var id: String
  /// The cluster's VPC (`spec.networkID`); nil when the manifests name none.
  public var vpc: String?
  /// `attached` only when the recorded state says hk attached it and has not detached it yet.
  public var expected: GatewayState
  /// Attached to ``vpc`` (or attaching), per `describe-internet-gateways`.
  public var actual: GatewayState
  /// Other VPCs the gateway is attached to (not the cluster's; not a finding).
  public var attachedElsewhere: [String]
  /// Not in the previous report (set for a finding only).
  public var isNew: Bool

  public init(
    id: String, vpc: String?, expected: GatewayState, actual: GatewayState, attachedElsewhere: [String] = [],
    isNew: Bool = false
  ) {
    self.id = id
    self.vpc = vpc
    self.expected = expected
    self.actual = actual
    self.attachedElsewhere = attachedElsewhere
    self.isNew = isNew
  }

  /// A security finding: the gateway is attached although no apply holds it open.
  public var finding: String? { actual == .attached && expected == .detached ? Self.outsideApplyFinding : nil }
}

/// A drifted field matched by an ignore rule of `environment.yaml`.
public struct IgnoredField: Sendable, Hashable {
  /// The drifted field's path.
  public var path: String
  /// The rule's path pattern.
  public var rule: String
  public var reason: String
  /// `YYYY-MM-DD`, as written.
  public var until: String?
  /// The rule expired: the field is reported as drift anyway.
  public var expired: Bool
  public var recorded: JSONValue?
  public var live: JSONValue?

  public init(
    path: String, rule: String, reason: String, until: String?, expired: Bool, recorded: JSONValue? = nil,
    live: JSONValue? = nil
  ) {
    self.path = path
    self.rule = rule
    self.reason = reason
    self.until = until
    self.expired = expired
    self.recorded = recorded
    self.live = live
  }
}

/// One field whose live value differs from the recorded one.
public struct DriftItem: Sendable, Hashable {
  public var path: String
  /// The object the field belongs to.
  public var object: ObjectAddress
  public var recorded: JSONValue?
  public var live: JSONValue?
  /// Not in the environment's previous drift report (same path and live value); set by
  /// the planner's drift evaluation, always false from its live comparison.
  public var isNew: Bool
  public init(path: String, recorded: JSONValue?, live: JSONValue?, isNew: Bool = false, object: ObjectAddress = .cluster) {
    self.path = path
    self.object = object
    self.recorded = recorded
    self.live = live
    self.isNew = isNew
  }
}
