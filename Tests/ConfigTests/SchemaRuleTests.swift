import Model
import Testing

@testable import Config

/// `unknown-field` and `field-type` from kops's generated v1alpha2 schema, per release.
@Suite struct SchemaRuleTests {
  @Test func misspeltFieldIsAnErrorWithDidYouMean() throws {
    let c = Sample.cluster(["egress": "  👉egresProxy:\n    httpProxy:\n      host: proxy.corp\n      port: 3128\n"])
    let d = expectFinding(try Sample.validate(cluster: c), "unknown-field", at: Marked(c).position)
    #expect(d?.message.contains("spec.egresProxy: kops 1.28.4 has no field 'egresProxy'") == true, "\(String(describing: d))")
    #expect(d?.message.contains("did you mean 'egressProxy'?") == true)
    #expect(d?.message.contains("exists in kops") == false)
  }

  @Test func misspeltNestedFieldInAnInstanceGroup() throws {
    let ig = Sample.instanceGroup.replacingOccurrences(
      of: "  machineType: m5.large\n", with: "  machineType: m5.large\n  👉rootVolumSize: 50\n")
    let c = Sample.cluster(instanceGroups: [ig])
    let d = expectFinding(try Sample.validate(cluster: c), "unknown-field", at: Marked(c).position)
    #expect(d?.message.hasPrefix("instancegroup nodes: spec.rootVolumSize: kops 1.28.4 has no field") == true, "\(String(describing: d))")
    #expect(d?.message.contains("did you mean 'rootVolumeSize'?") == true)
  }

  @Test func fieldOfALaterReleaseNamesThem() throws {
    let c = Sample.cluster(["packages": "  👉packages:\n  - nfs-common\n"])
    let d = expectFinding(try Sample.validate(cluster: c), "unknown-field", at: Marked(c).position)
    #expect(d?.message.contains("'packages' exists in kops 1.29.0–1.37.0-dev") == true, "\(String(describing: d))")
    // the same manifest is fine for kops 1.29
    expectNoFinding(try Sample.validate(cluster: c, settings: Sample.settings(kops: "1.29.2")), "unknown-field")
  }

  @Test func instanceGroupFieldOfALaterRelease() throws {
    let ig = Sample.instanceGroup.replacingOccurrences(of: "  minSize: 1\n", with: "  minSize: 1\n  👉capacityRebalance: true\n")
    let c = Sample.cluster(instanceGroups: [ig])
    let d = expectFinding(
      try Sample.validate(cluster: c, settings: Sample.settings(kops: "1.25.4")), "unknown-field", at: Marked(c).position)
    #expect(d?.message.contains("'capacityRebalance' exists in kops 1.26.0–") == true, "\(String(describing: d))")
  }

  @Test func unknownFieldWithNothingCloseSaysRemoveIt() throws {
    let c = Sample.cluster(["zz": "  👉serviceOIDCProvider:\n    issuerURL: https://example.com\n"])
    let d = expectFinding(try Sample.validate(cluster: c), "unknown-field", at: Marked(c).position)
    #expect(d?.message.hasSuffix("remove it") == true, "\(String(describing: d))")
  }

  @Test func wrongValueTypes() throws {
    let c = Sample.cluster([
      "zz": "  kubeAPIServer:\n    auditLogMaxAge: 👉ten\n    anonymousAuth: 👉\"false\"\n"
        + "  sshAccess: 👉10.0.0.0/8\n  cloudLabels:\n    team: platform\n    cost: 👉[a]\n"
    ])
    let diagnostics = try Sample.validate(cluster: c)
    let types = diagnostics.filter { $0.rule == "field-type" }
    let marked = Marked(c).positions.map { "\(Sample.clusterFile):\($0)" }
    #expect(types.map(\.position) == marked, "\(types.map(\.description))")
    #expect(types.first?.message.contains("spec.kubeAPIServer.auditLogMaxAge must be an integer, found a string ('ten')") == true)
    #expect(types.dropFirst().first?.message.contains("must be a boolean") == true)
    #expect(types.dropFirst(2).first?.message.contains("spec.sshAccess must be a list of strings") == true)
    #expect(types.last?.message.contains("spec.cloudLabels.cost must be a string, found a list") == true)
  }

