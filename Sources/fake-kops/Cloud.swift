import Foundation
import Model

/// One simulated EC2 instance: its id and the launch configuration (node config hash) it runs.
struct CloudInstance: Codable, Equatable {
  var id: String
  var hash: String
}

/// One simulated autoscaling group: what `update --yes` last pushed for the instance group, and
/// the instances running.
struct CloudGroup: Codable {
  var name: String
  var role: String
  var minSize: Int
  var maxSize: Int
  var machineType: String
  var image: String
  /// The node configuration last pushed (the text behind `ManagedFile/nodeupconfig-<ig>`).
  var nodeConfig: String
  /// Hash of `nodeConfig`; an instance whose hash differs needs a rolling update.
  var hash: String
  var instances: [CloudInstance]
}

/// A rolling update that ran with `--yes`.
struct RollingUpdateRecord: Codable {
  var time: String
  var instanceGroups: [String]
  var cloudOnly: Bool
  var force: Bool
}

/// The simulated cloud of one cluster, kept in `<store>/<cluster>/.fake-cloud.json`.
struct CloudState: Codable {
  var formatVersion: Int
  /// Whether `update cluster --yes` ever succeeded (the cluster exists in the cloud).
  var applied: Bool
  var kopsVersion: String?
  /// The completed spec last pushed (`ManagedFile/cluster-completed.spec`).
  var clusterSpec: String?
  /// `additional.<role>s.<cluster>` → policy JSON last pushed.
  var iamPolicies: [String: String]
  var groups: [CloudGroup]
  /// How many `update cluster --yes` runs succeeded.
  var updates: Int
  var rollingUpdates: [RollingUpdateRecord]
  var instanceCounter: Int

  static let empty = CloudState(
    formatVersion: 1, applied: false, kopsVersion: nil, clusterSpec: nil, iamPolicies: [:], groups: [], updates: 0,
    rollingUpdates: [], instanceCounter: 0)

  static func file(_ store: StateStore, _ cluster: String) -> String { store.path(cluster, ".fake-cloud.json") }

  static func load(_ store: StateStore, _ cluster: String) throws(KopsError) -> CloudState {
    let path = file(store, cluster)
    guard let data = FileManager.default.contents(atPath: path) else { return .empty }
    do {
      return try JSONDecoder().decode(CloudState.self, from: data)
    } catch {
      throw KopsError("fake-kops: cannot read the simulated cloud \(path): \(error)")
    }
  }

  func save(_ store: StateStore, _ cluster: String) throws(KopsError) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    guard let data = try? encoder.encode(self) else { throw KopsError("fake-kops: cannot encode the simulated cloud") }
    try writeTextFile(CloudState.file(store, cluster), String(decoding: data, as: UTF8.self) + "\n")
  }

  func group(_ name: String) -> CloudGroup? { groups.first { $0.name == name } }

  /// A new, stable-looking instance id (`i-0` + 16 hex digits).
  mutating func newInstance(cluster: String, group: String, hash: String) -> CloudInstance {
    instanceCounter += 1
    let digest = SHA256.digest("\(cluster)/\(group)/\(instanceCounter)")
    return CloudInstance(id: "i-0" + String(digest.dropFirst("sha256:".count).prefix(16)), hash: hash)
  }
}

/// What the cluster and instance groups in the store ask the cloud to be (kops's task model,
/// reduced to what hk can observe: files, IAM policies, launch configuration, group sizes).
struct DesiredGroup {
  var name: String
  var role: String
  var minSize: Int
  var maxSize: Int
  var machineType: String
  var image: String
  var rootVolumeSize: Int?
  var subnets: [String]
  var nodeConfig: String
  var hash: String

  /// kops's IAM role prefix for the group's role.
  var iamRole: String {
    switch role {
    case "Master", "ControlPlane", "APIServer": "masters"
    case "Bastion": "bastions"
    default: "nodes"
    }
  }

