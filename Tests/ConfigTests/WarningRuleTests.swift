import Model
import Testing

@testable import Config

/// The rules that warn rather than refuse, then YAML 1.1 typing (`YAMLTypeTests`).
@Suite struct WarningTests {
  static func awslogs(_ policies: String) -> String {
    Sample.cluster([
      "docker": "  docker:\n    logDriver: 👉awslogs\n",
      "additionalPolicies": policies,
    ])
  }

  @Test func awslogsWithoutPermissions() throws {
    let c = Self.awslogs(
      "  additionalPolicies:\n    master: '[{\"Effect\":\"Allow\",\"Action\":[\"logs:CreateLogStream\",\"logs:PutLogEvents\"],\"Resource\":[\"*\"]}]'\n"
    )
    let d = expectFinding(try Sample.validate(cluster: c), "awslogs-iam", at: Marked(c).position, severity: .warning)
    #expect(d?.message.contains("for node") == true)
    #expect(d?.message.contains("kubectl logs") == true)
  }

  @Test func awslogsWithDenyOnlyStillWarns() throws {
    let c = Self.awslogs(
      "  additionalPolicies:\n    master: '[{\"Effect\":\"Deny\",\"Action\":\"logs:*\",\"Resource\":\"*\"}]'\n    node: '[{\"Effect\":\"Deny\",\"Action\":\"*\",\"Resource\":\"*\"}]'\n"
    )
    expectFinding(try Sample.validate(cluster: c), "awslogs-iam", at: Marked(c).position, severity: .warning)
  }

  @Test(arguments: [
    "  additionalPolicies:\n    master: '[{\"Effect\":\"Allow\",\"Action\":\"logs:*\",\"Resource\":\"*\"}]'\n    node: '[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}]'\n",
    "  additionalPolicies:\n    control-plane: '[{\"Effect\":\"Allow\",\"Action\":[\"logs:CreateLogStream\",\"logs:PutLogEvents\"],\"Resource\":\"*\"}]'\n    node: '[{\"Effect\":\"Allow\",\"Action\":[\"logs:createlogstream\",\"logs:Put*\"],\"Resource\":\"*\"}]'\n",
  ])
  func awslogsWithPermissions(policies: String) throws {
    expectNoFinding(try Sample.validate(cluster: Self.awslogs(policies)), "awslogs-iam")
  }

  static func proxy(_ excludes: String) -> String {
    Sample.cluster([
      "egressProxy": "  egressProxy:\n    httpProxy:\n      host: proxy.corp.local\n      port: 3128\n\(excludes)"
    ])
  }

  @Test func egressProxyExcludesIncomplete() throws {
    let c = Self.proxy("    excludes: 👉corp.local,10.0.0.0/16\n")
    let d = expectFinding(try Sample.validate(cluster: c), "egress-proxy-excludes", at: Marked(c).position, severity: .warning)
    #expect(d?.message.contains("lacks s3.eu-west-1.amazonaws.com;") == true, "\(String(describing: d))")
    // kops adds the VPC range and the metadata service at create and at every update (§8 corrected)
    #expect(d?.message.contains("at create and again at every update") == true)
    #expect(d?.message.contains("only at create") == false)
  }

  @Test func egressProxyWithoutExcludes() throws {
    let c = Sample.cluster(["egressProxy": "  👉egressProxy:\n    httpProxy:\n      host: proxy.corp.local\n"])
    expectFinding(try Sample.validate(cluster: c), "egress-proxy-excludes", at: Marked(c).position, severity: .warning)
  }

  @Test(arguments: ["s3.eu-west-1.amazonaws.com", ".amazonaws.com", "s3.amazonaws.com", "amazonaws.com"])
  func egressProxyS3Forms(s3: String) throws {
    let c = Self.proxy("    excludes: \"corp.local,\(s3)\"\n")
    expectNoFinding(try Sample.validate(cluster: c), "egress-proxy-excludes")
  }

  @Test func allowContainerRegistry() throws {
    let c = Sample.cluster(["iam": "  iam:\n    allowContainerRegistry: 👉true\n    legacy: false\n"])
    let d = expectFinding(try Sample.validate(cluster: c), "iam-container-registry", at: Marked(c).position, severity: .warning)
    #expect(d?.message.contains("IRSA") == true)
  }

  @Test func watchIngressWithoutPrivateZone() throws {
    let c = Sample.cluster(["externalDns": "  externalDns:\n    watchIngress: 👉true\n"])
    expectFinding(try Sample.validate(cluster: c), "external-dns-watch-ingress", at: Marked(c).position, severity: .warning)
    let privateOnly = Sample.cluster([
      "externalDns": "  externalDns:\n    watchIngress: 👉true\n", "topology": "  topology:\n    dns:\n      type: Private\n",
    ])
    expectFinding(
      try Sample.validate(cluster: privateOnly), "external-dns-watch-ingress", at: Marked(privateOnly).position, severity: .warning)
    let ok = Sample.cluster([
      "externalDns": "  externalDns:\n    watchIngress: true\n", "topology": "  topology:\n    dns:\n      type: Private\n",
      "dnsZone": "  dnsZone: t.k8s.local\n",
    ])
    expectNoFinding(try Sample.validate(cluster: ok), "external-dns-watch-ingress")
  }
}

