import Model

/// Rules on the Cluster document: what kops itself rejects, and what it misses.
enum ClusterRules {
  static func check(_ ctx: inout ValidationContext) {
    clusterName(&ctx)
    guard let spec = ctx.spec else { return }
    cloudProvider(&ctx, spec)
    networking(&ctx, spec)
    cidrs(&ctx, spec)
    mixedSubnetIDs(&ctx)
    additionalPolicies(&ctx, spec)
    iamLegacy(&ctx, spec)
    docker(&ctx, spec)
    internalAPIWithoutPrivateSubnet(&ctx, spec)
  }

  // MARK: kops misses

  /// `cluster-name-mismatch`: the Cluster's metadata.name must be environment.yaml's `cluster`.
  static func clusterName(_ ctx: inout ValidationContext) {
    let settingsFile = ctx.env.settingsFile
    let expected = ctx.env.settings.cluster
    let metadata = ctx.cluster["metadata"]
    guard let nameNode = metadata?["name"], let name = nameNode.text else {
      ctx.error(
        "cluster-name-mismatch",
        "the Cluster has no metadata.name; set it to '\(expected)', the cluster named in \(settingsFile)",
        at: metadata?.mark ?? ctx.cluster.mark)
      return
    }
    if name != expected {
      ctx.error(
        "cluster-name-mismatch",
        "metadata.name '\(name)' differs from cluster '\(expected)' in \(settingsFile); make them the same",
        at: nameNode.mark)
    }
    if let problem = dnsNameProblem(name) {
      ctx.error(
        "cluster-name-dns",
        "metadata.name '\(name)' \(problem): kops requires the cluster name to be a fully-qualified DNS name "
          + "(lower-case letters, digits, '-' and '.', e.g. dev.k8s.corp.local)",
        at: nameNode.mark)
    }
  }

  /// Why `name` is not a fully-qualified DNS-1123 subdomain, or nil. kops validates the
  /// Cluster's name so (`IsDNS1123Subdomain`, then "must be a fully-qualified DNS name": at
  /// least one dot) on every create and replace.
  static func dnsNameProblem(_ name: String) -> String? {
    let bytes = Array(name.utf8)
    if bytes.isEmpty { return "is empty" }
    if bytes.count > 253 { return "is longer than 253 characters" }
    func isAlnum(_ c: UInt8) -> Bool { (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) }
    for label in bytes.split(separator: 0x2E, omittingEmptySubsequences: false) {
      guard let first = label.first, let last = label.last else { return "has an empty label (two dots, or a dot at an end)" }
      if label.count > 63 { return "has a label longer than 63 characters" }
      if !label.allSatisfy({ isAlnum($0) || $0 == 0x2D }) { return "has characters other than lower-case letters, digits, '-' and '.'" }
      if !isAlnum(first) || !isAlnum(last) { return "has a label that starts or ends with '-'" }
    }
    if !bytes.contains(0x2E) { return "is not fully qualified (no dot)" }
    return nil
  }

  /// `kubenet-private`: kubenet needs one route table, so it cannot serve private subnets.
  /// kops checks this only in `kops create cluster --topology private`.
  static func kubenetPrivate(_ ctx: inout ValidationContext, _ spec: YAMLNode) {
    guard let networking = spec["networking"], let kubenet = networking.pair("kubenet"), !kubenet.value.isNull else {
      return
    }
    guard ctx.hasPrivateTopology || ctx.hasPrivateSubnet else { return }
    ctx.error(
      "kubenet-private",
      "spec.networking.kubenet does not support private topology (kubenet needs a single route table); "
        + "use another networking option such as cilium or calico",
      at: kubenet.keyMark)
  }

  // MARK: kops rejects

