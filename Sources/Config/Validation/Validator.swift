import Model

/// Checks a loaded environment against what kops accepts, what kops misses, and what a VPC
/// without an internet gateway needs.
///
/// Every finding is a ``Diagnostic`` with a stable `rule` id (kebab-case) and the position of
/// the offending node. Rules that depend on the kops release read `settings.kopsVersion`.
///
/// | group | rules |
/// | --- | --- |
/// | names and ids (docs/SECURITY.md) | `ig-name-dns`, `settings-state-store`, `settings-region`, `settings-profile`, `settings-igw-id`, `vpc-id`, `subnet-id`, `settings-kops-path` |
/// | kops rejects | `cluster-name-dns`, `networking-multiple`, `cidr-invalid`, `subnet-cidr-outside`, `subnets-mixed-id`, `iam-policy-json`, `iam-policy-role`, `iam-policy-effect`, `iam-legacy`, `docker-removed`, `docker-runtime`, `api-lb-internal-no-private`, `cloud-not-aws`, `ig-size-range` |
/// | kops checks too late (at update) | `subnet-overlaps-pods`, `subnet-overlaps-services`, `subnet-egress-public`, `external-dns-none` |
/// | kops misses | `kubenet-private`, `cluster-name-mismatch`, `config-base-mismatch`, `dns-zone-mismatch`, `ig-subnet-unknown`, `ig-cluster-label` |
/// | hybrid VPC | `hybrid-public-api-lb`, `hybrid-public-service`, `hybrid-public-ingress`, `igw-id-missing`, `egress-proxy-missing`, `external-egress-subnet`, `external-egress-kops-version` |
/// | warnings | `awslogs-iam`, `egress-proxy-excludes`, `iam-container-registry`, `external-dns-watch-ingress`, `shared-network` (across environments) |
/// | YAML | `yaml11-bool`, `field-type`, `spec-missing` |
/// | kops schema | `unknown-field`, `field-type` (per release, generated from kops's API types) |
public enum Validator {
  /// Rules about names and identifiers that reach kops's or aws's argv (``NameRules`` and
  /// `cluster-name-dns`): no command runs anything for an environment that breaks one.
  public static let argvRules: Set<String> = [
    "cluster-name-dns", "ig-name-dns", "settings-state-store", "settings-region", "settings-profile", "settings-igw-id", "vpc-id",
    "subnet-id", "settings-kops-path",
  ]

  /// All diagnostics for one loaded environment, sorted by file, line, column; errors and warnings.
  public static func validate(_ env: Environment) -> [Diagnostic] {
    validate(env, remembersSharedSubtrees: true)
  }

  /// ``validate(_:)``; `remembersSharedSubtrees: false` walks every base subtree again (the
  /// reference the memo's tests compare with).
  static func validate(_ env: Environment, remembersSharedSubtrees: Bool) -> [Diagnostic] {
    var ctx = ValidationContext(env: env)
    ctx.remembersSharedSubtrees = remembersSharedSubtrees
    TypeRules.check(&ctx)
    SchemaRules.check(&ctx)
    NameRules.check(&ctx)
    ClusterRules.check(&ctx)
    InstanceGroupRules.check(&ctx)
    HybridRules.check(&ctx)
    IdentityRules.check(&ctx)
    LateRules.check(&ctx)
    WarningRules.check(&ctx)
    return ctx.sorted()
  }

  /// Warnings across environments checked together (`shared-network`: a VPC, subnet or gateway
  /// id named by more than one), keyed by environment name.
  public static func validate(together environments: [Environment]) -> [String: [Diagnostic]] {
    IdentityRules.shared(environments)
  }
}

/// What the rules share: the environment, its Cluster spec, and the diagnostics found so far.
struct ValidationContext {
  let env: Environment
  let version: KopsVersion
  /// What the environment's kops release accepts (every version rule asks it).
  let kops: KopsCapabilities
  let cluster: YAMLNode
  /// `spec` of the Cluster when it is a mapping.
  let spec: YAMLNode?
  private(set) var diagnostics: [Diagnostic] = []
  /// Whether whole-tree checks skip base subtrees found clean before (``SharedSubtreeMemo``).
  var remembersSharedSubtrees = true

