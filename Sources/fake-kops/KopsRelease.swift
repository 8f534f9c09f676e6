import Model

/// What the imitated kops does differently by release, where hk has a rule for the same thing:
/// the double's own table, written from kops-contract.md (§8, §9) and the kops source,
/// deliberately independent of hk's `KopsCapabilities` (Model). The double exists to catch hk's
/// mistakes, so a boundary hk gets wrong must meet the right one here and fail a test — never be
/// shared with it. Never ask hk's table here; the comparisons below are the double's own.
///
/// Details of the CLI's surface that hk has no rule for (flag sets, message wording, klog lines,
/// defaults `create` fills in) stay at their call sites as `rt.atLeast(1, N)`.
struct KopsRelease {
  /// kops's major and minor (patches never change these rules).
  let major: Int
  let minor: Int

  init(_ version: KopsVersion) {
    major = version.major
    minor = version.minor
  }

  /// Whether this release is 1.`minor` or later.
  private func since(_ first: Int) -> Bool { major > 1 || (major == 1 && minor >= first) }

  /// `kops get all` exists (§8).
  var hasGetAll: Bool { since(26) }
  /// `rolling-update` and `validate` load a kubeconfig context named after the cluster (§8).
  var needsKubeconfigContext: Bool { !since(31) }
  /// Any `spec.docker` is refused (§2.2, §3.1).
  var refusesDockerSpec: Bool { since(29) }
  /// `iam.legacy: true` is refused (§3.1).
  var refusesLegacyIAM: Bool { since(19) }
  /// An Internal API load balancer needs a Private subnet (§3.1).
  var internalAPILoadBalancerNeedsPrivateSubnet: Bool { since(25) }
  /// `additionalPolicies` roles are spelt with `control-plane` (`master` still read) (§2.2).
  var policyRolesSayControlPlane: Bool { since(26) }
  /// The proxy excludes include `additionalNetworkCIDRs` (§8).
  var excludesAdditionalNetworkCIDRs: Bool { since(27) }
  /// `masterPublicName` is filled in for public DNS only (before: for every DNS type) (§8).
  var fillsMasterPublicNameForPublicDNSOnly: Bool { since(26) }
  /// User data carries a `cluster_spec` section with `cloudConfig` (§9: 1.23 to 1.27).
  var userDataHasClusterSpec: Bool { since(23) && !since(28) }
  /// The control plane's nodeup config carries `etcdClusters` (§9: before 1.28) and, from 1.28,
  /// `cloudConfig`.
  var controlPlaneNodeupHasEtcd: Bool { !since(28) }
  var controlPlaneNodeupHasCloudConfig: Bool { since(28) }

  /// Kubernetes (not kops) ≥ 1.24: no dockershim, and the cloud controller manager is an addon
  /// (§2.2, §9). `text` is `spec.kubernetesVersion`; nil when it is not `[v]MAJOR.MINOR[.…]`.
  static func kubernetesFrom124(_ text: String?) -> Bool? {
    var t = Substring(text ?? "").drop { $0 == " " }
    if t.first == "v" { t = t.dropFirst() }
    let parts = t.split(separator: ".", omittingEmptySubsequences: false)
    guard parts.count >= 2, let major = Int(parts[0]), let minor = Int(parts[1].prefix { $0.isNumber }) else { return nil }
    return major > 1 || (major == 1 && minor >= 24)
  }
}
