import Model

/// Which instance groups a change makes roll: the rule table hk predicts node rolls from, for
/// review. kops has the last word at apply time (DESIGN.md §5: the dry run before `update --yes`
/// and `NeedsUpdate` after it).
///
/// kops marks an instance `NeedsUpdate` when its launch template version differs from its
/// autoscaling group's (`upup/pkg/fi/cloudup/awsup/aws_cloud.go`), and any change to the launch
/// template task makes a new version: user data (nodeup URL and hash, proxy environment, the hash
/// of the group's nodeup config, and 1.23–1.27 a `cluster_spec` section), tags, security groups,
/// instance type, image, volumes (`awstasks/launchtemplate_target_api.go`,
/// `pkg/model/bootstrapscript.go`). Each rule below cites where its field reaches (or does not
/// reach) that launch template (kops-contract §9). A top-level `spec` key not in the table rolls
/// every group: hk over-predicts rather than leaves nodes on an old config.
public enum RollRules {
  /// Who rolls when a field changes.
  public enum Scope: Sendable, Hashable {
    case none
    /// Control-plane groups and `APIServer`-role groups.
    case controlPlane
    case all
  }

  /// One row of the table: a cluster `spec` key, its scope (which may depend on the kops
  /// release, the Kubernetes version, the rest of the spec or the changed sub-path), and the
  /// kops source that says so.
  public struct Rule: Sendable {
    public var key: String
    /// Human-readable scope for the docs table.
    public var summary: String
    public var source: String
    var decide: @Sendable (Context) -> Scope
  }

  /// What a rule may look at.
  public struct Context: Sendable {
    /// The changed path under `spec.<key>` (e.g. `["dns", "type"]` for `spec.topology.dns.type`).
    public var subPath: [String]
    public var before: YAMLNode?
    public var after: YAMLNode?
    /// The desired Cluster (and its spec).
    public var cluster: YAMLNode
    public var kops: KopsVersion

    public init(subPath: [String], before: YAMLNode?, after: YAMLNode?, cluster: YAMLNode, kops: KopsVersion) {
      self.subPath = subPath
      self.before = before
      self.after = after
      self.cluster = cluster
      self.kops = kops
    }

    var spec: YAMLNode? { cluster["spec"] }
    var hasProxy: Bool { spec?["egressProxy"].map { !$0.isNull } ?? false }
    var kubernetes: KopsVersion? { spec?["kubernetesVersion"]?.text.flatMap { KopsVersion($0) } }
    /// What ``kops`` does differently (every version rule of the table asks it).
    var caps: KopsCapabilities { KopsCapabilities(kops) }
  }

  static func fixed(_ key: String, _ scope: Scope, _ source: String) -> Rule {
    let summary: String
    switch scope {
    case .none: summary = "nothing"
    case .controlPlane: summary = "control plane"
    case .all: summary = "every group"
    }
    return Rule(key: key, summary: summary, source: source, decide: { _ in scope })
  }

  static let nodeup = "pkg/apis/nodeup/config.go (the group's nodeup config, hashed into user data)"
  static let controlPlaneConfig = "pkg/apis/nodeup/config.go, upup/pkg/fi/cloudup/apply_cluster.go (control-plane nodeup config)"
  static let addon = "an addon manifest (upup/pkg/fi/cloudup/bootstrapchannelbuilder), not the launch template"