@Suite struct YAMLTypeTests {
  @Test(arguments: ["yes", "No", "ON", "off", "y", "N"])
  func yaml11BooleanInCluster(word: String) throws {
    let c = Sample.cluster(["iam": "  iam:\n    allowContainerRegistry: 👉\(word)\n"])
    let diagnostics = try Sample.validate(cluster: c)
    let d = expectFinding(diagnostics, "yaml11-bool", at: Marked(c).position)
    #expect(d?.message.contains("spec.iam.allowContainerRegistry") == true)
    expectNoFinding(diagnostics, "field-type")
  }

  @Test func yaml11BooleanInInstanceGroupList() throws {
    let ig = Sample.instanceGroup + "  nodeLabels:\n    spot: 👉on\n"
    let c = Sample.cluster(instanceGroups: [ig])
    let d = expectFinding(try Sample.validate(cluster: c), "yaml11-bool", at: Marked(c).position)
    #expect(d?.message.contains("instancegroup[nodes].spec.nodeLabels.spot") == true)
  }

  @Test func quotedYesIsAString() throws {
    let c = Sample.cluster(["cloudLabels": "  cloudLabels:\n    team: \"yes\"\n    owner: 'no'\n"])
    expectNoFinding(try Sample.validate(cluster: c), "yaml11-bool")
  }

  @Test func minSizeNotAnInteger() throws {
    let ig = Sample.instanceGroup.replacing("minSize: 1", with: "minSize: 👉\"1\"")
    let c = Sample.cluster(instanceGroups: [ig])
    let d = expectFinding(try Sample.validate(cluster: c), "field-type", at: Marked(c).position)
    #expect(d?.message.contains("instancegroup nodes: spec.minSize must be an integer") == true)
    #expect(d?.message.contains("without quotes") == true)
  }

  @Test func instanceGroupSubnetsNotAList() throws {
    let ig = Sample.instanceGroup.replacing("  subnets:\n  - a\n", with: "  subnets: 👉a\n")
    let c = Sample.cluster(instanceGroups: [ig])
    expectFinding(try Sample.validate(cluster: c), "field-type", at: Marked(c).position)
  }

  @Test func clusterSubnetsNotAList() throws {
    let c = Sample.cluster(["subnets": "  subnets:\n    👉name: a\n"], instanceGroups: [])
    let d = expectFinding(try Sample.validate(cluster: c), "field-type", at: Marked(c).position)
    #expect(d?.message.contains("spec.subnets must be a list") == true)
  }

  /// A cluster whose egress proxy has the port `port` (as written, with its 👉 marker).
  static func proxy(port: String) -> String {
    Sample.cluster([
      "egressProxy":
        "  egressProxy:\n    httpProxy:\n      host: proxy\n      port: \(port)\n    excludes: 10.0.0.0/16,169.254.169.254,.amazonaws.com\n"
    ])
  }

  @Test(arguments: ["👉proxy-port", "👉70000"])
  func proxyPortNotANumberOrOutOfRange(port: String) throws {
    let c = Self.proxy(port: port)
    expectFinding(try Sample.validate(cluster: c), "field-type", at: Marked(c).position)
  }

  @Test func proxyPortNumber() throws {
    #expect(try Sample.validate(cluster: Self.proxy(port: "3128")).isEmpty)
  }

  /// kops's `HTTPProxy.Port` is a Go `int`: kops's decoder refuses a quoted number.
  @Test func proxyPortQuotedIsAnError() throws {
    let c = Self.proxy(port: "👉\"3128\"")
    let d = expectFinding(try Sample.validate(cluster: c), "field-type", at: Marked(c).position)
    #expect(d?.message.contains("must be an integer") == true, "\(String(describing: d))")
    #expect(d?.message.contains("write it without quotes") == true, "\(String(describing: d))")
  }

  @Test func excludesAsAList() throws {
    let c = Sample.cluster([
      "egressProxy": "  egressProxy:\n    httpProxy:\n      host: proxy\n    excludes:\n    👉- 10.0.0.0/16\n"
    ])
    let d = expectFinding(try Sample.validate(cluster: c), "field-type", at: Marked(c).position)
    #expect(d?.message.contains("comma-separated") == true)
  }

  @Test func kubernetesVersionAsFloat() throws {
    let c = Sample.cluster(["kubernetesVersion": "  kubernetesVersion: 👉1.30\n"])
    let d = expectFinding(try Sample.validate(cluster: c), "field-type", at: Marked(c).position)
    #expect(d?.message.contains("quote it: \"1.30\"") == true)
  }

  @Test func labelValueAsNumber() throws {
    let ig = Sample.instanceGroup.replacing(
      "    kops.k8s.io/cluster: t.k8s.local\n", with: "    kops.k8s.io/cluster: t.k8s.local\n    tier: 👉2\n")
    let c = Sample.cluster(instanceGroups: [ig])
    expectFinding(try Sample.validate(cluster: c), "field-type", at: Marked(c).position)
  }

  @Test func networkingOptionNotAMapping() throws {
    let c = Sample.cluster(["networking": "  networking:\n    cilium: 👉true\n"])
    expectFinding(try Sample.validate(cluster: c), "field-type", at: Marked(c).position)
  }

  @Test func specMissing() throws {
    let c = "👉apiVersion: kops.k8s.io/v1alpha2\nkind: Cluster\nmetadata:\n  name: t.k8s.local\n"
    let d = try Sample.validate(cluster: c)
    expectFinding(d, "spec-missing", at: Marked(c).position)
  }
}
