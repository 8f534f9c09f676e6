import Model

// MARK: Report types

/// What `kops update cluster` (dry run, or `--yes`) printed to stdout (kops-contract.md §1.7).
///
/// Whether changes are pending comes from kops's closing marker, never from the exit code (a
/// dry run exits 0 either way).
public struct UpdateReport: Sendable, Hashable {
  /// kops's closing line.
  public enum Marker: String, Sendable, Hashable {
    /// `Must specify --yes to apply changes`: a dry run found changes or deletions.
    case mustSpecifyYes
    /// `No changes need to be applied`.
    case noChanges
  }

  /// The closing marker, or `nil` when kops printed neither (a `--yes` run, or output cut short
  /// by an error).
  public var marker: Marker?
  /// `Will create resources:` tasks, in kops's order (sorted by task key).
  public var created: [TaskReport]
  /// `Will modify resources:` tasks with their field changes.
  public var modified: [TaskReport]
  /// Items listed under `Will delete items:` / `Items will be deleted …:`.
  public var deleted: [DeletionReport]
  /// A `--yes` run printed `Cluster changes have been applied to the cloud.`.
  public var applied: Bool

  public init(
    marker: Marker? = nil, created: [TaskReport] = [], modified: [TaskReport] = [], deleted: [DeletionReport] = [],
    applied: Bool = false
  ) {
    self.marker = marker
    self.created = created
    self.modified = modified
    self.deleted = deleted
    self.applied = applied
  }

  /// Whether the cloud differs from the state store: the marker when kops printed one, else
  /// whether any task or deletion was listed.
  public var hasChanges: Bool {
    switch marker {
    case .mustSpecifyYes: true
    case .noChanges: false
    case nil: !created.isEmpty || !modified.isEmpty || !deleted.isEmpty
    }
  }

  /// `Type/name` of every created and modified task.
  public var taskKeys: [String] { (created + modified).map(\.key) }
}

/// One kops task in an update report, e.g. `LaunchTemplate/nodes-a.dev.k8s.corp.local`.
public struct TaskReport: Sendable, Hashable {
  /// The task type (`LaunchTemplate`, `AutoscalingGroup`, `IAMRolePolicy`, `ManagedFile`, …).
  public var type: String
  /// The task name after the first `/` (may itself contain `/`).
  public var name: String
  /// The fields kops printed for the task, in order.
  public var fields: [FieldReport]

  public init(type: String, name: String, fields: [FieldReport] = []) {
    self.type = type
    self.name = name
    self.fields = fields
  }

  /// `Type/name`, as kops prints it.
  public var key: String { "\(type)/\(name)" }
}

/// One field line (or multi-line diff) of a task in an update report.
public struct FieldReport: Sendable, Hashable {
  /// The Go field name (`MinSize`, `UserData`, `PolicyDocument`, …).
  public var field: String
  /// For a created task: the value. For a modified single-line field: `old -> new` as printed
  /// (without kops's leading space). Empty for a multi-line change (see ``diff``).
  public var value: String
  /// For `old -> new` changes: the old value; `nil` otherwise.
  public var old: String?
  /// For `old -> new` changes: the new value; `nil` otherwise.
  public var new: String?
  /// For multi-line changes (user data, policy documents): kops's diff lines, verbatim.
  public var diff: [String]

  public init(field: String, value: String, old: String? = nil, new: String? = nil, diff: [String] = []) {
    self.field = field
    self.value = value
    self.old = old
    self.new = new
    self.diff = diff
  }
}

/// One item kops lists for deletion.
public struct DeletionReport: Sendable, Hashable {
  /// The task name column (e.g. `LaunchTemplate`).
  public var task: String
  /// The item (e.g. the resource name or id).
  public var item: String
  /// Listed under `Items will be deleted only when the --prune flag is specified:`.
  public var requiresPrune: Bool

  public init(task: String, item: String, requiresPrune: Bool = false) {
    self.task = task
    self.item = item
    self.requiresPrune = requiresPrune
  }
}

