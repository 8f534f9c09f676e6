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

  /// `shared-network`: warnings for every VPC (`spec.networkID`), subnet id and internet gateway
  /// id that more than one of `environments` names (a copied environment still pointing at
  /// the original's network). Keyed by environment name; environments without findings absent.
  static func shared(_ environments: [Environment]) -> [String: [Diagnostic]] {
    struct Use {
      var env: String
      var what: String
      var mark: Mark
    }
    var uses: [String: [Use]] = [:]
    for env in environments {
      let spec = env.cluster["spec"]
      if let node = ValidationContext.present(spec, "networkID"), let id = node.text, !id.isEmpty {
        uses[id, default: []].append(Use(env: env.name, what: "VPC (spec.networkID)", mark: node.mark))
      }
      for subnet in spec?["subnets"]?.items ?? [] {
        guard let node = ValidationContext.present(subnet, "id"), let id = node.text, !id.isEmpty else { continue }
        let name = subnet["name"]?.text ?? "?"
        uses[id, default: []].append(Use(env: env.name, what: "subnet (spec.subnets[name=\(name)].id)", mark: node.mark))
      }
      if env.settings.igwStrategy == .temporary, let id = env.settings.igwID, !id.isEmpty {
        let mark = env.settings.marks["internetGateway"] ?? Mark(file: env.settingsFile, line: 1, column: 1)
        uses[id, default: []].append(Use(env: env.name, what: "internet gateway (internetGateway.id)", mark: mark))
      }
    }
    var out: [String: [Diagnostic]] = [:]
    // Only ids named more than once can warn: the rest are not sorted or looked at.
    for (id, list) in uses.filter({ $0.value.count > 1 }).sorted(by: { $0.key < $1.key }) {
      let names = Array(Set(list.map(\.env))).sorted()
      guard names.count > 1 else { continue }
      for use in list {
        // At most three names (a thousand copies of one environment make short messages too).
        let others = names.lazy.filter { $0 != use.env }
        let shown = others.prefix(3).joined(separator: ", ")
        let more = names.count - 1 - min(3, names.count - 1)
        let othersText = shown + (more > 0 ? " and \(more) more" : "")
        out[use.env, default: []].append(
          Diagnostic(
            .warning,
            "\(use.what) \(id) is also used by \(othersText); each environment should name its own network "
              + "(a copied environment still pointing at the original's?)",
            at: use.mark, rule: "shared-network"))
      }
    }
    return out
  }
}