  /// `cloud-not-aws`: hk drives AWS only.
  static func cloudProvider(_ ctx: inout ValidationContext, _ spec: YAMLNode) {
    guard let node = spec["cloudProvider"], !node.isNull else {
      ctx.error(
        "cloud-not-aws", "spec.cloudProvider is missing: hk drives AWS clusters only; set cloudProvider: aws",
        at: ValidationContext.keyMark(ctx.cluster, "spec"))
      return
    }
    if let pairs = node.pairs {
      // v1alpha3 style `cloudProvider: {aws: {}}`
      guard let first = pairs.first else {
        ctx.error("cloud-not-aws", "spec.cloudProvider is empty: hk drives AWS clusters only; set cloudProvider: aws", at: node.mark)
        return
      }
      if first.key != "aws" || pairs.count > 1 {
        let other = pairs.first { $0.key != "aws" } ?? first
        ctx.error(
          "cloud-not-aws",
          "spec.cloudProvider is '\(other.key)': hk drives AWS clusters only; manage this cluster with kops itself",
          at: other.keyMark)
      }
      return
    }
    let name = node.text ?? ""
    if name != "aws" {
      ctx.error(
        "cloud-not-aws",
        "spec.cloudProvider is '\(name)': hk drives AWS clusters only; manage this cluster with kops itself or set cloudProvider: aws",
        at: node.mark)
    }
  }

  /// `networking-multiple`, then `kubenet-private`.
  static func networking(_ ctx: inout ValidationContext, _ spec: YAMLNode) {
    if let pairs = spec["networking"]?.pairs {
      let set = pairs.filter { !$0.value.isNull }
      if set.count > 1 {
        ctx.error(
          "networking-multiple",
          "spec.networking sets \(set.count) options (\(set.map(\.key).joined(separator: ", "))) but kops permits only one "
            + "networking option; keep one and delete the others",
          at: set[1].keyMark)
      }
    }
    kubenetPrivate(&ctx, spec)
  }

  /// `cidr-invalid` and `subnet-cidr-outside` (IPv4 only; IPv6 CIDRs are left to kops).
  static func cidrs(_ ctx: inout ValidationContext, _ spec: YAMLNode) {
    func parse(_ node: YAMLNode?, _ path: @autoclosure () -> String) -> IPv4CIDR? {
      guard let node, let text = node.stringValue else { return nil }
      if let c = IPv4CIDR(text) { return c }
      if !text.contains(":") {
        ctx.error("cidr-invalid", "\(path()) '\(text)' is not an IPv4 CIDR; write it as a.b.c.d/n, e.g. 10.0.0.0/16", at: node.mark)
      }
      return nil
    }
    let primary = parse(spec["networkCIDR"], "spec.networkCIDR")
    var networks = primary.map { [$0] } ?? []
    for (i, item) in (spec["additionalNetworkCIDRs"]?.items ?? []).enumerated() {
      if let c = parse(item, FieldPath.index("spec.additionalNetworkCIDRs", i)) { networks.append(c) }
    }
    for (i, subnet) in ctx.subnets {
      // the path is made only for a message
      func path() -> String { ValidationContext.subnetPath(i, subnet) + ".cidr" }
      guard let node = subnet["cidr"], let cidr = parse(node, path()), let primary else { continue }
      if !networks.contains(where: { $0.contains(cidr) }) {
        let extra = networks.count > 1 ? " or additionalNetworkCIDRs" : ""
        ctx.error(
          "subnet-cidr-outside",
          "\(path()) \(cidr) is outside networkCIDR \(primary)\(extra); pick a cidr inside the VPC's range "
            + "or add that range to spec.additionalNetworkCIDRs",
          at: node.mark)
      }
    }
  }