  /// The directory of the nodeup config (`igconfig/<role>/<ig>`).
  var igconfigRole: String {
    switch role {
    case "Master", "ControlPlane": "control-plane"
    case "Bastion": "bastion"
    case "APIServer": "apiserver"
    default: "node"
    }
  }
}

struct DesiredCloud {
  var cluster: String
  var completedSpec: String
  var kopsVersion: String
  var groups: [DesiredGroup]
  var iamPolicies: [String: String]

  // The launch template inputs, modelled on kops (kops-contract §9): user data holds the nodeup
  // URL and hash (one per kops release), the proxy environment with the excludes kops recomputes
  // at update, and the hash of the group's nodeup config; the template itself carries tags, the
  // key pair, the instance type, image and volumes. A field that reaches none of these never
  // makes an instance `NeedsUpdate`, whatever a planner predicts.

  /// Cluster fields in every group's nodeup config (`pkg/apis/nodeup/config.go`,
  /// `pkg/model/components/kubelet.go`).
  static let nodeupFields = [
    "docker", "containerd", "kubelet", "kubernetesVersion", "containerRuntime", "kubeProxy", "networking", "nonMasqueradeCIDR",
    "podCIDR", "serviceClusterIPRange", "fileAssets", "hooks", "assets", "ntp", "sysctlParameters", "updatePolicy", "packages",
    "cloudProvider", "kubeDNS", "clusterDNSDomain",
  ]
  /// Cluster fields in the control plane's (and APIServer groups') nodeup config.
  static let controlPlaneFields = [
    "api", "masterPublicName", "masterInternalName", "dnsZone", "serviceAccountIssuerDiscovery", "kubeAPIServer",
    "kubeControllerManager", "kubeScheduler", "masterKubelet", "controlPlaneKubelet", "authentication", "authorization",
    "encryptionConfig", "configBase",
  ]
  /// InstanceGroup fields that are autoscaling-group settings, not launch template inputs.
  static let autoscalingGroupFields: Set<String> = [
    "minSize", "maxSize", "autoscale", "suspendProcesses", "instanceProtection", "externalLoadBalancers", "warmPool",
    "rollingUpdate", "maxInstanceLifetime", "capacityRebalance", "subnets", "mixedInstancesPolicy",
  ]

  /// What kops renders into one group's launch template, as YAML (hashed for `NeedsUpdate`).
  static func launchTemplateInputs(
    cluster completed: YAMLNode, stored: YAMLNode, name: String, ig: YAMLNode, role: String, rt: Runtime
  ) -> YAMLNode {
    let spec = completed["spec"] ?? .mapping([])
    let controlPlane = role == "Master" || role == "ControlPlane" || role == "APIServer"
    var nodeup: [YAMLPair] = []
    func take(_ key: String) {
      if let v = spec[key], !v.isNull { nodeup.append(YAMLPair(key: key, value: KopsCodec.canonical(v))) }
    }
    for key in nodeupFields { take(key) }
    if let range = spec[path: "kubeAPIServer", "serviceNodePortRange"] {
      nodeup.append(YAMLPair(key: "serviceNodePortRange", value: range))
    }
    let dnsNone = spec[path: "topology", "dns", "type"]?.text == "None"
    nodeup.append(YAMLPair(key: "apiAddressFromDNS", value: .bool(!dnsNone)))
    let release = rt.release
    if release.userDataHasClusterSpec { take("cloudConfig") }  // the cluster_spec section of user data
    if controlPlane {
      for key in controlPlaneFields { take(key) }
      if release.controlPlaneNodeupHasEtcd { take("etcdClusters") }
      if release.controlPlaneNodeupHasCloudConfig { take("cloudConfig") }
      if KopsRelease.kubernetesFrom124(spec["kubernetesVersion"]?.text) == false { take("cloudControllerManager") }
    }
    var igSpec = ig["spec"] ?? .mapping([])
    for p in igSpec.pairs ?? [] where autoscalingGroupFields.contains(p.key) { igSpec.remove(p.key) }
    var template: [YAMLPair] = [
      YAMLPair(key: "nodeupURL", value: .string("https://artifacts.k8s.io/binaries/kops/\(rt.versionText)/linux/amd64/nodeup")),
      YAMLPair(key: "nodeupConfig", value: .mapping(nodeup)),
      YAMLPair(key: "instanceGroup", value: KopsCodec.canonical(igSpec)),
    ]
    // PerformAssignments runs on the stored spec, before the completed-spec defaults are filled
    // in (upup/pkg/fi/cloudup/populate_cluster_spec.go).
    let assigned = Assignments.inMemory(stored["spec"] ?? .mapping([]), name: name, rt: rt)
    if let proxy = Assignments.proxyEnvironment(assigned, name: name, rt: rt) {
      template.append(YAMLPair(key: "proxyEnvironment", value: .string(proxy)))
    }
    for key in ["sshKeyName", "cloudLabels"] {
      if let v = spec[key], !v.isNull { template.append(YAMLPair(key: key, value: KopsCodec.canonical(v))) }
    }
    return .mapping(template)
  }