/// What `kops rolling-update cluster` printed to stdout (kops-contract.md §1.8).
public struct RollingUpdateReport: Sendable, Hashable {
  /// kops's closing line.
  public enum Marker: String, Sendable, Hashable {
    /// `Must specify --yes to rolling-update.` (older releases: no period).
    case mustSpecifyYes
    /// `No rolling-update required.`
    case notRequired
  }

  /// One row of the instance-group table.
  public struct Row: Sendable, Hashable {
    /// The instance group name.
    public var name: String
    /// `Ready` or `NeedsUpdate`.
    public var status: String
    /// Instances that need replacing.
    public var needUpdate: Int
    /// Instances that are up to date.
    public var ready: Int
    /// The group's minSize.
    public var min: Int
    /// The TARGET column (kops ≥ 1.18); `nil` when absent.
    public var target: Int?
    /// The group's maxSize.
    public var max: Int
    /// The NODES column; `nil` with `--cloudonly`.
    public var nodes: Int?

    public init(
      name: String, status: String, needUpdate: Int, ready: Int, min: Int, target: Int? = nil, max: Int,
      nodes: Int? = nil
    ) {
      self.name = name
      self.status = status
      self.needUpdate = needUpdate
      self.ready = ready
      self.min = min
      self.target = target
      self.max = max
      self.nodes = nodes
    }

    /// The row asks for a roll: status `NeedsUpdate` or a non-zero NEEDUPDATE count.
    public var needsUpdate: Bool { status == "NeedsUpdate" || needUpdate > 0 }
  }

  /// The table rows in kops's order (sorted by name).
  public var rows: [Row]
  /// The closing marker, or `nil` when none was printed (a `--yes` run that rolled).
  public var marker: Marker?

  public init(rows: [Row] = [], marker: Marker? = nil) {
    self.rows = rows
    self.marker = marker
  }

  /// Names of the instance groups that need a roll, in table order.
  public var needsUpdate: [String] { rows.filter(\.needsUpdate).map(\.name) }

  /// Whether a roll is required: the marker when kops printed one, else whether any row needs
  /// an update.
  public var required: Bool {
    switch marker {
    case .mustSpecifyYes: true
    case .notRequired: false
    case nil: !needsUpdate.isEmpty
    }
  }
}

/// `kops validate cluster -o json` (kops-contract.md §1.9). Healthy iff no failures.
public struct ValidateReport: Sendable, Hashable {
  /// One validation failure.
  public struct Failure: Sendable, Hashable {
    /// `Machine`, `Node`, `Pod`, `InstanceGroup`, `dns`, …
    public var type: String
    /// The object that failed (instance id, `namespace/pod`, …).
    public var name: String
    /// kops's explanation.
    public var message: String
    /// `metadata.name` of the failure's instance group, when kops attached one.
    public var instanceGroup: String?

    public init(type: String, name: String, message: String, instanceGroup: String? = nil) {
      self.type = type
      self.name = name
      self.message = message
      self.instanceGroup = instanceGroup
    }
  }

  /// One node kops saw.
  public struct Node: Sendable, Hashable {
    /// The Kubernetes node name.
    public var name: String
    /// The availability zone.
    public var zone: String
    /// `control-plane`, `node`, … (`master` before kops 1.26).
    public var role: String
    /// The `kubernetes.io/hostname` label.
    public var hostname: String
    /// `True`, `False` or `Unknown` (the node's Ready condition).
    public var status: String

    public init(name: String, zone: String, role: String, hostname: String, status: String) {
      self.name = name
      self.zone = zone
      self.role = role
      self.hostname = hostname
      self.status = status
    }
  }

  /// What is not healthy yet; empty when the cluster is healthy.
  public var failures: [Failure]
  /// The nodes kops saw.
  public var nodes: [Node]

  public init(failures: [Failure] = [], nodes: [Node] = []) {
    self.failures = failures
    self.nodes = nodes
  }

  /// No validation failures.
  public var healthy: Bool { failures.isEmpty }
}
