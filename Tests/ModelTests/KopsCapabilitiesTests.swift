import Model
import Testing

/// Every kops version rule of ``KopsCapabilities`` pinned on both sides of its boundary: the
/// last release before it (its first and a late patch) and the first release from it (and a
/// later patch). Moving a boundary, or flipping a rule, fails here by name.
@Suite struct KopsCapabilitiesTests {
  /// One yes/no rule and where it changes (kops-contract.md §8, §9 and the sections each
  /// property cites).
  enum Boundary: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case hasExternalEgress, refusesLegacyIAM, internalAPILoadBalancerNeedsPrivateSubnet, hasGetAll
    case assignsMasterPublicNameOnlyForPublicDNS, proxyExcludesAdditionalNetworkCIDRs, etcdInControlPlaneNodeupConfig
    case cloudConfigInEveryGroupsUserData, supportsDocker, needsKubeconfig

    /// The first kops minor release on the new side, and the rule's value from there on.
    var from: (minor: Int, value: Bool) {
      switch self {
      case .hasExternalEgress: (12, true)
      case .refusesLegacyIAM: (19, true)
      case .internalAPILoadBalancerNeedsPrivateSubnet: (25, true)
      case .hasGetAll: (26, true)
      case .assignsMasterPublicNameOnlyForPublicDNS: (26, true)
      case .proxyExcludesAdditionalNetworkCIDRs: (27, true)
      case .etcdInControlPlaneNodeupConfig: (28, false)
      case .cloudConfigInEveryGroupsUserData: (28, false)
      case .supportsDocker: (29, false)
      case .needsKubeconfig: (31, false)
      }
    }

    func value(_ c: KopsCapabilities) -> Bool {
      switch self {
      case .hasExternalEgress: c.hasExternalEgress
      case .refusesLegacyIAM: c.refusesLegacyIAM
      case .internalAPILoadBalancerNeedsPrivateSubnet: c.internalAPILoadBalancerNeedsPrivateSubnet
      case .hasGetAll: c.hasGetAll
      case .assignsMasterPublicNameOnlyForPublicDNS: c.assignsMasterPublicNameOnlyForPublicDNS
      case .proxyExcludesAdditionalNetworkCIDRs: c.proxyExcludesAdditionalNetworkCIDRs
      case .etcdInControlPlaneNodeupConfig: c.etcdInControlPlaneNodeupConfig
      case .cloudConfigInEveryGroupsUserData: c.cloudConfigInEveryGroupsUserData
      case .supportsDocker: c.supportsDocker
      case .needsKubeconfig: c.needsKubeconfig
      }
    }

    var testDescription: String { "\(rawValue) from 1.\(from.minor)" }
  }

  static func caps(_ minor: Int, _ patch: Int = 0) -> KopsCapabilities { KopsCapabilities(KopsVersion(1, minor, patch)) }

  @Test(arguments: Boundary.allCases)
  func boundary(_ rule: Boundary) {
    let (minor, value) = rule.from
    #expect(rule.value(Self.caps(minor - 1)) == !value, "1.\(minor - 1).0")
    #expect(rule.value(Self.caps(minor - 1, 99)) == !value, "1.\(minor - 1).99")
    #expect(rule.value(Self.caps(minor)) == value, "1.\(minor).0")
    #expect(rule.value(Self.caps(minor, 7)) == value, "1.\(minor).7")
    #expect(rule.value(.newest) == value, "newest")
  }

  /// A pre-release is its release for every rule (`1.26.0-beta.1` has `get all`).
  @Test func aPreReleaseIsItsRelease() throws {
    let beta = KopsCapabilities(try #require(KopsVersion("1.26.0-beta.1")))
    #expect(beta.hasGetAll)
    #expect(!KopsCapabilities(try #require(KopsVersion("v1.25.99"))).hasGetAll)
  }

  @Test func additionalPolicyRolesGrowAt126And137() {
    let base = ["master", "node", "bastion", "apiserver"]
    #expect(Self.caps(25, 9).additionalPolicyRoles == base)
    #expect(Self.caps(26).additionalPolicyRoles == base + ["control-plane"])
    #expect(Self.caps(36, 2).additionalPolicyRoles == base + ["control-plane"])
    #expect(Self.caps(37).additionalPolicyRoles == base + ["control-plane", "etcd", "scheduler", "kubecontrollermanager"])
  }

  /// Rules on the Kubernetes version (`spec.kubernetesVersion`), both at 1.24.
  @Test func kubernetesRulesChangeAt124() {
    #expect(KopsCapabilities.supportsDockerRuntime(kubernetes: KopsVersion(1, 23, 17)))
    #expect(!KopsCapabilities.supportsDockerRuntime(kubernetes: KopsVersion(1, 24, 0)))
    #expect(!KopsCapabilities.cloudControllerManagerIsAddon(kubernetes: KopsVersion(1, 23, 17)))
    #expect(KopsCapabilities.cloudControllerManagerIsAddon(kubernetes: KopsVersion(1, 24, 0)))
  }

  /// The binary must be exactly `kopsVersion`, patch included; any other last-updating release
  /// rolls every group, and only a major.minor step asks to review `kops upgrade cluster`.
  @Test func versionsAgainstEachOther() {
    let c = Self.caps(28, 4)
    #expect(c.acceptsBinary(KopsVersion(1, 28, 4)))
    #expect(!c.acceptsBinary(KopsVersion(1, 28, 5)))
    #expect(!c.acceptsBinary(KopsVersion(1, 28, 3)))
    #expect(!c.acceptsBinary(KopsVersion(1, 29, 4)))
    #expect(!c.rollsEveryGroup(afterUpdateBy: KopsVersion(1, 28, 4)))
    #expect(c.rollsEveryGroup(afterUpdateBy: KopsVersion(1, 28, 3)))
    #expect(c.rollsEveryGroup(afterUpdateBy: KopsVersion(1, 29, 0)))
    #expect(!c.upgradeNeedsReview(from: KopsVersion(1, 28, 0)))
    #expect(c.upgradeNeedsReview(from: KopsVersion(1, 27, 4)))
    #expect(c.upgradeNeedsReview(from: KopsVersion(1, 29, 0)))
  }

  /// `newest` is past every boundary (the roll table's docs use it).
  @Test func newestIsPastEveryBoundary() {
    let latest = Boundary.allCases.map(\.from.minor).max() ?? 0
    #expect(KopsCapabilities.newest.version > KopsVersion(1, latest, 999))
    #expect(KopsCapabilities.newest.version > KopsVersion(1, 37, 999))
  }
}
