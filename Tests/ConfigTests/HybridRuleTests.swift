import Model
import Testing

@testable import Config

/// The hybrid-VPC rules (no internet gateway): one test per rule, with the exact line:column.
@Suite struct HybridTests {
  static let hybrid = Sample.settings(strategy: "lifecycle-ignore")

  @Test func publicAPILoadBalancer() throws {
    let c = Sample.cluster(["api": "  api:\n    loadBalancer:\n      type: 👉Public\n      class: Network\n"])
    expectFinding(try Sample.validate(cluster: c, settings: Self.hybrid), "hybrid-public-api-lb", at: Marked(c).position)
    expectNoFinding(try Sample.validate(cluster: c, settings: Sample.settings(strategy: "none")), "hybrid-public-api-lb")
  }

  @Test func unsetAPILoadBalancerType() throws {
    let c = Sample.cluster(["api": "  api:\n    👉loadBalancer:\n      class: Network\n"])
    expectFinding(try Sample.validate(cluster: c, settings: Self.hybrid), "hybrid-public-api-lb", at: Marked(c).position)
  }

  @Test func noAPIWithPrivateSubnetsDefaultsToPublicLB() throws {
    // with no spec.api the finding points at the spec mapping (its first key)
    let c = Sample.cluster(["api": "", "cloudProvider": "  👉cloudProvider: aws\n"])
    expectFinding(try Sample.validate(cluster: c, settings: Self.hybrid), "hybrid-public-api-lb", at: Marked(c).position)
    let dnsOnly = Sample.cluster(["api": "  api:\n    dns: {}\n"])
    expectNoFinding(try Sample.validate(cluster: dnsOnly, settings: Self.hybrid), "hybrid-public-api-lb")
  }

  static func service(annotations: [String] = [], type: String = "👉LoadBalancer", extraSpec: String = "") -> String {
    var s = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: shop\n"
    if !annotations.isEmpty { s += "  annotations:\n" + annotations.map { "    \($0)\n" }.joined() }
    s += "spec:\n  type: \(type)\n\(extraSpec)  ports:\n  - port: 443\n"
    return s
  }

  static let manifest = "environments/t/manifests/lb.yaml"

  @Test func publicService() throws {
    let s = Self.service()
    let d = expectFinding(
      try Sample.validate(settings: Self.hybrid, extra: [Self.manifest: s]), "hybrid-public-service", at: Marked(s).position,
      file: Self.manifest)
    #expect(d?.message.contains("shop/web") == true)
    #expect(d?.message.contains("aws-load-balancer-internal") == true)
  }

  @Test func serviceWithInternalFalse() throws {
    let s = Self.service(annotations: ["service.beta.kubernetes.io/aws-load-balancer-internal: 👉\"false\""], type: "LoadBalancer")
    expectFinding(
      try Sample.validate(settings: Self.hybrid, extra: [Self.manifest: s]), "hybrid-public-service", at: Marked(s).position,
      file: Self.manifest)
  }

  @Test(arguments: [
    ["service.beta.kubernetes.io/aws-load-balancer-internal: \"true\""],
    ["service.beta.kubernetes.io/aws-load-balancer-internal: 0.0.0.0/0"],
    ["service.beta.kubernetes.io/aws-load-balancer-internal: \"true\"", "service.beta.kubernetes.io/aws-load-balancer-type: nlb"],
    [
      "service.beta.kubernetes.io/aws-load-balancer-type: external",
      "service.beta.kubernetes.io/aws-load-balancer-scheme: internal",
    ],
  ])
  func internalServices(annotations: [String]) throws {
    let s = Self.service(annotations: annotations)
    expectNoFinding(try Sample.validate(settings: Self.hybrid, extra: [Self.manifest: s]), "hybrid-public-service")
  }

  @Test func loadBalancerClassWithInternalScheme() throws {
    let s = Self.service(
      annotations: ["service.beta.kubernetes.io/aws-load-balancer-scheme: internal"],
      extraSpec: "  loadBalancerClass: service.k8s.aws/nlb\n")
    expectNoFinding(try Sample.validate(settings: Self.hybrid, extra: [Self.manifest: s]), "hybrid-public-service")
  }

  @Test func schemeIsIgnoredByTheCloudController() throws {
    let s = Self.service(annotations: ["service.beta.kubernetes.io/aws-load-balancer-scheme: internal"])
    let d = expectFinding(
      try Sample.validate(settings: Self.hybrid, extra: [Self.manifest: s]), "hybrid-public-service", at: Marked(s).position,
      file: Self.manifest)
    #expect(d?.message.contains("ignores") == true)
  }