  /// The table, one rule per cluster `spec` key.
  public static let table: [Rule] = [
    // Nothing: IAM, DNS records, addons, cloud networking, access rules, ASG settings.
    fixed("additionalPolicies", .none, "IAM role policies (pkg/model/iam), not the launch template"),
    fixed("externalPolicies", .none, "IAM role policy attachments (pkg/model/iam)"),
    fixed("iam", .none, "IAM roles (pkg/model/iam)"),
    fixed("externalDns", .none, addon),
    fixed("channel", .none, "read by kops on update, not rendered into nodes"),
    fixed("subnets", .none, "cloud networking (pkg/model/awsmodel/network.go)"),
    fixed("sshAccess", .none, "security group rules (pkg/model/firewall.go)"),
    fixed("kubernetesApiAccess", .none, "security group rules (pkg/model/firewall.go)"),
    fixed("nodePortAccess", .none, "security group rules (pkg/model/firewall.go)"),
    fixed("networkID", .none, "cloud networking (pkg/model/awsmodel/network.go)"),
    fixed("certManager", .none, addon), fixed("awsLoadBalancerController", .none, addon),
    fixed("clusterAutoscaler", .none, addon), fixed("metricsServer", .none, addon),
    fixed("nodeTerminationHandler", .none, addon), fixed("podIdentityWebhook", .none, addon),
    fixed("snapshotController", .none, addon), fixed("karpenter", .none, addon),
    fixed("nodeProblemDetector", .none, addon),
    // Control plane (and APIServer groups): what reaches the control plane's nodeup config.
    fixed("api", .controlPlane, "\(controlPlaneConfig): public name, SANs, the load balancer's address"),
    fixed("masterPublicName", .controlPlane, controlPlaneConfig),
    fixed("masterInternalName", .controlPlane, controlPlaneConfig),
    fixed("dnsZone", .controlPlane, controlPlaneConfig),
    fixed("serviceAccountIssuerDiscovery", .controlPlane, controlPlaneConfig),
    fixed("kubeControllerManager", .controlPlane, controlPlaneConfig),
    fixed("kubeScheduler", .controlPlane, controlPlaneConfig),
    fixed("masterKubelet", .controlPlane, controlPlaneConfig),
    fixed("controlPlaneKubelet", .controlPlane, controlPlaneConfig),
    fixed("authentication", .controlPlane, controlPlaneConfig),
    fixed("authorization", .controlPlane, controlPlaneConfig),
    fixed("encryptionConfig", .controlPlane, controlPlaneConfig),
    fixed("configBase", .controlPlane, "\(controlPlaneConfig); nodes read it from the state store only"),
    Rule(
      key: "kubeAPIServer", summary: "control plane; serviceNodePortRange: every group",
      source: "\(controlPlaneConfig); serviceNodePortRange reaches kube-proxy on every node (pkg/model/components/kubeproxy.go)",
      decide: { $0.subPath.first == "serviceNodePortRange" ? .all : .controlPlane }),
    Rule(
      key: "etcdClusters", summary: "control plane before kops 1.28, nothing from 1.28",
      source: "control-plane nodeup config before 1.28; separate managed files from 1.28 (pkg/model/components/etcdmanager)",
      decide: { $0.caps.etcdInControlPlaneNodeupConfig ? .controlPlane : .none }),
    Rule(
      key: "cloudConfig", summary: "every group on kops 1.23–1.27, control plane from 1.28",
      source:
        "the cluster_spec section of user data 1.23–1.27 (v1.27.0:pkg/model/bootstrapscript.go); control-plane nodeup config from 1.28",
      decide: { $0.caps.cloudConfigInEveryGroupsUserData ? .all : .controlPlane }),
    Rule(
      key: "cloudControllerManager", summary: "nothing on Kubernetes ≥ 1.24 (an addon), else control plane",
      source: "an addon from Kubernetes 1.24 (pkg/model/components/cloudconfiguration), control-plane config before",
      decide: { ($0.kubernetes.map(KopsCapabilities.cloudControllerManagerIsAddon) ?? true) ? .none : .controlPlane }),
    // Every group.
    fixed("egressProxy", .all, "the proxy environment in user data (pkg/model/bootstrapscript.go)"),
    fixed("docker", .all, nodeup), fixed("containerd", .all, nodeup), fixed("kubelet", .all, nodeup),
    fixed("kubernetesVersion", .all, nodeup), fixed("containerRuntime", .all, nodeup), fixed("kubeProxy", .all, nodeup),
    fixed("sshKeyName", .all, "the launch template's key pair (awstasks/launchtemplate_target_api.go)"),
    fixed("cloudLabels", .all, "launch template tags (awstasks/launchtemplate_target_api.go)"),
    fixed("networking", .all, "\(nodeup): the CNI"),
    fixed("kubeDNS", .all, "kubelet clusterDNS (pkg/model/components/kubelet.go)"),
    fixed("clusterDNSDomain", .all, "kubelet clusterDomain (pkg/model/components/kubelet.go)"),
    fixed("nonMasqueradeCIDR", .all, "\(nodeup); the proxy excludes"),
    fixed("networkCIDR", .all, "the proxy excludes kops recomputes at update (upup/pkg/fi/cloudup/defaults.go assignProxy)"),
    fixed("fileAssets", .all, nodeup), fixed("hooks", .all, nodeup), fixed("assets", .all, nodeup), fixed("ntp", .all, nodeup),
    fixed("sysctlParameters", .all, nodeup), fixed("updatePolicy", .all, nodeup), fixed("packages", .all, nodeup),
    fixed("cloudProvider", .all, nodeup), fixed("serviceClusterIPRange", .all, nodeup), fixed("podCIDR", .all, nodeup),
    Rule(
      key: "additionalNetworkCIDRs", summary: "every group with egressProxy on kops ≥ 1.27, else nothing",
      source: "joined to no_proxy from 1.27 (upup/pkg/fi/cloudup/defaults.go assignProxy); otherwise cloud networking",
      decide: { $0.hasProxy && $0.caps.proxyExcludesAdditionalNetworkCIDRs ? .all : .none }),
    Rule(
      key: "topology",
      summary: "every group when dns.type changes to or from None, or Public⇄Private with egressProxy on kops ≥ 1.26, else nothing",
      source: "gossip/none DNS changes the nodes' API address (pkg/model/bootstrapscript.go); the rest is cloud networking",
      decide: { ctx in
        let sub = ctx.subPath
        guard sub.isEmpty || sub.first == "dns" else { return .none }
        // the changed node sits at spec.topology.<sub>: find dns.type below it
        func dnsType(_ node: YAMLNode?) -> String? {
          switch sub.count {
          case 0: node?[path: "dns", "type"]?.text
          case 1: node?["type"]?.text
          default: node?.text
          }
        }
        let (before, after) = (dnsType(ctx.before), dnsType(ctx.after))
        if (before == "None") != (after == "None") { return .all }
        // From 1.26 kops assigns masterPublicName only for public DNS, and update joins it to
        // the proxy excludes (upup/pkg/fi/cloudup/defaults.go): a Public⇄Private step changes
        // every group's no_proxy when kops fills that name.
        func isPublic(_ t: String?) -> Bool { t == nil || t == "" || t == "Public" }
        let fillsName = ctx.spec?["masterPublicName"] == nil
        if isPublic(before) != isPublic(after) && ctx.hasProxy && ctx.caps.assignsMasterPublicNameOnlyForPublicDNS && fillsName {
          return .all
        }
        return .none
      }),
  ]