  @Test func freeMapsQuantitiesDurationsAndIntOrStringAreAccepted() throws {
    let c = Sample.cluster([
      "zz": """
      cloudLabels:
        any-key/at.all: "x"
        another: "y"
      kubeAPIServer:
        auditWebhookBatchThrottleQps: 3.14
        auditWebhookBatchThrottleBurst: 10
      kubeControllerManager:
        horizontalPodAutoscalerSyncPeriod: 30s
      kubelet:
        kubeReserved:
          cpu: 100m
          memory: 1Gi
      additionalPolicies:
        node: |
          []
      """.split(separator: "\n").map { "  \($0)\n" }.joined()
    ])
    let diagnostics = try Sample.validate(cluster: c)
    expectNoFinding(diagnostics, "unknown-field")
    expectNoFinding(diagnostics, "field-type")
  }

  @Test func numberWhereKopsWantsAStringIsAnError() throws {
    let c = Sample.cluster(["kubernetesVersion": "  kubernetesVersion: 👉1.28\n"])
    let d = expectFinding(try Sample.validate(cluster: c), "field-type", at: Marked(c).position)
    #expect(d?.message.contains("quote it: \"1.28\"") == true, "\(String(describing: d))")
  }

  /// A document with thousands of unknown keys costs 50 suggestions and one summary line.
  @Test func manyUnknownFieldsAreCapped() throws {
    let keys = (0..<3000).map { "  zz\($0): 1\n" }.joined()
    let c = Sample.cluster(["zz": keys])
    let unknown = try Sample.validate(cluster: c).filter { $0.rule == "unknown-field" }
    #expect(unknown.count == 51)
    #expect(unknown.last?.message.contains("2950 more fields kops 1.28.4 does not define") == true, "\(String(describing: unknown.last))")
  }

  @Test func schemaReleasesComeFromTags() {
    let schema = KopsSchema.shared
    #expect(schema.releases.first == "1.19.0")
    #expect(schema.releases.contains("1.23.4"))
    #expect(schema.releases.contains("1.28.4"))
    // a patch the schema lacks falls back to the newest release before it
    let i = schema.releaseIndex(for: KopsVersion(1, 28, 99))
    #expect(schema.releases[i] == "1.28.7")
    #expect(schema.field("egressProxy", in: "ClusterSpec", release: i) == .object("EgressProxySpec"))
    #expect(schema.field("egresProxy", in: "ClusterSpec", release: i) == nil)
  }

  /// The generated data packs a struct's `field type releases` triples onto as few lines as
  /// fit; the one-triple-a-line layout the script wrote before reads the same.
  @Test func packedSchemaTextReadsLikeOneFieldALine() {
    let packed = "T A x s 0-1 y ~[@B 1 z i 0\nw b 0-1,3\nT B v {s 0-3\n"
    let lines = "T A\nx s 0-1\ny ~[@B 1\nz i 0\nw b 0-1,3\nT B\nv {s 0-3\n"
    let a = KopsSchema(releases: "1.0.0 1.1.0 1.2.0 1.3.0", text: packed)
    let b = KopsSchema(releases: "1.0.0 1.1.0 1.2.0 1.3.0", text: lines)
    for release in 0..<4 {
      for (field, type) in [("x", "A"), ("y", "A"), ("z", "A"), ("w", "A"), ("v", "B"), ("nope", "A")] {
        #expect(a.field(field, in: type, release: release) == b.field(field, in: type, release: release), "\(type).\(field) at \(release)")
      }
    }
    #expect(a.field("y", in: "A", release: 1) == .list(.object("B")))
    #expect(a.anyRelease("y", in: "A")?.omittedWhenZero == true)
    #expect(a.field("w", in: "A", release: 2) == nil)
    #expect(a.field("w", in: "A", release: 3) == .bool)
    #expect(a.otherReleases(of: "w", in: "A") == "1.0.0–1.1.0, 1.3.0")
    #expect(a.hasType("B") && !a.hasType("C"))
  }
}