  @Test func loadBalancerControllerWithInternetFacingScheme() throws {
    let s = Self.service(
      annotations: [
        "service.beta.kubernetes.io/aws-load-balancer-type: external",
        "service.beta.kubernetes.io/aws-load-balancer-scheme: 👉internet-facing",
      ], type: "LoadBalancer")
    expectFinding(
      try Sample.validate(settings: Self.hybrid, extra: [Self.manifest: s]), "hybrid-public-service", at: Marked(s).position,
      file: Self.manifest)
  }

  @Test func loadBalancerControllerWithoutScheme() throws {
    let s = Self.service(annotations: [], extraSpec: "  loadBalancerClass: service.k8s.aws/nlb\n")
    let d = expectFinding(
      try Sample.validate(settings: Self.hybrid, extra: [Self.manifest: s]), "hybrid-public-service", at: Marked(s).position,
      file: Self.manifest)
    #expect(d?.message.contains("aws-load-balancer-scheme: internal") == true)
  }

  @Test func clusterIPServiceAndNonHybridAreFine() throws {
    let s = Self.service(type: "ClusterIP")
    expectNoFinding(try Sample.validate(settings: Self.hybrid, extra: [Self.manifest: s]), "hybrid-public-service")
    expectNoFinding(
      try Sample.validate(settings: Sample.settings(strategy: "none"), extra: [Self.manifest: Self.service()]), "hybrid-public-service")
  }

  static func ingress(className: String?, annotations: [String]) -> String {
    var s = "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: portal\n"
    if !annotations.isEmpty { s += "  annotations:\n" + annotations.map { "    \($0)\n" }.joined() }
    s += "spec:\n"
    if let className { s += "  ingressClassName: \(className)\n" }
    s += "  defaultBackend:\n    service:\n      name: portal\n      port:\n        number: 80\n"
    return s
  }

  @Test func albIngressWithoutScheme() throws {
    let i = Self.ingress(className: "👉alb", annotations: [])
    expectFinding(
      try Sample.validate(settings: Self.hybrid, extra: [Self.manifest: i]), "hybrid-public-ingress", at: Marked(i).position,
      file: Self.manifest)
  }

  @Test func albIngressByAnnotationInternetFacing() throws {
    let i = Self.ingress(
      className: nil, annotations: ["kubernetes.io/ingress.class: alb", "alb.ingress.kubernetes.io/scheme: 👉internet-facing"])
    expectFinding(
      try Sample.validate(settings: Self.hybrid, extra: [Self.manifest: i]), "hybrid-public-ingress", at: Marked(i).position,
      file: Self.manifest)
  }

  @Test func internalAndNonALBIngressesAreFine() throws {
    let internalALB = Self.ingress(className: "alb", annotations: ["alb.ingress.kubernetes.io/scheme: internal"])
    let nginx = Self.ingress(className: "nginx", annotations: [])
    let d = try Sample.validate(settings: Self.hybrid, extra: [Self.manifest: internalALB + "---\n" + nginx])
    expectNoFinding(d, "hybrid-public-ingress")
  }

  @Test func temporaryWithoutGatewayID() throws {
    let s =
      "cluster: t.k8s.local\nstateStore: s3://state\nkopsVersion: 1.28.4\naws: {region: eu-west-1}\n👉internetGateway:\n  strategy: temporary\n"
    let d = expectFinding(try Sample.validate(settings: s), "igw-id-missing", at: Marked(s).position, file: Sample.settingsFile)
    #expect(d?.message.contains("internetGateway.id") == true)
  }

  @Test func externalEgressWithNATSubnet() throws {
    let c = Sample.cluster([
      "subnets": "  subnets:\n  - name: a\n    zone: eu-west-1a\n    cidr: 10.0.0.0/19\n    type: Private\n    egress: 👉nat-0123\n"
    ])
    expectFinding(
      try Sample.validate(cluster: c, settings: Sample.settings(strategy: "external-egress")), "external-egress-subnet",
      at: Marked(c).position)
  }

  @Test func externalEgressWithoutEgress() throws {
    let c = Sample.cluster([
      "subnets": "  subnets:\n  - 👉name: a\n    zone: eu-west-1a\n    cidr: 10.0.0.0/19\n    type: Private\n"
    ])
    expectFinding(
      try Sample.validate(cluster: c, settings: Sample.settings(strategy: "external-egress")), "external-egress-subnet",
      at: Marked(c).position)
    expectNoFinding(try Sample.validate(cluster: c, settings: Self.hybrid), "external-egress-subnet")
  }

  @Test func externalEgressNeedsKops112() throws {
    let s =
      "cluster: t.k8s.local\nstateStore: s3://state\n👉kopsVersion: 1.11.1\naws: {region: eu-west-1}\ninternetGateway:\n  strategy: external-egress\n"
    expectFinding(try Sample.validate(settings: s), "external-egress-kops-version", at: Marked(s).position, file: Sample.settingsFile)
  }
}
