import Foundation
import Model

/// `kops get clusters|instancegroups|all` and the deprecated `kops get CLUSTER`.
enum GetCommand {
  static func output(_ inv: Invocation) -> String { inv.flags.string("output") }

  /// Writes `text` to stdout, or a truncated, unparsable version when `FAKE_KOPS_GARBAGE=get`.
  static func emit(_ text: String, _ inv: Invocation) {
    guard Faults.rules(inv.rt.env["FAKE_KOPS_GARBAGE"]).contains(where: { $0.command == "get" }) else {
      Console.out(text)
      return
    }
    let cut = text.prefix(max(1, text.count / 2))
    Console.out(String(cut) + "\n  subnets: [ {name: \"\u{7F}\n\t- : :\n")
  }

  static func zones(_ cluster: YAMLNode) -> String {
    Set((cluster[path: "spec", "subnets"]?.items ?? []).compactMap { $0["zone"]?.text }).sorted().joined(separator: ",")
  }

  static func clusterTable(_ clusters: [YAMLNode]) -> String {
    Table.render(
      ["NAME", "CLOUD", "ZONES"],
      clusters.map { [$0[path: "metadata", "name"]?.text ?? "", $0[path: "spec", "cloudProvider"]?.text ?? "", zones($0)] })
  }

  static func igTable(_ cluster: YAMLNode, _ igs: [YAMLNode], rt: Runtime) -> String {
    let subnetZones = Dictionary(
      (cluster[path: "spec", "subnets"]?.items ?? []).map { ($0["name"]?.text ?? "", $0["zone"]?.text ?? "") },
      uniquingKeysWith: { a, _ in a })
    return Table.render(
      ["NAME", "ROLE", "MACHINETYPE", "MIN", "MAX", "ZONES"],
      igs.map { ig in
        var role = ig[path: "spec", "role"]?.text ?? ""
        if rt.atLeast(1, 26) && role == "Master" { role = "ControlPlane" }
        let zones = Set((ig[path: "spec", "subnets"]?.items ?? []).compactMap { subnetZones[$0.text ?? ""] }).sorted()
        return [
          ig[path: "metadata", "name"]?.text ?? "", role, ig[path: "spec", "machineType"]?.text ?? "",
          ig[path: "spec", "minSize"]?.text ?? "-", ig[path: "spec", "maxSize"]?.text ?? "-", zones.joined(separator: ","),
        ]
      })
  }

  /// `fullOutputJSON`: one object when `single`, else an array; objects end in a newline.
  static func json(_ objects: [YAMLNode], single: Bool) -> String {
    let body = objects.map { KopsCodec.json($0) }.joined(separator: ",")
    return single ? body : "[" + body + "]"
  }

  static func runClusters(_ inv: Invocation) throws {
    let rt = inv.rt
    var names = inv.args
    if !names.isEmpty && !inv.nameFlag.isEmpty { throw KopsError("cannot mix --name for cluster with positional arguments") }
    if names.isEmpty && !inv.nameFlag.isEmpty { names = [inv.nameFlag] }
    let store = try StateStore.resolve(inv)
    var clusters: [YAMLNode] = []
    if names.count == 1 {
      if let c = try store.readCluster(names[0], rt: rt) { clusters.append(c) }
    } else {
      for n in store.clusterNames() { if let c = try store.readCluster(n, rt: rt) { clusters.append(c) } }
    }
    if !names.isEmpty {
      var filtered: [YAMLNode] = []
      for n in names {
        guard let c = clusters.first(where: { $0[path: "metadata", "name"]?.text == n }) else {
          throw KopsError("cluster not found \(goQuote(n))")
        }
        filtered.append(c)
      }
      clusters = filtered
    }
    if clusters.isEmpty { throw KopsError("no clusters found") }
    var prefix = ""
    if inv.flags.bool("full") {
      var full: [YAMLNode] = []
      for c in clusters {
        let name = c[path: "metadata", "name"]?.text ?? ""
        let path = store.path(name, "cluster-completed.spec")
        guard let text = readTextFile(path) else {
          throw KopsError("error loading Cluster \(goQuote(path)): open \(path): no such file or directory")
        }
        full.append(KopsCodec.canonical(try KopsCodec.decodeStored(text, path: path, rt: rt)))
      }
      clusters = full
      prefix =
        "\n//\n//   WARNING: Do not use a '--full' cluster specification to define a Kubernetes installation.\n//   You may experience unexpected behaviour and other bugs.  Use only the required elements\n//   and any modifications that you require.\n//\n//   Full cluster specifications should be used for informational purposes only.\n//\n"
    }
    switch output(inv) {
    case "table": emit(prefix + clusterTable(clusters), inv)
    case "yaml": emit(prefix + KopsCodec.yaml(documents: clusters), inv)
    case "json": emit(prefix + json(clusters, single: names.count == 1), inv)
    default: throw KopsError("unknown output format: \(goQuote(output(inv)))")
    }
  }