/// What kops checks only at update, after the objects are written: errors before anything runs.
@Suite struct LateRuleTests {
  static func subnet(_ cidr: String, type: String = "Private", egress: String = "External") -> String {
    "  subnets:\n  - name: a\n    zone: eu-west-1a\n    cidr: \(cidr)\n    type: \(type)\n    egress: \(egress)\n"
  }

  @Test func subnetOverlappingKopsDefaultServiceRange() throws {
    let c = Sample.cluster([
      "networkCIDR": "  networkCIDR: 100.64.0.0/16\n", "subnets": Self.subnet("👉100.64.0.0/19"),
    ])
    let d = expectFinding(try Sample.validate(cluster: c), "subnet-overlaps-services", at: Marked(c).position)
    #expect(d?.message.contains("overlaps kops's default serviceClusterIPRange 100.64.0.0/13") == true, "\(String(describing: d))")
    expectNoFinding(try Sample.validate(cluster: c), "subnet-overlaps-pods")
  }

  @Test func subnetOverlappingAGivenPodCIDR() throws {
    let c = Sample.cluster([
      "podCIDR": "  podCIDR: 10.0.0.0/18\n  serviceClusterIPRange: 10.200.0.0/16\n", "subnets": Self.subnet("👉10.0.0.0/19"),
    ])
    let d = expectFinding(try Sample.validate(cluster: c), "subnet-overlaps-pods", at: Marked(c).position)
    #expect(d?.message.contains("overlaps spec.podCIDR 10.0.0.0/18") == true, "\(String(describing: d))")
  }

  /// kops's own private-shared-subnet fixture has a Utility subnet without a zone, which
  /// `kops create -f` refuses ("invalid AWS zone"): hk says so before anything runs.
  @Test func subnetWithoutAZone() throws {
    let c = Sample.cluster([
      "subnets": Self.subnet("10.0.0.0/19") + "  - 👉name: u\n    cidr: 10.0.32.0/22\n    type: Utility\n"
    ])
    let d = expectFinding(try Sample.validate(cluster: c), "subnet-zone-missing", at: Marked(c).position)
    #expect(d?.message.contains("spec.subnets[name=u] has no AWS zone") == true, "\(String(describing: d))")
    expectNoFinding(try Sample.validate(cluster: Sample.cluster(["subnets": Self.subnet("10.0.0.0/19")])), "subnet-zone-missing")
  }

  @Test(arguments: ["nat-0abc", "i-0abc", "tgw-0abc"])
  func natEgressOnAUtilitySubnet(egress: String) throws {
    let c = Sample.cluster([
      "subnets": Self.subnet("10.0.0.0/19")
        + "  - name: u\n    zone: eu-west-1a\n    cidr: 10.0.32.0/22\n    type: Utility\n    egress: 👉\(egress)\n"
    ])
    let d = expectFinding(try Sample.validate(cluster: c), "subnet-egress-public", at: Marked(c).position)
    #expect(d?.message.contains("spec.subnets[name=u].egress \(egress) on a Utility subnet") == true, "\(String(describing: d))")
    expectNoFinding(
      try Sample.validate(cluster: Sample.cluster(["subnets": Self.subnet("10.0.0.0/19", egress: egress)])), "subnet-egress-public")
  }

  @Test func externalDNSProviderWithoutDNS() throws {
    let c = Sample.cluster([
      "externalDns": "  externalDns:\n    provider: 👉external-dns\n", "topology": "  topology:\n    dns:\n      type: None\n",
    ])
    expectFinding(try Sample.validate(cluster: c), "external-dns-none", at: Marked(c).position)
  }
}
