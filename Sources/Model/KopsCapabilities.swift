/// Everything hk does differently by kops release, in one place: Config's validation, the
/// planner's roll rules and the executor's kops calls ask this value, never compare versions
/// themselves. Each property cites the section of `../shared/kops-contract.md` (read at the kops
/// tags it names) that says where the boundary lies; `Tests/ModelTests/KopsCapabilitiesTests`
/// pins every boundary on both sides.
///
/// A new kops version rule goes here as a named property, is asked where it matters, and gets
/// its boundary test. The kops double (`Sources/fake-kops`) deliberately keeps its own table
/// (`KopsRelease.swift` there): a wrong boundary here must show up as a test failure against the
/// double, not hide in both.
///
/// A few rules depend on the Kubernetes version rather than kops's; they are static functions
/// taking that version (`spec.kubernetesVersion` read as a ``KopsVersion``).
public struct KopsCapabilities: Sendable, Hashable {
  /// The kops release these capabilities describe (the environment's `kopsVersion`, or the
  /// binary's version once the pre-flight checked it).
  public let version: KopsVersion

  public init(_ version: KopsVersion) { self.version = version }

  /// A release past every boundary this table knows: the newest rules (the roll table's docs,
  /// a change scoped with nothing else known).
  public static let newest = KopsCapabilities(KopsVersion(1, 99))

  // MARK: The kops CLI (executor)

  /// `kops get all C -o yaml` reads the Cluster and its InstanceGroups in one call; before 1.26
  /// `kops get all C` fails and hk asks `get cluster` and `get instancegroups` (kops-contract.md
  /// §1.4, §8).
  public var hasGetAll: Bool { version.atLeast(1, 26) }

  /// Up to kops 1.30, `rolling-update` (even `--cloudonly`, even the listing without `--yes`)
  /// and `validate` need a kubeconfig context named after the cluster, so hk exports a scratch
  /// admin kubeconfig for them; from 1.31 kops builds an admin credential from the state
  /// store's CA in memory (kops-contract.md §8, §9 last bullet).
  public var needsKubeconfig: Bool { !version.atLeast(1, 31) }

  /// The pre-flight accepts only a kops binary of exactly this version, patch included: every
  /// kops release ships a different nodeup, so another binary rewrites every launch template
  /// (kops-contract.md §9 "And the kops version"; DESIGN.md §5).
  public func acceptsBinary(_ binary: KopsVersion) -> Bool { binary == version }

  // MARK: Rolls (planner)

  /// The kops that last ran `update --yes` (recorded with each revision) was another release:
  /// its nodeup URL and hash are in every group's user data, so this release's `update --yes`
  /// makes a new launch template version for every group, an `upgrade` change that rolls them
  /// all (kops-contract.md §9 "And the kops version"; docs/ROLLS.md "kops upgrades").
  public func rollsEveryGroup(afterUpdateBy last: KopsVersion) -> Bool { last != version }

  /// A major.minor step from the release that last updated the cluster: the plan adds a reminder
  /// to review `kops upgrade cluster`, which hk does not run (docs/ROLLS.md "kops upgrades").
  public func upgradeNeedsReview(from last: KopsVersion) -> Bool { !last.sameMinor(version) }

  /// Before 1.28 `etcdClusters` is part of the control plane's nodeup config (a change rolls the
  /// control plane); from 1.28 etcd-manager reads separate managed files and nothing rolls
  /// (kops-contract.md §9 "Fields that roll nothing").
  public var etcdInControlPlaneNodeupConfig: Bool { !version.atLeast(1, 28) }

  /// Before 1.28 `cloudConfig` reaches every group's user data (the `cluster_spec` section kops
  /// 1.23–1.27 renders; hk assumes the same for older releases); from 1.28 only the control
  /// plane's nodeup config (kops-contract.md §9 "Fields that reach every group", `cloudConfig`).
  public var cloudConfigInEveryGroupsUserData: Bool { !version.atLeast(1, 28) }

  /// From 1.27 kops joins `additionalNetworkCIDRs` to the egress proxy's `no_proxy` (at create
  /// and again at update, `assignProxy`), so with a proxy a change reaches every group's user
  /// data (kops-contract.md §8, §9 "Fields that reach every group").
  public var proxyExcludesAdditionalNetworkCIDRs: Bool { version.atLeast(1, 27) }

  /// From 1.26 kops fills `masterPublicName: api.<name>` only for public DNS (before, for every
  /// DNS type), and update joins it to the proxy excludes: with a proxy, a Public⇄Private DNS
  /// change reaches every group's `no_proxy` (kops-contract.md §8).
  public var assignsMasterPublicNameOnlyForPublicDNS: Bool { version.atLeast(1, 26) }

  /// On Kubernetes ≥ 1.24 the cloud controller manager is an addon, so its options roll nothing;
  /// before, they are control-plane config (kops-contract.md §9 "Fields that roll nothing").
  public static func cloudControllerManagerIsAddon(kubernetes: KopsVersion) -> Bool { kubernetes.atLeast(1, 24) }

  // MARK: Validation (config)

  /// Subnet `egress: External` (kops manages no routing, creates no internet gateway) exists
  /// from kops 1.12.0; strategy `external-egress` relies on it (kops-contract.md §2.2 subnets,
  /// §4.2, §4.3).
  public var hasExternalEgress: Bool { version.atLeast(1, 12) }

  /// `spec.iam.legacy: true` is refused from kops 1.19 ("legacy IAM permissions are no longer
  /// supported"; kops-contract.md §2.2, §3.1).
  public var refusesLegacyIAM: Bool { version.atLeast(1, 19) }

  /// Any `spec.docker` is refused from kops 1.29 ("Docker CRI support was removed in Kubernetes
  /// 1.24"; kops-contract.md §2.2, §3.1).
  public var supportsDocker: Bool { !version.atLeast(1, 29) }

  /// `containerRuntime: docker` is refused with Kubernetes ≥ 1.24 (dockershim removed;
  /// kops-contract.md §2.2 `spec.containerRuntime`, §3.1).
  public static func supportsDockerRuntime(kubernetes: KopsVersion) -> Bool { !kubernetes.atLeast(1, 24) }

  /// From kops 1.25 an `Internal` API load balancer needs at least one `Private` subnet
  /// ("Internal LoadBalancers must have at least one subnet of type Private"; kops-contract.md
  /// §3.1).
  public var internalAPILoadBalancerNeedsPrivateSubnet: Bool { version.atLeast(1, 25) }

  /// The `spec.additionalPolicies` keys this release accepts on v1alpha2 input: `master`,
  /// `node`, `bastion`, `apiserver`; `control-plane` from 1.26; `etcd`, `scheduler`,
  /// `kubecontrollermanager` from 1.37 (kops-contract.md §2.2 `spec.additionalPolicies`).
  public var additionalPolicyRoles: [String] {
    var roles = ["master", "node", "bastion", "apiserver"]
    if version.atLeast(1, 26) { roles.append("control-plane") }
    if version.atLeast(1, 37) { roles += ["etcd", "scheduler", "kubecontrollermanager"] }
    return roles
  }
}

extension EnvironmentSettings {
  /// What the environment's `kopsVersion` can do (``KopsCapabilities``).
  public var kopsCapabilities: KopsCapabilities { KopsCapabilities(kopsVersion) }
}
