import Model
import Testing

@testable import Config

/// One test per rule: a minimal environment with one thing wrong, and the exact line:column.
@Suite struct BaselineTests {
  @Test(arguments: [
    Sample.settings(strategy: "none"), Sample.settings(strategy: "external-egress"),
    Sample.settings(strategy: "lifecycle-ignore"), Sample.settings(strategy: "temporary", igwID: "igw-0abc1234"),
  ])
  func sampleEnvironmentIsClean(settings: String) throws {
    let diagnostics = try Sample.validate(settings: settings)
    #expect(diagnostics.isEmpty, "\(diagnostics.map(\.description))")
  }

  @Test func diagnosticsAreSortedByFileLineColumn() throws {
    let cluster = Sample.cluster([
      "cloudProvider": "  cloudProvider: gce\n",
      "networking": "  networking:\n    cilium: {}\n    calico: {}\n",
    ])
    let diagnostics = try Sample.validate(cluster: cluster, settings: Sample.settings(strategy: "temporary"))
    #expect(diagnostics.count >= 3)
    let keys = diagnostics.compactMap(\.location).map { ($0.file, $0.line, $0.column) }
    #expect(keys.count == diagnostics.count)
    #expect(zip(keys, keys.dropFirst()).allSatisfy { $0 <= $1 })
    // environment.yaml sorts after cluster.yaml
    #expect(diagnostics.last?.rule == "igw-id-missing")
  }
}

@Suite struct KopsRejectsTests {
  @Test func networkingMultiple() throws {
    let c = Sample.cluster(["networking": "  networking:\n    cilium: {}\n    👉calico: {}\n"])
    let d = expectFinding(try Sample.validate(cluster: c), "networking-multiple", at: Marked(c).position)
    #expect(d?.message.contains("cilium, calico") == true)
  }

  @Test func networkingNullOptionDoesNotCount() throws {
    let c = Sample.cluster(["networking": "  networking:\n    flannel: null\n    cilium: {}\n"])
    expectNoFinding(try Sample.validate(cluster: c), "networking-multiple")
  }

  @Test func subnetCIDROutside() throws {
    let c = Sample.cluster([
      "subnets": "  subnets:\n  - name: a\n    zone: eu-west-1a\n    cidr: 👉10.1.0.0/24\n    type: Private\n    egress: External\n"
    ])
    let d = expectFinding(try Sample.validate(cluster: c), "subnet-cidr-outside", at: Marked(c).position)
    #expect(d?.message.contains("spec.subnets[name=a].cidr 10.1.0.0/24 is outside networkCIDR 10.0.0.0/16") == true)
  }

  @Test func subnetCIDRInsideAdditionalNetwork() throws {
    let c = Sample.cluster([
      "networkCIDR": "  networkCIDR: 10.0.0.0/16\n  additionalNetworkCIDRs:\n  - 10.1.0.0/16\n",
      "subnets": "  subnets:\n  - name: a\n    zone: eu-west-1a\n    cidr: 10.1.0.0/24\n    type: Private\n    egress: External\n",
    ])
    expectNoFinding(try Sample.validate(cluster: c), "subnet-cidr-outside")
  }

  @Test func subnetWiderThanNetwork() throws {
    let c = Sample.cluster([
      "subnets": "  subnets:\n  - name: a\n    zone: eu-west-1a\n    cidr: 👉10.0.0.0/8\n    type: Private\n    egress: External\n"
    ])
    expectFinding(try Sample.validate(cluster: c), "subnet-cidr-outside", at: Marked(c).position)
  }

  @Test func cidrInvalid() throws {
    let c = Sample.cluster(["networkCIDR": "  networkCIDR: 👉10.0.0/16\n"])
    expectFinding(try Sample.validate(cluster: c), "cidr-invalid", at: Marked(c).position)
  }

