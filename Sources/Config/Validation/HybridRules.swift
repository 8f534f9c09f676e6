import Model

/// Rules for VPCs without an internet gateway of their own (strategies temporary,
/// external-egress, lifecycle-ignore): AWS refuses internet-facing load balancers there.
enum HybridRules {
  static let internalAnnotation = "service.beta.kubernetes.io/aws-load-balancer-internal"
  static let schemeAnnotation = "service.beta.kubernetes.io/aws-load-balancer-scheme"
  static let typeAnnotation = "service.beta.kubernetes.io/aws-load-balancer-type"
  static let lbcClass = "service.k8s.aws/nlb"
  static let albScheme = "alb.ingress.kubernetes.io/scheme"
  static let ingressClassAnnotation = "kubernetes.io/ingress.class"

  static func check(_ ctx: inout ValidationContext) {
    let settings = ctx.env.settings
    guard settings.igwStrategy.isHybrid else { return }
    if let spec = ctx.spec { apiLoadBalancer(&ctx, spec) }
    for doc in ctx.env.kubernetesManifests {
      switch doc["kind"]?.text {
      case "Service": service(&ctx, doc)
      case "Ingress": ingress(&ctx, doc)
      default: break
      }
    }
    switch settings.igwStrategy {
    case .temporary: temporaryGateway(&ctx)
    case .externalEgress: externalEgress(&ctx)
    case .lifecycleIgnore, .none: break
    }
  }

  /// `hybrid-public-api-lb`: the API load balancer must be `Internal`.
  static func apiLoadBalancer(_ ctx: inout ValidationContext, _ spec: YAMLNode) {
    let strategy = ctx.env.settings.igwStrategy.rawValue
    let api = spec["api"]
    if let lbPair = api?.pair("loadBalancer"), !lbPair.value.isNull {
      let lb = lbPair.value
      if let type = lb["type"], let t = type.text {
        if t == "Public" {
          ctx.error(
            "hybrid-public-api-lb",
            "spec.api.loadBalancer.type Public cannot work without an internet gateway (strategy \(strategy)); set type: Internal",
            at: type.mark)
        }
      } else {
        ctx.error(
          "hybrid-public-api-lb",
          "spec.api.loadBalancer has no type and kops defaults it to Public, which cannot work without an internet gateway "
            + "(strategy \(strategy)); set type: Internal",
          at: lbPair.keyMark)
      }
      return
    }
    if let api, ValidationContext.present(api, "dns") != nil { return }
    guard ctx.hasPrivateSubnet || ctx.hasPrivateTopology else { return }
    ctx.error(
      "hybrid-public-api-lb",
      "spec.api sets no loadBalancer, and with private subnets kops defaults to a Public API load balancer, which cannot work "
        + "without an internet gateway (strategy \(strategy)); set api.loadBalancer.type: Internal and class: Network",
      at: ValidationContext.keyMark(spec, "api") ?? ValidationContext.keyMark(ctx.cluster, "spec"))
  }

  static func objectName(_ doc: YAMLNode) -> String {
    let name = doc[path: "metadata", "name"]?.text ?? "?"
    if let ns = doc[path: "metadata", "namespace"]?.text { return ns + "/" + name }
    return name
  }

  /// `hybrid-public-service`: a LoadBalancer Service must ask the controller in charge of it for
  /// an internal load balancer.
  static func service(_ ctx: inout ValidationContext, _ doc: YAMLNode) {
    guard let typeNode = doc[path: "spec", "type"], typeNode.text == "LoadBalancer" else { return }
    let annotations = doc[path: "metadata", "annotations"]
    let internalNode = annotations?[internalAnnotation]
    let scheme = annotations?[schemeAnnotation]
    let lbcHandled =
      annotations?[typeAnnotation]?.text == "external" || doc[path: "spec", "loadBalancerClass"]?.text == lbcClass
    let name = objectName(doc)
    if lbcHandled, let scheme, let s = scheme.text {
      if s != "internal" {
        ctx.error(
          "hybrid-public-service",
          "service \(name): annotation \(schemeAnnotation) is '\(s)' but this VPC has no internet gateway; set it to internal",
          at: scheme.mark)
      }
      return
    }
    if let internalNode, let v = internalNode.text, v != "false" { return }
    let fix =
      lbcHandled
      ? "add annotation \(schemeAnnotation): internal (the AWS Load Balancer Controller handles this service)"
      : "add annotation \(internalAnnotation): \"true\" (the AWS cloud controller handles this service and ignores \(schemeAnnotation))"
    ctx.error(
      "hybrid-public-service",
      "service \(name) of type LoadBalancer would get an internet-facing load balancer, which this VPC cannot host without an internet gateway; \(fix)",
      at: internalNode?.mark ?? typeNode.mark)
  }

