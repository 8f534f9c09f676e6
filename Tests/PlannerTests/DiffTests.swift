import Model
import Planner
import Testing

@Suite struct DiffTests {
  @Test func namedListsMatchByName() throws {
    let a = try yaml("spec:\n  subnets:\n  - name: a\n    cidr: 10.0.0.0/24\n  - name: b\n    cidr: 10.0.1.0/24\n")
    let b = try yaml("spec:\n  subnets:\n  - name: b\n    cidr: 10.0.1.0/24\n  - name: c\n    cidr: 10.0.2.0/24\n")
    let d = TreeDiff.diff(a, b)
    #expect(d.map(\.path) == ["spec.subnets[name=c]", "spec.subnets[name=a]"])
    #expect(d.map(\.action) == [.create, .delete])
  }

  /// Deleted keys are found by a search in place for a small mapping and through a set for a
  /// large one (over 16 keys); both must give the same diffs, in the same order.
  @Test(arguments: [3, 16, 17, 40])
  func deletedKeysOfSmallAndLargeMappings(size: Int) throws {
    let keys = (0..<size).map { "k\($0)" }
    let before = try yaml("m:\n" + keys.map { "  \($0): 1\n" }.joined())
    // Every third key deleted, every fifth changed, one added.
    let kept = keys.enumerated().filter { $0.offset % 3 != 1 }.map { ($0.element, $0.offset % 5 == 0 ? 2 : 1) }
    let after = try yaml("m:\n" + kept.map { "  \($0.0): \($0.1)\n" }.joined() + "  new: 1\n")
    let d = TreeDiff.diff(before, after)
    let changed = kept.filter { $0.1 == 2 }.map { "m.\($0.0)" }
    let deleted = keys.enumerated().filter { $0.offset % 3 == 1 }.map { "m.\($0.element)" }
    #expect(d.map(\.path) == changed + ["m.new"] + deleted)
    #expect(d.map(\.action) == changed.map { _ in .update } + [.create] + deleted.map { _ in .delete })
  }

  @Test func quotedNumberDiffersFromNumber() throws {
    let a = try yaml("port: \"3128\"\n")
    let b = try yaml("port: 3128\n")
    #expect(TreeDiff.diff(a, b).count == 1)
    let c = try yaml("port: '3128'\n")
    #expect(TreeDiff.diff(a, c).isEmpty)
  }

  @Test func volatileMetadataIsIgnored() throws {
    let a = try yaml("metadata:\n  name: x\n  creationTimestamp: \"2024-01-01T00:00:00Z\"\n  generation: 3\n")
    let b = try yaml("metadata:\n  name: x\n")
    #expect(TreeDiff.diff(a, b).isEmpty)
  }

  @Test func unnamedListsCompareAsWholeValues() throws {
    let a = try yaml("l: [1, 2]\n")
    let b = try yaml("l: [2, 1]\n")
    let d = TreeDiff.diff(a, b)
    #expect(d.count == 1)
    #expect(d.first?.path == "l")
  }

  @Test(arguments: [
    ("spec.egressProxy", RollRules.Scope.all), ("spec.additionalPolicies", .none), ("spec.externalDns", .none),
    ("spec.kubeAPIServer", .controlPlane), ("spec.someFutureField", .all), ("spec.api", .controlPlane),
    ("spec.masterPublicName", .controlPlane), ("spec.dnsZone", .controlPlane), ("spec.serviceAccountIssuerDiscovery", .controlPlane),
    ("spec.kubeDNS", .all), ("spec.clusterDNSDomain", .all), ("spec.configBase", .controlPlane),
  ])
  func rollTable(path: String, scope: RollRules.Scope) {
    #expect(RollRules.scope(clusterSpecKey: String(path.split(separator: ".")[1])) == scope)
  }

  /// Rules that depend on the kops release, the rest of the spec or the changed sub-path (§9).
  @Test func versionAndContextAwareRules() throws {
    let proxy = try yaml("spec:\n  egressProxy:\n    httpProxy: {host: p, port: 3128}\n  kubernetesVersion: 1.28.9\n")
    let bare = try yaml("spec:\n  kubernetesVersion: 1.23.9\n")
    func scope(_ key: String, _ sub: [String] = [], before: YAMLNode? = nil, after: YAMLNode? = nil, cluster: YAMLNode, _ v: String)
      -> RollRules.Scope
    {
      RollRules.scope(
        clusterSpecKey: key,
        context: .init(subPath: sub, before: before, after: after, cluster: cluster, kops: KopsVersion(v) ?? KopsVersion(0, 0)))
    }
    #expect(scope("etcdClusters", cluster: bare, "1.27.3") == .controlPlane)
    #expect(scope("etcdClusters", cluster: bare, "1.28.0") == RollRules.Scope.none)
    #expect(scope("cloudConfig", cluster: bare, "1.23.4") == .all)
    #expect(scope("cloudConfig", cluster: bare, "1.28.4") == .controlPlane)
    #expect(scope("additionalNetworkCIDRs", cluster: proxy, "1.27.0") == .all)
    #expect(scope("additionalNetworkCIDRs", cluster: proxy, "1.26.6") == RollRules.Scope.none)
    #expect(scope("additionalNetworkCIDRs", cluster: bare, "1.28.4") == RollRules.Scope.none)
    #expect(scope("kubeAPIServer", ["serviceNodePortRange"], cluster: bare, "1.28.4") == .all)
    #expect(scope("cloudControllerManager", cluster: proxy, "1.28.4") == RollRules.Scope.none)
    #expect(scope("cloudControllerManager", cluster: try yaml("spec:\n  kubernetesVersion: 1.23.9\n"), "1.23.4") == .controlPlane)
    let none = YAMLNode.string("None")
    let priv = YAMLNode.string("Private")
    #expect(scope("topology", ["dns", "type"], before: priv, after: none, cluster: bare, "1.28.4") == .all)
    #expect(scope("topology", ["dns", "type"], before: priv, after: .string("Public"), cluster: bare, "1.28.4") == RollRules.Scope.none)
    #expect(scope("topology", ["dns", "type"], before: priv, after: .string("Public"), cluster: proxy, "1.28.4") == .all)
    #expect(scope("topology", ["dns", "type"], before: priv, after: .string("Public"), cluster: proxy, "1.25.4") == RollRules.Scope.none)
    #expect(scope("topology", ["masters"], before: priv, after: .string("public"), cluster: bare, "1.28.4") == RollRules.Scope.none)
    for key in ["rollingUpdate", "maxInstanceLifetime", "mixedInstancesPolicy", "subnets", "capacityRebalance"] {
      #expect(!RollRules.rollsInstanceGroup(specKey: key), "\(key)")
    }
    #expect(RollRules.rollsInstanceGroup(specKey: "machineType"))
    // every rule cites its kops source
    #expect(RollRules.table.allSatisfy { !$0.source.isEmpty })
  }

  /// APIServer-role groups roll with the control plane.
  @Test func apiServerGroupsRollWithTheControlPlane() throws {
    let igs = try ["Master", "APIServer", "Node"].map { role in
      InstanceGroupView(try yaml("metadata:\n  name: \(role.lowercased())\nspec:\n  role: \(role)\n"))
    }
    #expect(RollRules.groups(.controlPlane, instanceGroups: igs) == ["apiserver", "master"])
  }
}