  static func runInstanceGroups(_ inv: Invocation) throws {
    let rt = inv.rt
    let name: String
    if !inv.nameFlag.isEmpty {
      name = inv.nameFlag
    } else if let fromContext = ClusterName.fromKubeconfig(rt) {
      name = fromContext
    } else {
      throw KopsError("--name is required")
    }
    let store = try StateStore.resolve(inv)
    guard let cluster = try store.readCluster(name, rt: rt) else {
      throw KopsError("error fetching cluster \(goQuote(name)): Cluster.kops.k8s.io \(goQuote(name)) not found")
    }
    var igs = try store.instanceGroups(name, rt: rt)
    if !inv.args.isEmpty {
      var filtered: [YAMLNode] = []
      for n in inv.args {
        guard let ig = igs.first(where: { $0[path: "metadata", "name"]?.text == n }) else {
          throw KopsError("instancegroup not found \(goQuote(n))")
        }
        filtered.append(ig)
      }
      igs = filtered
    }
    if igs.isEmpty { throw KopsError("no InstanceGroup objects found") }
    switch output(inv) {
    case "table": emit(igTable(cluster, igs, rt: rt), inv)
    case "yaml": emit(KopsCodec.yaml(documents: igs), inv)
    case "json": emit(json(igs, single: igs.count == 1), inv)
    default: throw KopsError("unknown output format: \(goQuote(output(inv)))")
    }
  }

  /// `kops get all CLUSTER` (1.26+).
  static func runAll(_ inv: Invocation) throws {
    let name = try ClusterName.required(inv)
    let store = try StateStore.resolve(inv)
    guard let cluster = try store.readCluster(name, rt: inv.rt) else {
      throw KopsError("Cluster.kops.k8s.io \(goQuote(name)) not found")
    }
    try printAll(cluster, store: store, inv: inv, unknownFormat: "unknown output format")
  }

  /// `kops get [CLUSTER]`: deprecated since 1.26 (a warning), the only form before.
  static func runDeprecatedGet(_ inv: Invocation) throws {
    let name = try ClusterName.required(inv)
    if inv.rt.atLeast(1, 26) {
      Klog.warning("get.go:87", "`kops get [CLUSTER]` is deprecated: use `kops get all [CLUSTER]`")
    }
    let store = try StateStore.resolve(inv)
    guard let cluster = try store.readCluster(name, rt: inv.rt) else {
      throw KopsError("Cluster.kops.k8s.io \(goQuote(name)) not found")
    }
    try printAll(cluster, store: store, inv: inv, unknownFormat: inv.rt.atLeast(1, 26) ? "unknown output format" : "Unknown output format")
  }

  static func printAll(_ cluster: YAMLNode, store: StateStore, inv: Invocation, unknownFormat: String) throws {
    let name = cluster[path: "metadata", "name"]?.text ?? ""
    let igs = try store.instanceGroups(name, rt: inv.rt)
    if igs.isEmpty { Console.err("No instance groups found\n") }
    let addons = store.addons(name)
    switch output(inv) {
    case "yaml":
      let docs = [KopsCodec.yaml(cluster)] + igs.map { KopsCodec.yaml($0) } + addons.map { YAMLEmitter.emit($0) }
      emit(docs.joined(separator: "\n---\n\n"), inv)
    case "json":
      let objects = [KopsCodec.json(cluster)] + igs.map { KopsCodec.json($0) } + addons.map { $0.json.serialized() + "\n" }
      emit("[" + objects.joined(separator: ",") + "]", inv)
    case "table":
      var text = "Cluster\n" + clusterTable([cluster]) + "\nInstance Groups\n" + igTable(cluster, igs, rt: inv.rt)
      if !addons.isEmpty {
        text +=
          "\nAddon Objects\n"
          + Table.render(
            ["KIND", "NAME"], addons.map { [$0["kind"]?.text ?? "", $0[path: "metadata", "name"]?.text ?? ""] })
      }
      emit(text, inv)
    default:
      throw KopsError("\(unknownFormat): \(goQuote(output(inv)))")
    }
  }
}