  @Test func subnetsMixedIDMissingOnLater() throws {
    let c = Sample.cluster([
      "subnets": """
        subnets:
        - name: a
          id: subnet-1
          zone: eu-west-1a
          cidr: 10.0.0.0/19
          type: Private
          egress: External
        - 👉name: b
          zone: eu-west-1b
          cidr: 10.0.32.0/19
          type: Private
          egress: External

      """
    ])
    let d = expectFinding(try Sample.validate(cluster: c), "subnets-mixed-id", at: Marked(c).position)
    #expect(d?.message.contains("spec.subnets[name=b]") == true)
  }

  @Test func subnetsMixedIDSetOnLater() throws {
    let c = Sample.cluster([
      "subnets": """
        subnets:
        - name: a
          zone: eu-west-1a
          cidr: 10.0.0.0/19
          type: Private
          egress: External
        - name: b
          👉id: subnet-2
          zone: eu-west-1b
          cidr: 10.0.32.0/19
          type: Private
          egress: External

      """
    ])
    expectFinding(try Sample.validate(cluster: c), "subnets-mixed-id", at: Marked(c).position)
  }

  @Test func additionalPolicyNotJSON() throws {
    let c = Sample.cluster(["additionalPolicies": "  additionalPolicies:\n    node: 👉'[{\"Effect\": \"Allow\",}]'\n"])
    let d = expectFinding(try Sample.validate(cluster: c), "iam-policy-json", at: Marked(c).position)
    #expect(d?.message.contains("at line 1, column 21 of the policy") == true, "\(String(describing: d))")
  }

  @Test func additionalPolicyMultiLineJSONErrorNamesItsLine() throws {
    let c = Sample.cluster([
      "additionalPolicies": "  additionalPolicies:\n    node: 👉|\n      [\n        {\"Effect\": \"Allow\"\n      ]\n"
    ])
    let d = expectFinding(try Sample.validate(cluster: c), "iam-policy-json", at: Marked(c).position)
    #expect(d?.message.contains("line 3, column 1") == true, "\(String(describing: d))")
  }

  @Test func additionalPolicyObjectIsNotAStatementList() throws {
    let c = Sample.cluster([
      "additionalPolicies": "  additionalPolicies:\n    node: 👉'{\"Version\": \"2012-10-17\", \"Statement\": []}'\n"
    ])
    expectFinding(try Sample.validate(cluster: c), "iam-policy-json", at: Marked(c).position)
  }

  @Test func additionalPolicyUnknownRole() throws {
    let c = Sample.cluster(["additionalPolicies": "  additionalPolicies:\n    👉masters: '[]'\n"])
    let d = expectFinding(try Sample.validate(cluster: c), "iam-policy-role", at: Marked(c).position)
    #expect(d?.message.contains("master, node, bastion, apiserver, control-plane") == true)
  }

  @Test func controlPlaneRoleNeedsKops126() throws {
    let c = Sample.cluster(["additionalPolicies": "  additionalPolicies:\n    👉control-plane: '[]'\n"])
    expectFinding(try Sample.validate(cluster: c, settings: Sample.settings(kops: "1.25.4")), "iam-policy-role", at: Marked(c).position)
    expectNoFinding(try Sample.validate(cluster: c, settings: Sample.settings(kops: "1.26.0")), "iam-policy-role")
  }

  @Test func additionalPolicyWithoutEffect() throws {
    let c = Sample.cluster([
      "additionalPolicies": "  additionalPolicies:\n    node: 👉'[{\"Action\": \"s3:GetObject\", \"Resource\": \"*\"}]'\n"
    ])
    let d = expectFinding(try Sample.validate(cluster: c), "iam-policy-effect", at: Marked(c).position)
    #expect(d?.message.contains("statement 0 has no Effect") == true)
  }

  @Test func additionalPolicyWithBadEffect() throws {
    let c = Sample.cluster(["additionalPolicies": "  additionalPolicies:\n    node: 👉'[{\"Effect\": \"allow\"}]'\n"])
    expectFinding(try Sample.validate(cluster: c), "iam-policy-effect", at: Marked(c).position)
  }

