/// What hk recorded for an environment after its last write: the objects in the kops state
/// store and the two lower layers of DESIGN.md §5.
///
/// A plan is the spec diff against `clusterYAML`/`instanceGroupsYAML` plus what the lower
/// layers still owe: `cloudUpdated == false` owes a `kops update --yes`, `pendingRolls` owe a
/// rolling update, `validated == false` owes a `kops validate cluster`, `igwAttached` owes a
/// detach.
public struct RecordedState: Sendable, Hashable {
  public var environment: String
  public var serial: Int64
  public var lineage: String
  /// The Cluster as written to the kops state store (normalised YAML, one document).
  public var clusterYAML: String
  /// The InstanceGroups as written (normalised YAML, one document each), in order.
  public var instanceGroupsYAML: [String]
  /// Layer 2: `kops update --yes` ran after the last object write.
  public var cloudUpdated: Bool
  /// Layer 3: instance groups whose nodes still run an older configuration.
  public var pendingRolls: [String]
  /// Layer 4: `kops validate cluster` passed after the cloud last changed (an apply stopped
  /// during or before its validate leaves this false, and the next plan validates).
  public var validated: Bool
  /// What hk believes of the gateway: attached by hk and not yet detached.
  public var igwAttached: Bool
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
    environment: String, serial: Int64, lineage: String, clusterYAML: String, instanceGroupsYAML: [String],
    cloudUpdated: Bool, pendingRolls: [String], igwAttached: Bool, validated: Bool = true, kopsVersion: String? = nil,
    desiredDigest: String? = nil, gitCommit: String? = nil, updatedByKops: String? = nil,
    settings: [String: String]? = nil
  ) {
    self.gitCommit = gitCommit
    self.updatedByKops = updatedByKops
    self.environment = environment
    self.serial = serial
    self.lineage = lineage
    self.clusterYAML = clusterYAML
    self.instanceGroupsYAML = instanceGroupsYAML
    self.cloudUpdated = cloudUpdated
    self.pendingRolls = pendingRolls
    self.igwAttached = igwAttached
    self.validated = validated
    self.kopsVersion = kopsVersion
    self.desiredDigest = desiredDigest
    self.settings = settings
  }

  /// Whether nothing exists yet (serial 0 with no cluster): a plan creates the cluster.
  public var isEmpty: Bool { clusterYAML.isEmpty }

  /// Layer 2 is owed: objects were written and `kops update --yes` has not run since.
  public var owesUpdate: Bool { !isEmpty && !cloudUpdated }

  /// Layer 4 is owed: the cloud changed and `kops validate cluster` has not passed since (an
  /// owed update comes first, and its apply validates anyway).
  public var owesValidation: Bool { !isEmpty && cloudUpdated && !validated }
}
