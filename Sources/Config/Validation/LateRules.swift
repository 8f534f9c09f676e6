import Model

/// What kops checks only at `update`, after hk has already written the objects
/// (`pkg/apis/kops/validation/validation.go`; kops-contract §9): errors here, before anything runs.
///
/// - `subnet-overlaps-pods` / `subnet-overlaps-services`: a subnet CIDR overlapping `podCIDR`
///   (default 100.96.0.0/11) or `serviceClusterIPRange` (default 100.64.0.0/13) — many corporate
///   networks use 100.64.0.0/10.
/// - `subnet-egress-public`: `nat-`, `i-` or `tgw-` egress on a Utility or Public subnet.
/// - `external-dns-none`: `externalDns.provider: external-dns` with `topology.dns.type: None`.
/// - `subnet-zone-missing`: a subnet without an AWS zone, which `kops create -f` refuses mid-apply
///   (`awsup.FindRegion`: "invalid AWS zone").
enum LateRules {
  static func check(_ ctx: inout ValidationContext) {
    guard let spec = ctx.spec else { return }
    overlaps(&ctx, spec)
    publicEgress(&ctx)
    externalDNS(&ctx, spec)
    missingZones(&ctx)
  }

  static func missingZones(_ ctx: inout ValidationContext) {
    for (i, subnet) in ctx.subnets {
      let zone = subnet["zone"]?.text ?? ""
      guard isAtMostTwoCharacters(zone) else { continue }
      ctx.error(
        "subnet-zone-missing",
        "\(ValidationContext.subnetPath(i, subnet)) has no AWS zone: kops derives the region from the subnets' zones and "
          + "refuses the cluster (\"invalid AWS zone\"); add zone: (e.g. eu-west-1a) to the subnet",
        at: subnet["zone"]?.mark ?? subnet.mark)
    }
  }

  /// `text.count <= 2` without counting the `Character`s of plain ASCII (where each is a byte).
  static func isAtMostTwoCharacters(_ text: String) -> Bool {
    let bytes = text.utf8.count
    if bytes <= 2 { return true }
    if !text.utf8.contains(where: { $0 >= 0x80 || $0 == 0x0D }) { return false }
    return text.count <= 2
  }

  static func overlaps(_ ctx: inout ValidationContext, _ spec: YAMLNode) {
    // With amazonvpc pods take VPC addresses: kops derives no separate pod range to collide with.
    let amazonVPC = spec[path: "networking", "amazonvpc"] != nil
    var ranges: [(rule: String, field: String, cidr: IPv4CIDR, given: Bool)] = []
    if let text = spec["podCIDR"]?.text {
      if let c = IPv4CIDR(text) { ranges.append(("subnet-overlaps-pods", "podCIDR", c, true)) }
    } else if !amazonVPC, let c = IPv4CIDR("100.96.0.0/11") {
      ranges.append(("subnet-overlaps-pods", "podCIDR", c, false))
    }
    if let text = spec["serviceClusterIPRange"]?.text {
      if let c = IPv4CIDR(text) { ranges.append(("subnet-overlaps-services", "serviceClusterIPRange", c, true)) }
    } else if let c = IPv4CIDR("100.64.0.0/13") {
      ranges.append(("subnet-overlaps-services", "serviceClusterIPRange", c, false))
    }
    for (i, subnet) in ctx.subnets {
      guard let node = subnet["cidr"], let text = node.stringValue, let cidr = IPv4CIDR(text) else { continue }
      for r in ranges where cidr.contains(r.cidr) || r.cidr.contains(cidr) {
        let which = r.given ? "spec.\(r.field) \(r.cidr)" : "kops's default \(r.field) \(r.cidr)"
        ctx.error(
          r.rule,
          "\(ValidationContext.subnetPath(i, subnet)).cidr \(cidr) overlaps \(which); kops refuses it at update, after the "
            + "objects are written: set spec.\(r.field) (and nonMasqueradeCIDR) to a range your network does not use",
          at: node.mark)
      }
    }
  }

  static func publicEgress(_ ctx: inout ValidationContext) {
    for (i, subnet) in ctx.subnets {
      guard let type = subnet["type"]?.text, type == "Utility" || type == "Public",
        let node = subnet["egress"], let egress = node.text
      else { continue }
      guard egress.hasPrefix("nat-") || egress.hasPrefix("i-") || egress.hasPrefix("tgw-") else { continue }
      ctx.error(
        "subnet-egress-public",
        "\(ValidationContext.subnetPath(i, subnet)).egress \(egress) on a \(type) subnet: kops allows NAT, instance and transit "
          + "gateway egress only on Private subnets and refuses it at update; remove egress here or make the subnet Private",
        at: node.mark)
    }
  }

  static func externalDNS(_ ctx: inout ValidationContext, _ spec: YAMLNode) {
    guard let provider = spec[path: "externalDns", "provider"], provider.text == "external-dns",
      spec[path: "topology", "dns", "type"]?.text == "None"
    else { return }
    ctx.error(
      "external-dns-none",
      "spec.externalDns.provider external-dns needs DNS, but spec.topology.dns.type is None; kops refuses it at update: "
        + "use the default provider (dns-controller) or a DNS type",
      at: provider.mark)
  }
}