  @Test func iamLegacy() throws {
    let c = Sample.cluster(["iam": "  iam:\n    legacy: 👉true\n"])
    expectFinding(try Sample.validate(cluster: c), "iam-legacy", at: Marked(c).position)
    expectNoFinding(try Sample.validate(cluster: c, settings: Sample.settings(kops: "1.18.3")), "iam-legacy")
  }

  @Test func dockerRemovedInKops129() throws {
    let c = Sample.cluster(["docker": "  👉docker:\n    logDriver: json-file\n"])
    let d = expectFinding(
      try Sample.validate(cluster: c, settings: Sample.settings(kops: "1.29.0")), "docker-removed", at: Marked(c).position)
    #expect(d?.message.contains("containerLogMaxSize") == true)
    #expect(d?.message.contains("log shipper") == true)
    expectNoFinding(try Sample.validate(cluster: c, settings: Sample.settings(kops: "1.28.4")), "docker-removed")
  }

  @Test func dockerRuntimeWithKubernetes124() throws {
    let c = Sample.cluster([
      "kubernetesVersion": "  kubernetesVersion: v1.24.0\n", "containerRuntime": "  containerRuntime: 👉docker\n",
    ])
    expectFinding(try Sample.validate(cluster: c), "docker-runtime", at: Marked(c).position)
    let old = Sample.cluster([
      "kubernetesVersion": "  kubernetesVersion: 1.23.17\n", "containerRuntime": "  containerRuntime: docker\n",
    ])
    expectNoFinding(try Sample.validate(cluster: old), "docker-runtime")
  }

  @Test func internalAPIWithoutPrivateSubnet() throws {
    let c = Sample.cluster([
      "api": "  api:\n    loadBalancer:\n      type: 👉Internal\n",
      "subnets": "  subnets:\n  - name: a\n    zone: eu-west-1a\n    cidr: 10.0.0.0/19\n    type: Public\n",
    ])
    expectFinding(try Sample.validate(cluster: c), "api-lb-internal-no-private", at: Marked(c).position)
    expectNoFinding(try Sample.validate(cluster: c, settings: Sample.settings(kops: "1.24.1")), "api-lb-internal-no-private")
  }

  @Test func nonAWSCloud() throws {
    let c = Sample.cluster(["cloudProvider": "  cloudProvider: 👉gce\n"])
    let d = expectFinding(try Sample.validate(cluster: c), "cloud-not-aws", at: Marked(c).position)
    #expect(d?.message.contains("hk drives AWS clusters only") == true)
  }

  @Test func nonAWSCloudV1alpha3Style() throws {
    let c = Sample.cluster(["cloudProvider": "  cloudProvider:\n    👉openstack: {}\n"])
    expectFinding(try Sample.validate(cluster: c), "cloud-not-aws", at: Marked(c).position)
    let aws = Sample.cluster(["cloudProvider": "  cloudProvider:\n    aws: {}\n"])
    expectNoFinding(try Sample.validate(cluster: aws), "cloud-not-aws")
  }

  @Test func instanceGroupSizeRange() throws {
    let ig = Sample.instanceGroup.replacing("minSize: 1\n  maxSize: 2", with: "minSize: 3\n  maxSize: 👉2")
    let c = Sample.cluster(instanceGroups: [ig])
    expectFinding(try Sample.validate(cluster: c), "ig-size-range", at: Marked(c).position)
  }
}

@Suite struct KopsMissesTests {
  @Test func kubenetWithPrivateSubnet() throws {
    let c = Sample.cluster(["networking": "  networking:\n    👉kubenet: {}\n"])
    expectFinding(try Sample.validate(cluster: c), "kubenet-private", at: Marked(c).position)
  }

  @Test func kubenetWithPrivateTopology() throws {
    let c = Sample.cluster([
      "networking": "  networking:\n    👉kubenet: {}\n",
      "subnets": "  subnets:\n  - name: a\n    zone: eu-west-1a\n    cidr: 10.0.0.0/19\n    type: Public\n",
      "api": "  api:\n    dns: {}\n",
      "topology": "  topology:\n    masters: private\n    nodes: private\n",
    ])
    expectFinding(try Sample.validate(cluster: c), "kubenet-private", at: Marked(c).position)
  }