  static let byKey: [String: Rule] = Dictionary(table.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })

  /// The scope of a change at `spec.<key>.<subPath…>`.
  public static func scope(clusterSpecKey key: String, context: Context) -> Scope {
    guard let rule = byKey[key] else { return .all }
    return rule.decide(context)
  }

  /// The scope of a change at `spec.<key>` with nothing else known (the newest kops rules).
  public static func scope(clusterSpecKey key: String) -> Scope {
    scope(
      clusterSpecKey: key,
      context: Context(subPath: [], before: nil, after: nil, cluster: .mapping([]), kops: KopsCapabilities.newest.version))
  }

  /// The groups a scope rolls: control-plane and APIServer groups, or all of them.
  public static func groups(_ scope: Scope, instanceGroups: [InstanceGroupView]) -> [String] {
    switch scope {
    case .none: []
    case .controlPlane: instanceGroups.filter { $0.isControlPlane || $0.role == "APIServer" }.compactMap(\.name).sorted()
    case .all: instanceGroups.compactMap(\.name).sorted()
    }
  }

  /// The instance groups rolled by a change at `spec.<key>`, given the desired groups.
  public static func rolls(clusterSpecKey key: String, context: Context, instanceGroups: [InstanceGroupView]) -> [String] {
    groups(scope(clusterSpecKey: key, context: context), instanceGroups: instanceGroups)
  }

  /// InstanceGroup `spec.<key>` fields that roll nothing: autoscaling-group settings, not the
  /// launch template (`pkg/model/awsmodel/autoscalinggroup.go`; kops-contract §9).
  public static let instanceGroupNoRoll: Set<String> = [
    "minSize", "maxSize", "autoscale", "suspendProcesses", "instanceProtection", "externalLoadBalancers", "warmPool",
    "rollingUpdate", "maxInstanceLifetime", "capacityRebalance", "subnets", "mixedInstancesPolicy",
  ]

  /// Whether a change of InstanceGroup field `spec.<key>` rolls that group.
  public static func rollsInstanceGroup(specKey key: String) -> Bool {
    !instanceGroupNoRoll.contains(key)
  }
}