  /// `hybrid-public-ingress`: an ALB Ingress must be `internal`. Other ingress classes are
  /// served by an in-cluster controller whose own Service is checked.
  static func ingress(_ ctx: inout ValidationContext, _ doc: YAMLNode) {
    let annotations = doc[path: "metadata", "annotations"]
    let classNode = doc[path: "spec", "ingressClassName"] ?? annotations?[ingressClassAnnotation]
    guard let classNode, classNode.text == "alb" else { return }
    let scheme = annotations?[albScheme]
    if scheme?.text == "internal" { return }
    let name = objectName(doc)
    ctx.error(
      "hybrid-public-ingress",
      "ingress \(name) of class alb is not internal and this VPC has no internet gateway; add annotation \(albScheme): internal",
      at: scheme?.mark ?? classNode.mark)
  }

  /// `igw-id-missing`: strategy temporary attaches `internetGateway.id`.
  static func temporaryGateway(_ ctx: inout ValidationContext) {
    egressProxyMissing(&ctx)
    let settings = ctx.env.settings
    guard settings.igwID?.isEmpty ?? true else { return }
    let mark = settings.marks["internetGateway"] ?? Mark(file: ctx.env.settingsFile, line: 1, column: 1)
    ctx.error(
      "igw-id-missing",
      "internetGateway.id is missing in \(ctx.env.settingsFile); strategy temporary attaches that gateway around kops update: "
        + "set id: igw-… (a detached gateway of this account)",
      at: mark)
  }

  /// `egress-proxy-missing`: with strategy temporary the VPC has no gateway outside applies, so
  /// without `spec.egressProxy` nodes cannot pull images or reach AWS APIs, unless the
  /// environment says how they do (`egress.withoutProxy` in environment.yaml).
  static func egressProxyMissing(_ ctx: inout ValidationContext) {
    guard ctx.env.settings.egressWithoutProxy == nil, let spec = ctx.spec else { return }
    let proxy = spec["egressProxy"]
    guard proxy == nil || proxy?.isNull == true else { return }
    ctx.error(
      "egress-proxy-missing",
      "spec.egressProxy is \(proxy == nil ? "absent" : "null") and the VPC has no internet gateway outside applies (strategy temporary): "
        + "nodes could not pull images; set spec.egressProxy.httpProxy, or say how the cluster reaches them with "
        + "egress: {withoutProxy: \"reason\"} in \(ctx.env.settingsFile)",
      at: spec.pair("egressProxy")?.keyMark ?? ValidationContext.keyMark(ctx.cluster, "spec"))
  }

  /// `external-egress-subnet` and `external-egress-kops-version`.
  static func externalEgress(_ ctx: inout ValidationContext) {
    let settings = ctx.env.settings
    if !settings.kopsCapabilities.hasExternalEgress {
      let mark = settings.marks["kopsVersion"] ?? settings.marks["internetGateway"] ?? Mark(file: ctx.env.settingsFile, line: 1, column: 1)
      ctx.error(
        "external-egress-kops-version",
        "kopsVersion \(settings.kopsVersion) has no subnet egress: External (added in kops 1.12.0), which strategy external-egress relies on; "
          + "use kops 1.12 or later, or strategy temporary",
        at: mark)
    }
    for (i, subnet) in ctx.subnets {
      // the path is made only for a message
      func path() -> String { ValidationContext.subnetPath(i, subnet) }
      if let egress = subnet["egress"], let e = egress.text {
        guard e != "External" else { continue }
        ctx.error(
          "external-egress-subnet",
          "\(path()).egress is '\(e)' but strategy external-egress needs egress: External on every subnet, or kops creates an internet gateway; "
            + "set egress: External",
          at: egress.mark)
      } else {
        ctx.error(
          "external-egress-subnet",
          "\(path()) has no egress but strategy external-egress needs egress: External on every subnet, or kops creates an internet gateway; "
            + "add egress: External",
          at: subnet.mark)
      }
    }
  }
}