  @Test func kubenetWithPublicSubnetsIsFine() throws {
    let c = Sample.cluster([
      "networking": "  networking:\n    kubenet: {}\n",
      "subnets": "  subnets:\n  - name: a\n    zone: eu-west-1a\n    cidr: 10.0.0.0/19\n    type: Public\n",
      "api": "  api:\n    dns: {}\n",
    ])
    expectNoFinding(try Sample.validate(cluster: c), "kubenet-private")
  }

  @Test func clusterNameMismatch() throws {
    let c = Sample.cluster(name: "👉other.k8s.local", instanceGroups: [])
    let d = expectFinding(try Sample.validate(cluster: c), "cluster-name-mismatch", at: Marked(c).position)
    #expect(d?.message.contains("environments/t/environment.yaml") == true)
  }

  /// kops refuses a cluster name that is not a fully-qualified DNS-1123 subdomain.
  @Test(arguments: [
    ("Dev.K8s.local", "other than lower-case"), ("dev", "no dot"), ("dev..k8s.local", "empty label"),
    ("-dev.k8s.local", "starts or ends with '-'"), ("dev_1.k8s.local", "other than lower-case"),
    (String(repeating: "a", count: 64) + ".k8s.local", "longer than 63"),
  ])
  func clusterNameMustBeAFullyQualifiedDNSName(name: String, problem: String) throws {
    let c = Sample.cluster(name: "👉" + name, instanceGroups: [])
    let settings = Sample.settings().replacingOccurrences(of: "cluster: t.k8s.local", with: "cluster: \"\(name)\"")
    let d = expectFinding(try Sample.validate(cluster: c, settings: settings), "cluster-name-dns", at: Marked(c).position)
    #expect(d?.message.contains(problem) == true, "\(d?.message ?? "")")
  }

  @Test func aFullyQualifiedClusterNameIsFine() throws {
    #expect(ClusterRules.dnsNameProblem("t.k8s.local") == nil)
    #expect(ClusterRules.dnsNameProblem("a-1.b2.corp") == nil)
    expectNoFinding(try Sample.validate(), "cluster-name-dns")
  }

  @Test func instanceGroupUnknownSubnet() throws {
    let ig = Sample.instanceGroup.replacing("  - a\n", with: "  - a\n  - 👉b\n")
    let c = Sample.cluster(instanceGroups: [ig])
    let d = expectFinding(try Sample.validate(cluster: c), "ig-subnet-unknown", at: Marked(c).position)
    #expect(d?.message.contains("subnet 'b'") == true)
  }

  @Test func instanceGroupWithoutClusterLabel() throws {
    let ig = Sample.instanceGroup.replacing(
      "metadata:\n  name: nodes\n  labels:\n    kops.k8s.io/cluster: t.k8s.local\n", with: "metadata:\n  👉name: nodes\n")
    let c = Sample.cluster(instanceGroups: [ig])
    expectFinding(try Sample.validate(cluster: c), "ig-cluster-label", at: Marked(c).position)
  }

  @Test func instanceGroupLabelsWithoutClusterKey() throws {
    let ig = Sample.instanceGroup.replacing("    kops.k8s.io/cluster: t.k8s.local\n", with: "    👉team: platform\n")
    let c = Sample.cluster(instanceGroups: [ig])
    expectFinding(try Sample.validate(cluster: c), "ig-cluster-label", at: Marked(c).position)
  }

  @Test func instanceGroupOfAnotherCluster() throws {
    let ig = Sample.instanceGroup.replacing("kops.k8s.io/cluster: t.k8s.local", with: "kops.k8s.io/cluster: 👉u.k8s.local")
    let c = Sample.cluster(instanceGroups: [ig])
    expectFinding(try Sample.validate(cluster: c), "ig-cluster-label", at: Marked(c).position)
  }
}