  /// `subnets-mixed-id`: kops requires `id` on every subnet or on none.
  static func mixedSubnetIDs(_ ctx: inout ValidationContext) {
    let subnets = ctx.subnets
    guard let first = subnets.first else { return }
    let firstHasID = ValidationContext.present(first.node, "id") != nil
    guard let odd = subnets.first(where: { (ValidationContext.present($0.node, "id") != nil) != firstHasID }) else { return }
    let path = ValidationContext.subnetPath(odd.index, odd.node)
    if firstHasID {
      ctx.error(
        "subnets-mixed-id",
        "\(path) has no id while other subnets do; kops cannot mix shared and kops-created subnets: add its id or remove every id",
        at: odd.node.mark)
    } else {
      ctx.error(
        "subnets-mixed-id",
        "\(path).id is set while other subnets have none; kops cannot mix shared and kops-created subnets: add an id to every subnet or remove it",
        at: odd.node.pair("id")?.keyMark ?? odd.node.mark)
    }
  }

  /// `iam-policy-role`, `iam-policy-json`, `iam-policy-effect`: kops parses each value as a
  /// JSON list of statements and requires Effect Allow or Deny on each.
  static func additionalPolicies(_ ctx: inout ValidationContext, _ spec: YAMLNode) {
    guard let pairs = spec["additionalPolicies"]?.pairs else { return }
    let roles = ctx.kops.additionalPolicyRoles
    for p in pairs {
      let path = FieldPath.key("spec.additionalPolicies", p.key)
      if !roles.contains(p.key) {
        ctx.error(
          "iam-policy-role",
          "spec.additionalPolicies key '\(p.key)' is not a role kops \(ctx.version.majorMinor) knows; use one of \(roles.joined(separator: ", "))",
          at: p.keyMark)
      }
      guard !p.value.isNull, let text = p.value.stringValue else { continue }
      let json: JSONValue
      do {
        json = try JSONValue.parseRemembered(text)
      } catch {
        ctx.error(
          "iam-policy-json",
          "\(path) is not valid JSON: \(error.message) at line \(error.line), column \(error.column) of the policy; fix the JSON",
          at: p.value.mark)
        continue
      }
      guard let statements = json.arrayValue else {
        if json == .null { continue }
        ctx.error(
          "iam-policy-json",
          "\(path) must be a JSON list of statements ([{\"Effect\": …}]), found \(describe(json)); kops reads it as a statement list",
          at: p.value.mark)
        continue
      }
      for (i, statement) in statements.enumerated() {
        guard statement.members != nil else {
          ctx.error(
            "iam-policy-json",
            "\(path) statement \(i) is \(describe(statement)), not a JSON object; write each statement as {\"Effect\": …, \"Action\": …}",
            at: p.value.mark)
          continue
        }
        switch statement["Effect"] {
        case .string("Allow")?, .string("Deny")?: break
        case nil, .null?, .string("")?:
          ctx.error(
            "iam-policy-effect",
            "\(path) statement \(i) has no Effect; kops requires \"Effect\": \"Allow\" or \"Deny\" on every statement",
            at: p.value.mark)
        case let other?:
          ctx.error(
            "iam-policy-effect",
            "\(path) statement \(i) has Effect \(other.serialized()); write \"Allow\" or \"Deny\"",
            at: p.value.mark)
        }
      }
    }
  }

  static func describe(_ json: JSONValue) -> String {
    switch json {
    case .null: "null"
    case .bool: "a boolean"
    case .int, .double: "a number"
    case .string: "a string"
    case .array: "a list"
    case .object: "an object"
    }
  }

  /// `iam-legacy`: refused since kops 1.19.
  static func iamLegacy(_ ctx: inout ValidationContext, _ spec: YAMLNode) {
    guard ctx.kops.refusesLegacyIAM, let node = spec[path: "iam", "legacy"], node.boolValue == true else { return }
    ctx.error(
      "iam-legacy",
      "spec.iam.legacy: true is refused by kops \(ctx.version.majorMinor) (legacy IAM permissions are no longer supported since 1.19); "
        + "set legacy: false and grant what the nodes need through spec.additionalPolicies",
      at: node.mark)
  }

