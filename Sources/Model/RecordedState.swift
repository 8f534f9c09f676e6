/// What hk records for an environment after a write: the objects in the kops state store and
/// the lower layers of DESIGN.md §5. The store adds the serial and lineage (``RecordedState``).
///
/// The one list of recorded fields: a new one is a property here, a column in each backend
/// (SQLite stores these properties by name through this type's `Codable` conformance;
/// PostgreSQL lists its columns) and a field of the migration digest (`StoreDump.digests`).
public struct RecordedStateDraft: Sendable, Hashable, Codable {
  public var environment: String
  /// The Cluster as written to the kops state store (normalised YAML, one document).
  public var clusterYAML: String
  /// The InstanceGroups as written (normalised YAML, one document each), in order.
  public var instanceGroupsYAML: [String]
  /// Layer 2: `kops update --yes` ran after the last object write.
  public var cloudUpdated: Bool
  /// Layer 3: instance groups whose nodes still run an older configuration.
  public var pendingRolls: [String]
  /// What hk believes of the gateway: attached by hk and not yet detached.
  public var igwAttached: Bool
  /// Layer 4: `kops validate cluster` passed after the cloud last changed (an apply stopped
  /// during or before its validate leaves this false, and the next plan validates).
  public var validated: Bool
  public var kopsVersion: String?
  /// The kops version that last ran `update --yes` (nil before any, or in an old revision).
  public var updatedByKops: String?
  public var desiredDigest: String?
  /// The git commit of the desired files it was applied from (`-dirty` when they differed
  /// from that commit); nil when they were not in a git repository.
  public var gitCommit: String?
  /// The environment's settings when the revision was written (``EnvironmentSettings/recorded``);
  /// nil for revisions written before hk recorded them.
  public var settings: [String: String]?

  public init(
    environment: String, clusterYAML: String, instanceGroupsYAML: [String], cloudUpdated: Bool,
    pendingRolls: [String], igwAttached: Bool, validated: Bool = true, kopsVersion: String? = nil, desiredDigest: String? = nil,
    gitCommit: String? = nil, updatedByKops: String? = nil, settings: [String: String]? = nil
  ) {
    self.environment = environment
    self.clusterYAML = clusterYAML
    self.instanceGroupsYAML = instanceGroupsYAML
    self.cloudUpdated = cloudUpdated
    self.pendingRolls = pendingRolls
    self.igwAttached = igwAttached
    self.validated = validated
    self.kopsVersion = kopsVersion
    self.updatedByKops = updatedByKops
    self.desiredDigest = desiredDigest
    self.gitCommit = gitCommit
    self.settings = settings
  }

  /// The layers of a recorded revision, to change one and record the result.
  public init(_ state: RecordedState) {
    self = state.draft
  }
}

/// What hk recorded for an environment after its last write: a ``RecordedStateDraft`` as the
/// store keeps it, with the serial and lineage the store assigned. Its recorded fields read
/// through (`state.clusterYAML` is `state.draft.clusterYAML`).
///
/// A plan is the spec diff against `clusterYAML`/`instanceGroupsYAML` plus what the lower
/// layers still owe: `cloudUpdated == false` owes a `kops update --yes`, `pendingRolls` owe a
/// rolling update, `validated == false` owes a `kops validate cluster`, `igwAttached` owes a
/// detach.
@dynamicMemberLookup
public struct RecordedState: Sendable, Hashable {
  public var serial: Int64
  public var lineage: String
  /// What was recorded, as written.
  public var draft: RecordedStateDraft

  public init(serial: Int64, lineage: String, draft: RecordedStateDraft) {
    self.serial = serial
    self.lineage = lineage
    self.draft = draft
  }

  /// A recorded field, read through to ``draft``.
  public subscript<T>(dynamicMember field: WritableKeyPath<RecordedStateDraft, T>) -> T {
    get { draft[keyPath: field] }
    set { draft[keyPath: field] = newValue }
  }

  /// Whether nothing exists yet (serial 0 with no cluster): a plan creates the cluster.
  public var isEmpty: Bool { draft.clusterYAML.isEmpty }

  /// Layer 2 is owed: objects were written and `kops update --yes` has not run since.
  public var owesUpdate: Bool { !isEmpty && !draft.cloudUpdated }

  /// Layer 4 is owed: the cloud changed and `kops validate cluster` has not passed since (an
  /// owed update comes first, and its apply validates anyway).
  public var owesValidation: Bool { !isEmpty && draft.cloudUpdated && !draft.validated }
}
