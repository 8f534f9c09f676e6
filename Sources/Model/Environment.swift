/// How hk gets kops past a VPC with no internet gateway (DESIGN.md §2).
public enum IGWStrategy: String, Sendable, Hashable, Codable, CaseIterable {
  /// Attach `internetGateway.id` to the VPC around `kops update --yes`, detach after.
  case temporary
  /// Every subnet has `egress: External`, so kops creates no gateway (kops ≥ 1.12).
  case externalEgress = "external-egress"
  /// `--lifecycle-overrides InternetGateway=Ignore` on every `kops update`.
  case lifecycleIgnore = "lifecycle-ignore"
  /// The VPC has its own gateway; hk makes no aws call for this environment.
  case none

  /// Whether the environment is a hybrid one (no IGW of its own): public LBs cannot work.
  public var isHybrid: Bool { self != .none }
}

/// Whether hk rolls instance groups after `update --yes` or only reports the rolls owed.
public enum RollingUpdateMode: String, Sendable, Hashable, Codable {
  case auto, manual
}

/// A drift ignore rule from `environment.yaml`: every rule has a reason; `until` expires it.
public struct IgnoreRule: Sendable, Hashable {
  /// A field path with `[name=…]` selectors and `*` wildcards, e.g. `spec.subnets[name=*].cidr`.
  public var path: String
  public var reason: String
  /// `YYYY-MM-DD`; the rule stops ignoring after that day.
  public var until: String?
  public var mark: Mark

  public init(path: String, reason: String, until: String? = nil, mark: Mark = .none) {
    self.path = path
    self.reason = reason
    self.until = until
    self.mark = mark
  }

  /// Whether the rule has expired on `today` (`YYYY-MM-DD`, compared as text).
  public func isExpired(today: String) -> Bool {
    guard let until else { return false }
    return today > until
  }

  /// Whether the rule covers `path` (itself or anything below it).
  public func matches(_ candidate: String) -> Bool {
    FieldPath.matches(pattern: path, candidate)
  }
}

/// hk's settings for one environment (`environments/<env>/environment.yaml`).
public struct EnvironmentSettings: Sendable, Hashable {
  public var cluster: String
  public var stateStore: String
  public var kopsVersion: KopsVersion
  public var kopsPath: String?
  /// The `base:` path as written (relative to the environment directory).
  public var base: String?
  public var region: String
  public var profile: String?
  public var igwStrategy: IGWStrategy
  public var igwID: String?
  public var rollingUpdate: RollingUpdateMode
  public var ignore: [IgnoreRule]
  /// `egress.withoutProxy`: why the cluster reaches its images and AWS APIs with no
  /// `spec.egressProxy` although the VPC has no gateway (e.g. VPC endpoints and a registry
  /// mirror inside the corporate network); nil when not said.
  public var egressWithoutProxy: String?
  /// Positions of the settings' keys, for diagnostics (`cluster`, `kopsVersion`, `internetGateway`…).
  public var marks: [String: Mark]

  public init(
    cluster: String, stateStore: String, kopsVersion: KopsVersion, kopsPath: String? = nil, base: String? = nil,
    region: String, profile: String? = nil, igwStrategy: IGWStrategy, igwID: String? = nil,
    rollingUpdate: RollingUpdateMode = .auto, ignore: [IgnoreRule] = [], egressWithoutProxy: String? = nil,
    marks: [String: Mark] = [:]
  ) {
    self.egressWithoutProxy = egressWithoutProxy
    self.cluster = cluster
    self.stateStore = stateStore
    self.kopsVersion = kopsVersion
    self.kopsPath = kopsPath
    self.base = base
    self.region = region
    self.profile = profile
    self.igwStrategy = igwStrategy
    self.igwID = igwID
    self.rollingUpdate = rollingUpdate
    self.ignore = ignore
    self.marks = marks
  }