  /// `docker-removed` (any spec.docker, kops ≥ 1.29) and `docker-runtime` (k8s ≥ 1.24).
  static func docker(_ ctx: inout ValidationContext, _ spec: YAMLNode) {
    if !ctx.kops.supportsDocker, let pair = spec.pair("docker"), !pair.value.isNull {
      ctx.error(
        "docker-removed",
        "spec.docker is refused by kops \(ctx.version.majorMinor) (docker CRI support was removed in Kubernetes 1.24); delete it, "
          + "rotate logs with spec.kubelet.containerLogMaxSize and containerLogMaxFiles, and ship logs with a log shipper such as fluent-bit",
        at: pair.keyMark)
    }
    if let runtime = spec["containerRuntime"], runtime.text == "docker",
      let k8sText = spec["kubernetesVersion"]?.text, let k8s = KopsVersion(k8sText),
      !KopsCapabilities.supportsDockerRuntime(kubernetes: k8s)
    {
      ctx.error(
        "docker-runtime",
        "spec.containerRuntime docker is not supported with kubernetesVersion \(k8sText) (dockershim was removed in Kubernetes 1.24); "
          + "set containerRuntime: containerd",
        at: runtime.mark)
    }
  }

  /// `api-lb-internal-no-private`: kops ≥ 1.25 places an Internal API LB in Private subnets only.
  static func internalAPIWithoutPrivateSubnet(_ ctx: inout ValidationContext, _ spec: YAMLNode) {
    guard ctx.kops.internalAPILoadBalancerNeedsPrivateSubnet, let type = spec[path: "api", "loadBalancer", "type"], type.text == "Internal"
    else {
      return
    }
    guard !ctx.hasPrivateSubnet else { return }
    ctx.error(
      "api-lb-internal-no-private",
      "spec.api.loadBalancer.type Internal needs at least one subnet of type Private (kops \(ctx.version.majorMinor) refuses it); "
        + "add a Private subnet to spec.subnets",
      at: type.mark)
  }
}

/// Rules on the InstanceGroup documents.
enum InstanceGroupRules {
  static func check(_ ctx: inout ValidationContext) {
    let clusterName = ctx.cluster[path: "metadata", "name"]?.text ?? ctx.env.settings.cluster
    let subnetNames = Set(ctx.subnets.compactMap { $0.node["name"]?.text })
    let haveSubnets = ctx.spec?["subnets"]?.items != nil
    for ig in ctx.env.instanceGroups {
      let name = InstanceGroupView(ig).name ?? "?"
      let metadata = ig["metadata"]
      let labels = metadata?["labels"]
      if let label = labels?["kops.k8s.io/cluster"], let value = label.text {
        if value != clusterName {
          ctx.error(
            "ig-cluster-label",
            "instancegroup \(name): label kops.k8s.io/cluster is '\(value)' but the cluster is '\(clusterName)'; set it to '\(clusterName)'",
            at: label.mark)
        }
      } else {
        ctx.error(
          "ig-cluster-label",
          "instancegroup \(name) has no label kops.k8s.io/cluster; add it under metadata.labels with value '\(clusterName)' (kops create and replace need it)",
          at: (labels?.isMapping == true ? labels?.mark : nil) ?? metadata?.mark ?? ig.mark)
      }
      let spec = ig["spec"]
      if haveSubnets, let items = spec?["subnets"]?.items {
        for item in items {
          guard let s = item.stringValue, !subnetNames.contains(s) else { continue }
          let known = subnetNames.sorted().joined(separator: ", ")
          ctx.error(
            "ig-subnet-unknown",
            "instancegroup \(name): subnet '\(s)' is not in the Cluster's spec.subnets (\(known)); use one of those names",
            at: item.mark)
        }
      }
      if let min = spec?["minSize"]?.intValue, let maxNode = spec?["maxSize"], let max = maxNode.intValue, min > max {
        ctx.error(
          "ig-size-range",
          "instancegroup \(name): spec.minSize \(min) is larger than spec.maxSize \(max); kops refuses it: raise maxSize or lower minSize",
          at: maxNode.mark)
      }
    }
  }
}
