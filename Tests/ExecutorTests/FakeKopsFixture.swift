import Config
import Foundation
import HKTestSupport
import Model
import Testing

/// A scratch directory, a VPC and two subnets on the shared moto server, and fake-kops pointed at both.
final class FakeKopsFixture: @unchecked Sendable {
  static let cluster = "c1.k8s.test"

  let dir: TemporaryDirectory
  let moto: MotoServer?
  let kops: FakeKops
  let vpc: String
  let privateSubnet: String
  let utilitySubnet: String

  init(version: String = "1.28.4", withMoto: Bool = true) throws {
    dir = try TemporaryDirectory(prefix: "hk-fake-kops")
    if withMoto {
      let server = try MotoServer.shared()
      moto = server
      vpc = try server.createVPC(cidr: "10.30.0.0/16")
      privateSubnet = try server.createSubnet(vpc: vpc, cidr: "10.30.32.0/19", zone: "ap-northeast-1a")
      utilitySubnet = try server.createSubnet(vpc: vpc, cidr: "10.30.0.0/22", zone: "ap-northeast-1a")
    } else {
      moto = nil
      vpc = "vpc-0000000000000000a"
      privateSubnet = "subnet-0000000000000000a"
      utilitySubnet = "subnet-0000000000000000b"
    }
    kops = try FakeKops(directory: dir.file("kops"), version: version, moto: moto)
    kops.extraEnvironment["FAKE_KOPS_TASK_DEADLINE"] = "1"
  }

  /// The Cluster document: shared VPC and subnets, private DNS, internal NLB, an egress proxy.
  func clusterYAML(
    egress: String? = nil, proxyPort: Int = 3128, excludes: String = "corp.local", extraSpec: String = "",
    metadata: String = ""
  ) -> String {
    let egressLine = egress.map { "\n    egress: \($0)" } ?? ""
    return """
      apiVersion: kops.k8s.io/v1alpha2
      kind: Cluster
      metadata:
        name: \(Self.cluster)\(metadata)
      spec:
        cloudProvider: aws
        kubernetesVersion: 1.28.9
        networkID: \(vpc)
        networkCIDR: 10.30.0.0/16
        api:
          loadBalancer: {type: Internal, class: Network}
        authorization: {rbac: {}}
        topology:
          dns: {type: Private}
        dnsZone: k8s.test
        networking: {cilium: {}}
        egressProxy:
          httpProxy: {host: proxy.corp.local, port: \(proxyPort)}
          excludes: \(excludes)
        iam: {allowContainerRegistry: true}
        subnets:
        - name: private-a
          zone: ap-northeast-1a
          cidr: 10.30.32.0/19
          id: \(privateSubnet)
          type: Private\(egressLine)
        - name: utility-a
          zone: ap-northeast-1a
          cidr: 10.30.0.0/22
          id: \(utilitySubnet)
          type: Utility\(egressLine)
      \(extraSpec)
      """
  }

  static func instanceGroupYAML(_ name: String, role: String = "Node", min: Int = 2, max: Int = 4, machineType: String = "m5.large")
    -> String
  {
    """
    apiVersion: kops.k8s.io/v1alpha2
    kind: InstanceGroup
    metadata:
      name: \(name)
      labels:
        kops.k8s.io/cluster: \(cluster)
    spec:
      role: \(role)
      image: ami-0123456789abcdef0
      machineType: \(machineType)
      minSize: \(min)
      maxSize: \(max)
      subnets: [private-a]
    """
  }

  static var defaultGroups: [String] {
    [
      instanceGroupYAML("control-plane-a", role: "Master", min: 1, max: 1), instanceGroupYAML("nodes-a"),
      instanceGroupYAML("nodes-b", min: 1, max: 3),
    ]
  }

  /// Writes documents as one manifest and returns its path.
  func manifest(_ name: String, _ documents: [String]) throws -> String {
    try dir.write(name, documents.joined(separator: "\n---\n") + "\n")
  }

  /// `kops create -f` of the cluster and its three instance groups.
  @discardableResult
  func create(egress: String? = nil) throws -> ProcessResult {
    let file = try manifest("cluster.yaml", [clusterYAML(egress: egress)] + Self.defaultGroups)
    let result = try kops.run(["create", "-f", file])
    try #require(result.exitCode == 0, "create failed: \(result)")
    return result
  }

  /// Creates an internet gateway and attaches it to the VPC.
  @discardableResult
  func attachGateway() throws -> String {
    let server = try #require(moto)
    let igw = try server.createInternetGateway()
    try server.attachInternetGateway(igw, vpc: vpc)
    return igw
  }

  /// `kops get cluster NAME -o yaml`, parsed.
  func liveCluster() throws -> YAMLNode {
    let result = try kops.run(["get", "cluster", Self.cluster, "-o", "yaml"])
    try #require(result.exitCode == 0, "get cluster failed: \(result)")
    return try #require(try YAMLParser.parse(result.stdout, file: "get.yaml").first)
  }

  /// The instance group names `kops get instancegroups` lists.
  func liveGroupNames() throws -> [String] {
    let result = try kops.run(["get", "instancegroups", "--name", Self.cluster, "-o", "yaml"])
    try #require(result.exitCode == 0, "get instancegroups failed: \(result)")
    return try YAMLParser.parse(result.stdout, file: "igs.yaml").compactMap { $0[path: "metadata", "name"]?.text }
  }

  /// Exports an admin kubeconfig to a scratch file and returns its path (for ≤ 1.30 commands).
  func exportKubeconfig() throws -> String {
    let file = dir.file("scratch-kubeconfig")
    let result = try kops.run(["export", "kubeconfig", Self.cluster, "--admin=1h", "--kubeconfig", file])
    try #require(result.exitCode == 0, "export kubeconfig failed: \(result)")
    return file
  }

  /// The rows of a kops table (tab-separated, several tabs between columns).
  static func tableRows(_ text: String) -> [[String]] {
    text.split(separator: "\n").map { $0.split(separator: "\t").map(String.init) }.filter { !$0.isEmpty }
  }

  /// The rolling-update table rows keyed by instance group name (header and messages dropped).
  static func rollingRows(_ stdout: String) -> [String: [String]] {
    var rows: [String: [String]] = [:]
    var header: [String]? = nil
    for row in tableRows(stdout) {
      if row.first == "NAME" {
        header = row
        continue
      }
      guard header != nil, row.count >= 7, let name = row.first else { continue }
      rows[name] = row
    }
    return rows
  }
}