  /// The AWS variables every kops call gets, so that kops acts in the account and region the
  /// gateway steps (`aws --profile --region`) act in: `AWS_REGION` and `AWS_DEFAULT_REGION`
  /// (the aws CLI reads the latter) from `aws.region`, `AWS_PROFILE` from `aws.profile` when set
  /// (else kops uses the credentials hk was given). In name order.
  public var kopsEnvironment: [(name: String, value: String)] {
    var vars: [(name: String, value: String)] = [("AWS_DEFAULT_REGION", region)]
    if let profile { vars.append(("AWS_PROFILE", profile)) }
    vars.append(("AWS_REGION", region))
    return vars
  }

  /// ``kopsEnvironment`` as a dictionary (what a command invocation takes).
  public var kopsVariables: [String: String] {
    Dictionary(kopsEnvironment.map { ($0.name, $0.value) }) { _, last in last }
  }
}

extension EnvironmentSettings {
  /// The settings a revision records and a plan compares (the `settings` change category,
  /// docs/SECURITY.md): where kops keeps the cluster, which AWS account and region, which kops
  /// binary the repository names, and the gateway. Unset ones are left out.
  public var recorded: [String: String] {
    var out = ["stateStore": stateStore, "aws.region": region, "internetGateway.strategy": igwStrategy.rawValue]
    if let profile { out["aws.profile"] = profile }
    if let kopsPath { out["kopsPath"] = kopsPath }
    if let igwID { out["internetGateway.id"] = igwID }
    return out
  }
}

/// One file that makes up an environment's desired configuration, with its content digest.
public struct SourceFile: Sendable, Hashable {
  public var path: String
  public var digest: String
  /// The path after symlinks (relative to the repository root), when it differs from `path`:
  /// `--changed-since` matches both. Not part of ``Environment/desiredDigest``.
  public var resolvedPath: String?
  public init(path: String, digest: String, resolvedPath: String? = nil) {
    self.path = path
    self.digest = digest
    self.resolvedPath = resolvedPath
  }
}

/// An environment's desired configuration: settings, the merged Cluster and InstanceGroups, and
/// the Kubernetes manifests to lint.
public struct Environment: Sendable {
  /// `[a-z0-9][a-z0-9-]*`.
  public var name: String
  /// The environment's directory.
  public var directory: String
  public var settingsFile: String
  public var settings: EnvironmentSettings
  /// The Cluster document after the base overlay merge.
  public var cluster: YAMLNode
  /// The InstanceGroup documents after the merge, in file order.
  public var instanceGroups: [YAMLNode]
  /// Kubernetes objects from `manifests/*.yaml` (Services, Ingresses, …).
  public var kubernetesManifests: [YAMLNode]
  /// Every file read, in a stable order; `desiredDigest` is computed from them.
  public var sourceFiles: [SourceFile]

  public init(
    name: String, directory: String, settingsFile: String, settings: EnvironmentSettings, cluster: YAMLNode,
    instanceGroups: [YAMLNode], kubernetesManifests: [YAMLNode], sourceFiles: [SourceFile]
  ) {
    self.name = name
    self.directory = directory
    self.settingsFile = settingsFile
    self.settings = settings
    self.cluster = cluster
    self.instanceGroups = instanceGroups
    self.kubernetesManifests = kubernetesManifests
    self.sourceFiles = sourceFiles
  }

  /// `sha256:…` over the environment's files (names and contents): binds saved plans.
  public var desiredDigest: String {
    var h = SHA256()
    for f in sourceFiles {
      h.update(f.path)
      h.update([0])
      h.update(f.digest)
      h.update([0])
    }
    return "sha256:" + SHA256.hex(h.finalize())
  }

  public var clusterView: ClusterView { ClusterView(cluster) }
  public var instanceGroupViews: [InstanceGroupView] { instanceGroups.map(InstanceGroupView.init) }

  /// Whether `name` is a valid environment name: `[a-z0-9][a-z0-9-]*`, at most 63 characters.
  public static func isValidName(_ name: String) -> Bool {
    guard let f = name.utf8.first, name.utf8.count <= 63 else { return false }
    func ok(_ c: UInt8, first: Bool) -> Bool {
      (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || (!first && c == UInt8(ascii: "-"))
    }
    return ok(f, first: true) && name.utf8.allSatisfy { ok($0, first: false) }
  }
}
