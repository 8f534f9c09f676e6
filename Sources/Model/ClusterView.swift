/// A typed, read-only view of a kops v1alpha2 `Cluster` document: the fields hk reasons about.
///
/// The view never owns data: the YAML tree stays the source of truth, so fields hk does not
/// know survive untouched. Each accessor returns nil when the field is absent.
public struct ClusterView: Sendable {
  public var node: YAMLNode
  public init(_ node: YAMLNode) { self.node = node }

  public var spec: YAMLNode? { node["spec"] }
  public var apiVersion: String? { node["apiVersion"]?.text }
  public var kind: String? { node["kind"]?.text }
  public var name: String? { node[path: "metadata", "name"]?.text }
  public var kubernetesVersion: String? { spec?["kubernetesVersion"]?.text }
  public var cloudProvider: String? {
    if let s = spec?["cloudProvider"] {
      if let t = s.text { return t }
      // v1alpha3-style `cloudProvider: {aws: {}}`
      return s.pairs?.first?.key
    }
    return nil
  }
  public var networkID: String? { spec?["networkID"]?.text }
  public var networkCIDR: String? { spec?["networkCIDR"]?.text }
  public var nonMasqueradeCIDR: String? { spec?["nonMasqueradeCIDR"]?.text }
  public var configBase: String? { spec?["configBase"]?.text }
  public var dnsZone: String? { spec?["dnsZone"]?.text }
  public var containerRuntime: String? { spec?["containerRuntime"]?.text }
  public var masterPublicName: String? { spec?["masterPublicName"]?.text }

  public var subnets: [SubnetView] { spec?["subnets"]?.items?.map(SubnetView.init) ?? [] }

  /// `spec.topology.dns.type` (`Public`/`Private`/`None`).
  public var dnsType: String? { spec?[path: "topology", "dns", "type"]?.text }
  /// `spec.topology.masters` (≤ 1.2x: `public`/`private`).
  public var mastersTopology: String? { spec?[path: "topology", "masters"]?.text }
  /// `spec.topology.nodes`.
  public var nodesTopology: String? { spec?[path: "topology", "nodes"]?.text }

  /// `spec.api.loadBalancer.type` (`Public`/`Internal`).
  public var apiLoadBalancerType: String? { spec?[path: "api", "loadBalancer", "type"]?.text }
  public var apiLoadBalancerClass: String? { spec?[path: "api", "loadBalancer", "class"]?.text }
  public var apiLoadBalancer: YAMLNode? { spec?[path: "api", "loadBalancer"] }

  /// The networking options set under `spec.networking` (e.g. `["flannel"]`), in file order.
  public var networkingOptions: [String] { spec?["networking"]?.pairs?.map(\.key) ?? [] }
  public var networking: YAMLNode? { spec?["networking"] }

  public var egressProxy: EgressProxyView? { spec?["egressProxy"].map(EgressProxyView.init) }

  public var iam: YAMLNode? { spec?["iam"] }
  public var allowContainerRegistry: Bool? { iam?["allowContainerRegistry"]?.boolValue }
  public var iamLegacy: Bool? { iam?["legacy"]?.boolValue }

  /// `spec.additionalPolicies`: role (`master`, `node`, `bastion`, …) → policy JSON text.
  public var additionalPolicies: [(role: String, json: String, mark: Mark)] {
    spec?["additionalPolicies"]?.pairs?.map { ($0.key, $0.value.text ?? "", $0.value.mark) } ?? []
  }

  public var docker: YAMLNode? { spec?["docker"] }
  public var dockerLogDriver: String? { docker?["logDriver"]?.text }
  /// `spec.docker.logOpt` as written (`["max-size=10m", "awslogs-group=…"]`).
  public var dockerLogOpt: [String] { docker?["logOpt"]?.items?.compactMap(\.text) ?? [] }
  public var kubelet: YAMLNode? { spec?["kubelet"] }
  public var containerLogMaxSize: String? { kubelet?["containerLogMaxSize"]?.text }
  public var containerLogMaxFiles: Int64? { kubelet?["containerLogMaxFiles"]?.intValue }

  public var externalDns: YAMLNode? { spec?["externalDns"] }
  public var externalDnsWatchIngress: Bool? { externalDns?["watchIngress"]?.boolValue }
}

/// One entry of `spec.subnets`.
public struct SubnetView: Sendable {
  public var node: YAMLNode
  public init(_ node: YAMLNode) { self.node = node }
  public var name: String? { node["name"]?.text }
  public var cidr: String? { node["cidr"]?.text }
  public var id: String? { node["id"]?.text }
  public var type: String? { node["type"]?.text }
  public var zone: String? { node["zone"]?.text }
  public var egress: String? { node["egress"]?.text }
}

/// `spec.egressProxy`: `httpProxy.host`, `httpProxy.port`, `excludes` (comma-separated).
public struct EgressProxyView: Sendable {
  public var node: YAMLNode
  public init(_ node: YAMLNode) { self.node = node }
  public var host: String? { node[path: "httpProxy", "host"]?.text }
  public var port: String? { node[path: "httpProxy", "port"]?.text }
  public var excludesText: String? { node["excludes"]?.text }
  /// The exclude list split on commas, trimmed, empty entries dropped.
  public var excludes: [String] {
    (excludesText ?? "").split(separator: ",").map { String($0).trimmingSpaces() }.filter { !$0.isEmpty }
  }
}

/// A typed view of a kops v1alpha2 `InstanceGroup` document.
public struct InstanceGroupView: Sendable {
  public var node: YAMLNode
  public init(_ node: YAMLNode) { self.node = node }
  public var spec: YAMLNode? { node["spec"] }
  public var name: String? { node[path: "metadata", "name"]?.text }
  public var clusterLabel: String? { node[path: "metadata", "labels", "kops.k8s.io/cluster"]?.text }
  /// `Master`/`ControlPlane`/`Node`/`Bastion`/`APIServer`.
  public var role: String? { spec?["role"]?.text }
  public var isControlPlane: Bool { role == "Master" || role == "ControlPlane" }
  public var machineType: String? { spec?["machineType"]?.text }
  public var minSize: Int64? { spec?["minSize"]?.intValue }
  public var maxSize: Int64? { spec?["maxSize"]?.intValue }
  public var subnets: [String] { spec?["subnets"]?.items?.compactMap(\.text) ?? [] }
  public var image: String? { spec?["image"]?.text }
  public var rootVolumeSize: Int64? { spec?["rootVolumeSize"]?.intValue }
}
