import Model

/// Rules that catch an environment copied from another and not fully renamed: its own state
/// location and DNS zone (per environment), and no VPC, subnet or gateway shared with another
/// environment (across the environments checked together).
enum IdentityRules {
  static func check(_ ctx: inout ValidationContext) {
    guard let spec = ctx.spec else { return }
    configBase(&ctx, spec)
    dnsZone(&ctx, spec)
  }

  /// `config-base-mismatch`: kops keeps the cluster at `stateStore/<cluster name>`; a
  /// `spec.configBase` elsewhere is another cluster's (usually the environment it was copied from).
  static func configBase(_ ctx: inout ValidationContext, _ spec: YAMLNode) {
    guard let node = ValidationContext.present(spec, "configBase"), let configBase = node.text else { return }
    let settings = ctx.env.settings
    var store = settings.stateStore
    while store.hasSuffix("/") { store.removeLast() }
    let expected = store + "/" + settings.cluster
    guard configBase != expected else { return }
    ctx.error(
      "config-base-mismatch",
      "spec.configBase '\(configBase)' is not stateStore + '/' + cluster ('\(expected)' from \(ctx.env.settingsFile)); "
        + "set it to '\(expected)' or remove it (kops derives it)",
      at: node.mark)
  }

  /// `dns-zone-mismatch`: the cluster name must be within `spec.dnsZone` (a zone name; a hosted
  /// zone id is not checked).
  static func dnsZone(_ ctx: inout ValidationContext, _ spec: YAMLNode) {
    guard let node = ValidationContext.present(spec, "dnsZone"), var zone = node.text, !zone.isEmpty else { return }
    // The usual zone, the cluster's own or one above it, is recognised on bytes.
    if clusterWithinZoneASCII(ctx.env.settings.cluster, zone: zone) { return }
    while zone.hasSuffix(".") { zone.removeLast() }
    // A hosted zone id (Z0123456789ABCDEFGHIJ, or /hostedzone/Z…) names no domain.
    guard zone.contains(".") else { return }
    let cluster = ctx.env.settings.cluster.lowercased()
    zone = zone.lowercased()
    guard cluster != zone && !cluster.hasSuffix("." + zone) else { return }
    ctx.error(
      "dns-zone-mismatch",
      "cluster '\(ctx.env.settings.cluster)' is not within spec.dnsZone '\(zone)'; kops creates the cluster's records in "
        + "that zone: set dnsZone to the zone the cluster name belongs to",
      at: node.mark)
  }

  /// Whether `cluster` is `zone` or within it as ``dnsZone(_:_:)`` decides (trailing dots of
  /// the zone dropped, compared without case; a zone without a dot names no domain), for plain
  /// ASCII texts without a carriage return (where a `Character` is a byte); false otherwise and
  /// whenever the rule could have something to say: the rule's own code then decides.
  static func clusterWithinZoneASCII(_ cluster: String, zone: String) -> Bool {
    var c = cluster
    var z = zone
    return c.withUTF8 { c in
      z.withUTF8 { z in
        guard !c.contains(where: { $0 >= 0x80 || $0 == 0x0D }), !z.contains(where: { $0 >= 0x80 || $0 == 0x0D }) else { return false }
        var n = z.count
        while n > 0 && z[n - 1] == 0x2E { n -= 1 }
        guard z[..<n].contains(0x2E) else { return false }
        func lower(_ b: UInt8) -> UInt8 { b >= 0x41 && b <= 0x5A ? b | 0x20 : b }
        // the cluster is the zone, or ends with "." + zone
        guard c.count == n || (c.count > n && c[c.count - n - 1] == 0x2E) else { return false }
        let offset = c.count - n
        for i in 0..<n where lower(c[offset + i]) != lower(z[i]) { return false }
        return true
      }
    }
  }

  /// `shared-network`: warnings for every VPC (`spec.networkID`), subnet id and internet gateway
  /// id that more than one of `environments` names (a copied environment still pointing at
  /// the original's network). Keyed by environment name; environments without findings absent.
  static func shared(_ environments: [Environment]) -> [String: [Diagnostic]] {
    // What names an id: its text is made only for an id named more than once (a message).
    enum What {
      case vpc, internetGateway
      case subnet(name: String)
      var text: String {
        switch self {
        case .vpc: "VPC (spec.networkID)"
        case .internetGateway: "internet gateway (internetGateway.id)"
        case .subnet(let name): "subnet (spec.subnets[name=\(name)].id)"
        }
      }
    }
    struct Use {
      /// The environment's index in `environments`.
      var env: Int
      var what: What
      var mark: Mark
    }
    var uses: [String: [Use]] = [:]
    // By index: each environment's parts are read in place, not copied (a copy retains every
    // field of a thousand environments, one after the other).
    for e in environments.indices {
      let spec = environments[e].cluster["spec"]
      if let node = ValidationContext.present(spec, "networkID"), let id = node.text, !id.isEmpty {
        uses[id, default: []].append(Use(env: e, what: .vpc, mark: node.mark))
      }
      for subnet in spec?["subnets"]?.items ?? [] {
        guard let node = ValidationContext.present(subnet, "id"), let id = node.text, !id.isEmpty else { continue }
        uses[id, default: []].append(Use(env: e, what: .subnet(name: subnet["name"]?.text ?? "?"), mark: node.mark))
      }
      if environments[e].settings.igwStrategy == .temporary, let id = environments[e].settings.igwID, !id.isEmpty {
        let mark = environments[e].settings.marks["internetGateway"] ?? Mark(file: environments[e].settingsFile, line: 1, column: 1)
        uses[id, default: []].append(Use(env: e, what: .internetGateway, mark: mark))
      }
    }
    var out: [String: [Diagnostic]] = [:]
    // Only ids named more than once can warn: the rest are not sorted or looked at.
    for (id, list) in uses.filter({ $0.value.count > 1 }).sorted(by: { $0.key < $1.key }) {
      let names = Array(Set(list.map { environments[$0.env].name })).sorted()
      guard names.count > 1 else { continue }
      for use in list {
        let env = environments[use.env].name
        // At most three names (a thousand copies of one environment make short messages too).
        let others = names.lazy.filter { $0 != env }
        let shown = others.prefix(3).joined(separator: ", ")
        let more = names.count - 1 - min(3, names.count - 1)
        let othersText = shown + (more > 0 ? " and \(more) more" : "")
        out[env, default: []].append(
          Diagnostic(
            .warning,
            "\(use.what.text) \(id) is also used by \(othersText); each environment should name its own network "
              + "(a copied environment still pointing at the original's?)",
            at: use.mark, rule: "shared-network"))
      }
    }
    return out
  }
}
