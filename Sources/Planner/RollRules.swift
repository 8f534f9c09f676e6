import Model

/// Which instance groups a change makes roll: the one rule table hk predicts node rolls from.
///
/// kops rolls a node when its launch template (user data: nodeup config) changes. Fields that
/// end up in IAM policies, autoscaling group sizes, DNS or addon manifests do not roll anything.
/// A top-level `spec` key not in the table rolls every instance group: an unknown field is
/// assumed to reach the nodes, so hk over-predicts rather than leaves nodes on an old config.
public enum RollRules {
  /// Who rolls when a field changes.
  public enum Scope: Sendable, Hashable {
    case none
    case controlPlane
    case all
  }

  /// Cluster `spec.<key>` → scope. Keys absent from the table roll every group.
  public static let clusterSpec: [String: Scope] = [
    // IAM, DNS, addons and cloud networking: no node change
    "additionalPolicies": .none, "externalPolicies": .none, "externalDns": .none, "iam": .none,
    "api": .none, "dnsZone": .none, "channel": .none, "subnets": .none, "sshAccess": .none,
    "kubernetesApiAccess": .none, "nodePortAccess": .none, "topology": .none, "certManager": .none,
    "awsLoadBalancerController": .none, "clusterAutoscaler": .none, "metricsServer": .none,
    "nodeTerminationHandler": .none, "podIdentityWebhook": .none, "serviceAccountIssuerDiscovery": .none,
    "cloudConfig": .none, "snapshotController": .none, "karpenter": .none, "networkID": .none,
    "additionalNetworkCIDRs": .none, "masterPublicName": .none, "masterInternalName": .none,
    "kubeDNS": .none, "clusterDNSDomain": .none,
    // control plane only
    "etcdClusters": .controlPlane, "kubeAPIServer": .controlPlane, "kubeControllerManager": .controlPlane,
    "kubeScheduler": .controlPlane, "masterKubelet": .controlPlane, "controlPlaneKubelet": .controlPlane,
    "cloudControllerManager": .controlPlane, "authentication": .controlPlane, "authorization": .controlPlane,
    "encryptionConfig": .controlPlane,
    // every node: nodeup config, container runtime, proxy, kubelet, version
    "egressProxy": .all, "docker": .all, "containerd": .all, "kubelet": .all, "kubernetesVersion": .all,
    "containerRuntime": .all, "kubeProxy": .all, "networking": .all, "nonMasqueradeCIDR": .all,
    "networkCIDR": .all, "fileAssets": .all, "hooks": .all, "assets": .all, "sshKeyName": .all,
    "cloudLabels": .all, "nodeLabels": .all, "configBase": .all, "ntp": .all, "sysctlParameters": .all,
    "updatePolicy": .all, "cloudProvider": .all, "serviceClusterIPRange": .all, "podCIDR": .all,
  ]

  /// InstanceGroup `spec.<key>` fields that roll nothing (ASG settings); any other field rolls the group.
  public static let instanceGroupNoRoll: Set<String> = [
    "minSize", "maxSize", "autoscale", "suspendProcesses", "instanceProtection", "externalLoadBalancers",
    "warmPool",
  ]

  /// The scope of a change at a cluster `spec.<key>` path.
  public static func scope(clusterSpecKey key: String) -> Scope {
    clusterSpec[key] ?? .all
  }

  /// The instance groups rolled by a change of cluster field `key`, given the desired groups.
  public static func rolls(clusterSpecKey key: String, instanceGroups: [InstanceGroupView]) -> [String] {
    switch scope(clusterSpecKey: key) {
    case .none: return []
    case .controlPlane: return instanceGroups.filter(\.isControlPlane).compactMap(\.name).sorted()
    case .all: return instanceGroups.compactMap(\.name).sorted()
    }
  }

  /// Whether a change of InstanceGroup field `spec.<key>` rolls that group.
  public static func rollsInstanceGroup(specKey key: String) -> Bool {
    !instanceGroupNoRoll.contains(key)
  }
}