  init(env: Environment) {
    self.env = env
    self.version = env.settings.kopsVersion
    self.kops = KopsCapabilities(env.settings.kopsVersion)
    self.cluster = env.cluster
    let s = env.cluster["spec"]
    self.spec = s?.isMapping == true ? s : nil
    self.subnets = Self.subnets(of: self.spec)
  }

  /// Where a finding goes when its node has no position: the Cluster document, else line 1
  /// of the environment's cluster.yaml.
  var fallbackMark: Mark {
    if cluster.mark.line >= 1 { return cluster.mark }
    return Mark(file: env.directory + "/cluster.yaml", line: 1, column: 1)
  }

  mutating func error(_ rule: String, _ message: String, at mark: Mark?) {
    add(.error, rule, message, at: mark)
  }

  mutating func warning(_ rule: String, _ message: String, at mark: Mark?) {
    add(.warning, rule, message, at: mark)
  }

  /// Errors of one rule put in front of the diagnostics found from `index` on (the YAML 1.1
  /// booleans, found by the schema's walk after the type rules' own findings).
  mutating func insertErrors(_ rule: String, _ list: [(message: String, mark: Mark)], at index: Int) {
    guard !list.isEmpty else { return }
    let tail = diagnostics[index...]
    diagnostics.removeSubrange(index...)
    for e in list { add(.error, rule, e.message, at: e.mark) }
    diagnostics += tail
  }

  /// The schema's findings of ``SchemaRules/walk(_:reported:)``, until ``SchemaRules/check(_:)``
  /// reports them.
  var schemaFindings: [(rule: String, message: String, mark: Mark)] = []

  private mutating func add(_ severity: Diagnostic.Severity, _ rule: String, _ message: String, at mark: Mark?) {
    let m: Mark
    if let mark, mark.line >= 1 {
      m = mark
    } else {
      m = fallbackMark
    }
    diagnostics.append(Diagnostic(severity, message, at: m, rule: rule))
  }

  /// The diagnostics ordered by file, line, column, then the order they were found.
  func sorted() -> [Diagnostic] {
    diagnostics.enumerated().sorted { a, b in
      let la = a.element.location
      let lb = b.element.location
      let ka = (la?.file ?? "", la?.line ?? 0, la?.column ?? 0)
      let kb = (lb?.file ?? "", lb?.line ?? 0, lb?.column ?? 0)
      if ka != kb { return ka < kb }
      return a.offset < b.offset
    }.map(\.element)
  }

  // MARK: Shared helpers

  /// The key's own position in `node` when present, else `node`'s position (the parent of a
  /// missing key).
  static func keyMark(_ node: YAMLNode?, _ key: String) -> Mark? {
    node?.pair(key)?.keyMark ?? node?.mark
  }

  /// `spec.subnets` as written (only mapping items), made once per environment.
  let subnets: [(index: Int, node: YAMLNode)]

  static func subnets(of spec: YAMLNode?) -> [(index: Int, node: YAMLNode)] {
    guard let items = spec?["subnets"]?.items else { return [] }
    return items.enumerated().filter { $0.element.isMapping }.map { ($0.offset, $0.element) }
  }

  /// `spec.subnets[name=x]` (or `spec.subnets[2]` when the subnet has no name).
  static func subnetPath(_ index: Int, _ subnet: YAMLNode) -> String {
    if let n = subnet["name"]?.text { return FieldPath.named("spec.subnets", n) }
    return FieldPath.index("spec.subnets", index)
  }

  /// Whether any subnet is of type `Private`.
  var hasPrivateSubnet: Bool {
    subnets.contains { $0.node["type"]?.text == "Private" }
  }

  /// Whether `topology.masters` or `topology.nodes` says `private`.
  var hasPrivateTopology: Bool {
    let t = spec?["topology"]
    return t?["masters"]?.text == "private" || t?["nodes"]?.text == "private"
  }

  /// A non-null value under `key` of a mapping (Go treats `key: null` as absent).
  static func present(_ node: YAMLNode?, _ key: String) -> YAMLNode? {
    guard let v = node?[key], !v.isNull else { return nil }
    return v
  }
}