  init(cluster: YAMLNode, groups igs: [YAMLNode], rt: Runtime) {
    let name = cluster[path: "metadata", "name"]?.text ?? ""
    self.cluster = name
    kopsVersion = rt.versionText
    var completed = cluster
    let populated: [(String, YAMLNode)] = [
      ("channel", .string("stable")), ("clusterDNSDomain", .string("cluster.local")),
      ("containerRuntime", .string("containerd")), ("podCIDR", .string("100.96.0.0/11")),
      ("serviceClusterIPRange", .string("100.64.0.0/13")), ("nonMasqueradeCIDR", .string("100.64.0.0/10")),
    ]
    for (key, value) in populated where completed[path: "spec", key] == nil {
      completed.set(path: ["spec", key], value)
    }
    completedSpec = KopsCodec.yaml(completed)

    var policies: [String: String] = [:]
    for p in cluster[path: "spec", "additionalPolicies"]?.pairs ?? [] {
      let role = ["master": "masters", "control-plane": "masters", "node": "nodes", "bastion": "bastions"][p.key] ?? p.key
      policies["additional.\(role).\(name)"] = p.value.text ?? ""
    }
    iamPolicies = policies

    var groups: [DesiredGroup] = []
    for ig in igs {
      let igName = ig[path: "metadata", "name"]?.text ?? ""
      let role = ig[path: "spec", "role"]?.text ?? "Node"
      let defaultMin = role == "Node" ? 2 : 1
      let minSize = Int(ig[path: "spec", "minSize"]?.intValue ?? Int64(defaultMin))
      let maxSize = Int(ig[path: "spec", "maxSize"]?.intValue ?? Int64(minSize))
      let config = YAMLNode.mapping([
        YAMLPair(key: "cluster", value: .string(name)),
        YAMLPair(key: "instanceGroup", value: .string(igName)),
        YAMLPair(
          key: "launchTemplate",
          value: Self.launchTemplateInputs(cluster: completed, stored: cluster, name: name, ig: ig, role: role, rt: rt)),
      ])
      let text = YAMLEmitter.emit(config)
      groups.append(
        DesiredGroup(
          name: igName, role: role, minSize: minSize, maxSize: maxSize,
          machineType: ig[path: "spec", "machineType"]?.text ?? "", image: ig[path: "spec", "image"]?.text ?? "",
          rootVolumeSize: ig[path: "spec", "rootVolumeSize"]?.intValue.map { Int($0) },
          subnets: ig[path: "spec", "subnets"]?.items?.compactMap(\.text) ?? [], nodeConfig: text,
          hash: String(SHA256.digest(text).dropFirst("sha256:".count).prefix(16))))
    }
    self.groups = groups
  }

  /// The user data kops renders into the launch template: only the config hash matters here.
  static func userData(_ group: String, hash: String) -> String {
    "#!/bin/bash\nset -o errexit\n# fake-kops nodeup bootstrap for \(group)\nNODEUP_CONFIG_HASH=\(hash)\n/opt/kops/bin/nodeup --conf=/opt/kops/conf/kube_env.yaml\n"
  }
}
