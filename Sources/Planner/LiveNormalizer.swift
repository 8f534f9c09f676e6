import Config
import Model

/// Undoes what kops adds or rewrites when it stores objects, so that objects read back with
/// `kops get` compare equal to what hk recorded (DESIGN.md §6). Used by apply's pre-flight
/// check and by `hk drift`.
///
/// | kops rewrite | normalisation |
/// | --- | --- |
/// | `metadata.creationTimestamp`, `generation` stamped | removed from both sides |
/// | `spec.configBase`, `nonMasqueradeCIDR`, `masterPublicName`, `masterInternalName`, `iam.legacy`, `networkCIDR`, etcd `manager.backupRetentionDays`, subnet `cidr`s filled at create | dropped from live when not recorded |
/// | default `egressProxy.excludes` appended at create | appended defaults dropped from live |
/// | IG role `ControlPlane` for `Master`, policy key `control-plane` for `master` | mapped to what was recorded |
/// | decoding defaults: `topology.dns.type: Public`, ≤1.27 `topology.masters/nodes: public`, `api: {}`, `api.loadBalancer.type: Public`/`class: Classic`, `authorization: {alwaysAllow: {}}` (`rbac` from 1.36), flannel `backend: udp` | dropped from live when not recorded (placeholders left empty too) |
/// | Go's `omitempty`: empty strings and lists are not stored | restored in live where recorded |
/// | legacy `apiVersion: kops/v1alpha2` stored as `kops.k8s.io/v1alpha2` | mapped to what was recorded |
public enum LiveNormalizer {
  /// Fields kops's `create -f`/`replace -f` fill in when the user left them out. Not here
  /// (kops-contract §9): `sshAccess` and `kubernetesApiAccess` (only `kops create cluster`'s
  /// flags default them, so a live value hk did not write came from someone's `kops edit`), and
  /// the completed-spec values `clusterDNSDomain`, `serviceClusterIPRange`, `podCIDR`,
  /// `keyStore`, `secretStore` (`cloudup/new_cluster.go`, `populate_cluster_spec.go`: never stored).
  public static let filledByKops: [[String]] = [
    ["spec", "configBase"], ["spec", "nonMasqueradeCIDR"], ["spec", "masterPublicName"], ["spec", "masterInternalName"],
    ["spec", "iam", "legacy"], ["spec", "networkCIDR"], ["spec", "kubernetesVersion"], ["spec", "configStore"],
  ]

  /// Normalises a live Cluster against the recorded one.
  public static func cluster(live: YAMLNode, recorded: YAMLNode) -> YAMLNode {
    var l = stripVolatile(live)
    for path in filledByKops where recorded[path: path] == nil {
      l.remove(path: path)
    }
    // etcd manager defaults
    if var etcd = l[path: "spec", "etcdClusters"]?.items {
      let rEtcd = recorded[path: "spec", "etcdClusters"]?.items ?? []
      for i in etcd.indices {
        let name = etcd[i]["name"]?.text
        let r = rEtcd.first { $0["name"]?.text == name }
        if r?[path: "manager", "backupRetentionDays"] == nil {
          etcd[i].remove(path: ["manager", "backupRetentionDays"])
          if etcd[i]["manager"]?.pairs?.isEmpty == true && r?["manager"] == nil { etcd[i].remove("manager") }
        }
      }
      l.set(path: ["spec", "etcdClusters"], .sequence(etcd))
    }
    // subnet CIDRs assigned at create
    if var subnets = l[path: "spec", "subnets"]?.items {
      let rSubnets = recorded[path: "spec", "subnets"]?.items ?? []
      for i in subnets.indices {
        let r = rSubnets.first { $0["name"]?.text == subnets[i]["name"]?.text }
        if let r, r["cidr"] == nil { subnets[i].remove("cidr") }
      }
      l.set(path: ["spec", "subnets"], .sequence(subnets))
    }
    // default egressProxy excludes appended at create
    if let liveExcludes = l[path: "spec", "egressProxy", "excludes"]?.text,
      let recordedNode = recorded[path: "spec", "egressProxy", "excludes"]
    {
      let recordedList = split(recordedNode.text ?? "")
      let defaults = Set(defaultExcludes(live))
      let kept = split(liveExcludes).filter { recordedList.contains($0) || !defaults.contains($0) }
      if kept == recordedList { l.set(path: ["spec", "egressProxy", "excludes"], recordedNode) }
    } else if recorded[path: "spec", "egressProxy"] != nil, recorded[path: "spec", "egressProxy", "excludes"] == nil,
      let liveExcludes = l[path: "spec", "egressProxy", "excludes"]?.text
    {
      let defaults = Set(defaultExcludes(live))
      if split(liveExcludes).allSatisfy(defaults.contains) { l.remove(path: ["spec", "egressProxy", "excludes"]) }
    }
    // additionalPolicies: control-plane ⇄ master
    if var policies = l[path: "spec", "additionalPolicies"], let rp = recorded[path: "spec", "additionalPolicies"] {
      for (a, b) in [("control-plane", "master"), ("master", "control-plane")] where policies[a] != nil && rp[a] == nil && rp[b] != nil {
        if let v = policies[a] {
          policies.remove(a)
          policies.set(b, v)
        }
      }
      l.set(path: ["spec", "additionalPolicies"], policies)
    }
    removeDecodedDefaults(&l, recorded: recorded)
    restoreOmittedEmpties(&l, recorded: recorded)
    restoreOmittedZeroes(&l, recorded: recorded, type: .object("Cluster"))
    mapLegacyAPIVersion(&l, recorded: recorded)
    return l
  }

  /// Puts back the zero values (`false`, `0`, `""`, `[]`, `{}`) the recorded object holds where
  /// live has nothing, for the fields kops's v1alpha2 types omit on output at their zero value
  /// (non-pointer `omitempty`, from ``KopsSchema``; kops-contract §9): written but not read back.
  /// A pointer field's `false` is kept by kops, so its absence stays a difference.
  public static func restoreOmittedZeroes(_ live: inout YAMLNode, recorded: YAMLNode, type: KopsSchema.ValueType) {
    let schema = KopsSchema.shared
    switch (type, recorded.content, live.content) {
    case (.object(let name), .mapping(let recordedPairs), .mapping):
      for p in recordedPairs {
        guard let field = schema.anyRelease(p.key, in: name) else { continue }
        if var child = live[p.key] {
          if field.type == .quantity, let a = quantity(p.value), let b = quantity(child), a == b {
            // kops reads quantities back in canonical form (`3.14` → `3140m`, `1024Mi` → `1Gi`)
            live.set(p.key, p.value)
            continue
          }
          restoreOmittedZeroes(&child, recorded: p.value, type: field.type)
          live.set(p.key, child)
        } else if field.omittedWhenZero && isZero(p.value) {
          live.set(p.key, p.value)
        }
      }
    case (.list(let item), .sequence(let recordedItems), .sequence(var items)):
      for i in items.indices {
        let name = items[i]["name"]?.text
        let r = name.flatMap { n in recordedItems.first { $0["name"]?.text == n } } ?? (i < recordedItems.count ? recordedItems[i] : nil)
        if let r { restoreOmittedZeroes(&items[i], recorded: r, type: item) }
      }
      live = YAMLNode(.sequence(items), mark: live.mark)
    case (.map(let value), .mapping(let recordedPairs), .mapping):
      for p in recordedPairs {
        if var child = live[p.key] {
          restoreOmittedZeroes(&child, recorded: p.value, type: value)
          live.set(p.key, child)
        }
      }
    default:
      break
    }
  }

  /// A `resource.Quantity` (`3.14`, `3140m`, `1Gi`, `1e3`) as a number, exact to about 15
  /// digits; nil when not a quantity.
  static func quantity(_ node: YAMLNode) -> Double? {
    guard let s = node.scalar else { return nil }
    switch s.value {
    case .int(let i): return Double(i)
    case .float(let f): return f
    case .string(let text):
      let suffixes: [(String, Double)] = [
        ("Ki", 1024), ("Mi", 1_048_576), ("Gi", 1_073_741_824), ("Ti", 1_099_511_627_776), ("Pi", 1_125_899_906_842_624),
        ("Ei", 1_152_921_504_606_846_976), ("n", 1e-9), ("u", 1e-6), ("m", 1e-3), ("k", 1e3), ("M", 1e6), ("G", 1e9),
        ("T", 1e12), ("P", 1e15), ("E", 1e18),
      ]
      for (suffix, factor) in suffixes where text.hasSuffix(suffix) {
        guard let n = Double(text.dropLast(suffix.count)) else { return nil }
        return n * factor
      }
      return Double(text)
    default: return nil
    }
  }

  static func isZero(_ node: YAMLNode) -> Bool {
    switch node.content {
    case .mapping(let pairs): return pairs.isEmpty
    case .sequence(let items): return items.isEmpty
    case .scalar(let s):
      switch s.value {
      case .bool(let b): return !b
      case .int(let i): return i == 0
      case .float(let f): return f == 0
      case .string(let t): return t.isEmpty
      case .null: return false
      }
    }
  }

  /// Leaf values kops's v1alpha2 decoding fills in when a field is missing (kops-contract.md
  /// §2.4(2)); dropped from live when the recorded object does not set the field.
  public static let decodedDefaults: [(path: [String], value: String)] = [
    (["spec", "topology", "dns", "type"], "Public"), (["spec", "topology", "masters"], "public"),
    (["spec", "topology", "nodes"], "public"), (["spec", "api", "loadBalancer", "type"], "Public"),
    (["spec", "api", "loadBalancer", "class"], "Classic"), (["spec", "networking", "flannel", "backend"], "udp"),
  ]

  /// Mappings decoding adds as placeholders (deepest first); dropped from live when empty and
  /// not recorded.
  static let decodedPlaceholders: [[String]] = [
    ["spec", "topology", "dns"], ["spec", "topology"], ["spec", "api", "dns"], ["spec", "api", "loadBalancer"], ["spec", "api"],
  ]

  static func removeDecodedDefaults(_ l: inout YAMLNode, recorded: YAMLNode) {
    for (path, value) in decodedDefaults where recorded[path: path] == nil && l[path: path]?.text == value {
      l.remove(path: path)
    }
    // `authorization` missing (or empty, which kops treats as missing) becomes `{alwaysAllow: {}}`
    // (`{rbac: {}}` from 1.36).
    let recordedAuth = recorded[path: "spec", "authorization"]
    if recordedAuth == nil || recordedAuth?.isNull == true || recordedAuth?.pairs?.isEmpty == true,
      let pairs = l[path: "spec", "authorization"]?.pairs, pairs.count == 1,
      pairs[0].key == "alwaysAllow" || pairs[0].key == "rbac", pairs[0].value.pairs?.isEmpty == true
    {
      if let recordedAuth {
        l.set(path: ["spec", "authorization"], recordedAuth)
      } else {
        l.remove(path: ["spec", "authorization"])
      }
    }
    for path in decodedPlaceholders where recorded[path: path] == nil && l[path: path]?.pairs?.isEmpty == true {
      l.remove(path: path)
    }
  }

  /// Puts back the empty strings and lists the recorded object holds where live has nothing:
  /// kops (Go's `omitempty`) does not store them, so they are not a difference.
  public static func restoreOmittedEmpties(_ live: inout YAMLNode, recorded: YAMLNode) {
    switch (recorded.content, live.content) {
    case (.mapping(let recordedPairs), .mapping):
      for p in recordedPairs {
        if var child = live[p.key] {
          guard p.value.isMapping || p.value.items != nil else { continue }
          restoreOmittedEmpties(&child, recorded: p.value)
          live.set(p.key, child)
        } else if p.value.stringValue == "" || p.value.items?.isEmpty == true {
          live.set(p.key, p.value)
        }
      }
    case (.sequence(let recordedItems), .sequence(var items)):
      for i in items.indices {
        guard let name = items[i]["name"]?.text, let r = recordedItems.first(where: { $0["name"]?.text == name }) else {
          continue
        }
        restoreOmittedEmpties(&items[i], recorded: r)
      }
      live = YAMLNode(.sequence(items), mark: live.mark)
    default:
      break
    }
  }

  /// Normalises a live InstanceGroup against the recorded one.
  public static func instanceGroup(live: YAMLNode, recorded: YAMLNode?) -> YAMLNode {
    var l = stripVolatile(live)
    let lr = l[path: "spec", "role"]?.text
    let rr = recorded?[path: "spec", "role"]?.text
    if let lr, let rr, lr != rr, Set([lr, rr]) == ["Master", "ControlPlane"], let node = recorded?[path: "spec", "role"] {
      l.set(path: ["spec", "role"], node)
    }
    if let recorded {
      restoreOmittedEmpties(&l, recorded: recorded)
      restoreOmittedZeroes(&l, recorded: recorded, type: .object("InstanceGroup"))
    }
    mapLegacyAPIVersion(&l, recorded: recorded)
    return l
  }

  /// The excludes kops appends at create (kops-contract.md §8), computed from a stored Cluster.
  public static func defaultExcludes(_ cluster: YAMLNode) -> [String] {
    let v = ClusterView(cluster)
    var out = ["127.0.0.1", "localhost"]
    if let d = cluster[path: "spec", "clusterDNSDomain"]?.text { out.append(d) }
    if let api = v.masterPublicName { out.append(api) }
    if let name = v.name {
      out.append(name)
      out.append("api." + name)
      out.append("api.internal." + name)
    }
    if let nm = v.nonMasqueradeCIDR {
      out.append(nm)
      if let first = firstIP(nm) { out.append(first) }
    }
    out.append("169.254.169.254")
    if let c = v.networkCIDR { out.append(c) }
    for c in cluster[path: "spec", "additionalNetworkCIDRs"]?.items ?? [] { if let t = c.text { out.append(t) } }
    return out
  }

  static func firstIP(_ cidr: String) -> String? {
    let parts = cidr.split(separator: "/")
    let octets = parts.first?.split(separator: ".").compactMap { Int($0) } ?? []
    guard octets.count == 4 else { return nil }
    return "\(octets[0]).\(octets[1]).\(octets[2]).\(octets[3] + 1)"
  }

  /// A comma-separated list, trimmed, empty entries dropped.
  public static func split(_ s: String) -> [String] {
    s.split(separator: ",").map { String($0).trimmingSpaces() }.filter { !$0.isEmpty }
  }

  /// kops stores the legacy API group `kops/…` as `kops.k8s.io/…`: live takes the recorded spelling.
  static func mapLegacyAPIVersion(_ l: inout YAMLNode, recorded: YAMLNode?) {
    guard let r = recorded?["apiVersion"]?.text, r.hasPrefix("kops/"), l["apiVersion"]?.text == "kops.k8s.io/" + r.dropFirst(5),
      let node = recorded?["apiVersion"]
    else { return }
    l.set("apiVersion", node)
  }

  /// The object without kops-stamped metadata (creationTimestamp, generation, …) and status.
  public static func stripVolatile(_ n: YAMLNode) -> YAMLNode {
    var n = n
    for k in TreeDiff.volatileMetadata { n.remove(path: ["metadata", k]) }
    n.remove("status")
    return n
  }
}

/// Compares recorded objects with live ones read through kops, after normalisation.
public enum LiveComparison {
  /// A value as a drift report shows it: contents as digest and length, secrets redacted.
  static func shown(_ value: JSONValue, _ path: String) -> JSONValue {
    Redaction.redact(Redaction.concealContent(value, path: path))
  }

  /// Field-by-field differences (values redacted). Instance groups are `instancegroup[NAME]…`.
  public static func differences(
    recordedCluster: YAMLNode, recordedIGs: [YAMLNode], liveCluster: YAMLNode?, liveIGs: [YAMLNode]
  ) -> [DriftItem] {
    var out: [DriftItem] = []
    guard let liveCluster else {
      return [DriftItem(path: "cluster", recorded: .string("present"), live: .string("missing from the kops state store"))]
    }
    let lc = LiveNormalizer.cluster(live: liveCluster, recorded: recordedCluster)
    for d in TreeDiff.diff(LiveNormalizer.stripVolatile(recordedCluster), lc) {
      out.append(
        DriftItem(path: d.path, recorded: d.before.map { shown($0.json, d.path) }, live: d.after.map { shown($0.json, d.path) }))
    }
    let liveByName = Dictionary(liveIGs.compactMap { n in InstanceGroupView(n).name.map { ($0, n) } }, uniquingKeysWith: { a, _ in a })
    var seen = Set<String>()
    for r in recordedIGs {
      guard let name = InstanceGroupView(r).name else { continue }
      seen.insert(name)
      guard let live = liveByName[name] else {
        out.append(DriftItem(path: "instancegroup[\(name)]", recorded: .string("present"), live: nil, object: .instanceGroup(name)))
        continue
      }
      let l = LiveNormalizer.instanceGroup(live: live, recorded: r)
      for d in TreeDiff.diff(LiveNormalizer.stripVolatile(r), l, path: "instancegroup[\(name)]") {
        out.append(
          DriftItem(
            path: d.path, recorded: d.before.map { shown($0.json, d.path) }, live: d.after.map { shown($0.json, d.path) },
            object: .instanceGroup(name)))
      }
    }
    for (name, _) in liveByName where !seen.contains(name) {
      out.append(DriftItem(path: "instancegroup[\(name)]", recorded: nil, live: .string("present"), object: .instanceGroup(name)))
    }
    return out.sorted { $0.path < $1.path }
  }
}

/// What hk sends back to kops on a `replace`: the desired object plus what kops assigned when
/// it stored the object and the user never wrote (kops-contract.md §2.4, §8).
///
/// A plain `kops replace` stores exactly what it is sent, so replacing a Cluster with the
/// user's manifest would strip the defaults `kops create` added (egressProxy excludes,
/// masterPublicName, etcd backupRetentionDays, configBase, …): every node's configuration would
/// change and need a roll the plan never predicted. Only fields that neither the desired nor the
/// recorded object has are taken from live, so a field the user removed stays removed.
public enum KopsAssignments {
  public static func keep(desired: YAMLNode, recorded: YAMLNode?, live: YAMLNode?) -> YAMLNode {
    guard let live else { return desired }
    var d = desired
    func unset(_ path: [String]) -> Bool { desired[path: path] == nil && recorded?[path: path] == nil }
    // creationTimestamp: kops stamps it; send back what it stored (contract §7).
    if unset(["metadata", "creationTimestamp"]), let ts = live[path: "metadata", "creationTimestamp"], !ts.isNull {
      d.set(path: ["metadata", "creationTimestamp"], ts)
    }
    guard live["kind"]?.text == "Cluster" else { return d }
    for path in LiveNormalizer.filledByKops where unset(path) {
      if let v = live[path: path] { d.set(path: path, v) }
    }
    // etcd manager.backupRetentionDays (kops ≥ 1.27 at create)
    if var etcd = d[path: "spec", "etcdClusters"]?.items {
      let liveEtcd = live[path: "spec", "etcdClusters"]?.items ?? []
      let recordedEtcd = recorded?[path: "spec", "etcdClusters"]?.items ?? []
      for i in etcd.indices {
        let name = etcd[i]["name"]?.text
        guard etcd[i][path: "manager", "backupRetentionDays"] == nil,
          recordedEtcd.first(where: { $0["name"]?.text == name })?[path: "manager", "backupRetentionDays"] == nil,
          let v = liveEtcd.first(where: { $0["name"]?.text == name })?[path: "manager", "backupRetentionDays"]
        else { continue }
        etcd[i].set(path: ["manager", "backupRetentionDays"], v)
      }
      d.set(path: ["spec", "etcdClusters"], .sequence(etcd))
    }
    // subnet CIDRs assigned at create
    if var subnets = d[path: "spec", "subnets"]?.items {
      let liveSubnets = live[path: "spec", "subnets"]?.items ?? []
      for i in subnets.indices where subnets[i]["cidr"] == nil {
        let name = subnets[i]["name"]?.text
        if let cidr = liveSubnets.first(where: { $0["name"]?.text == name })?["cidr"] { subnets[i].set("cidr", cidr) }
      }
      d.set(path: ["spec", "subnets"], .sequence(subnets))
    }
    // default egressProxy excludes appended at create
    if let desiredText = desired[path: "spec", "egressProxy", "excludes"]?.text,
      let liveText = live[path: "spec", "egressProxy", "excludes"]?.text
    {
      let wanted = LiveNormalizer.split(desiredText)
      let defaults = Set(LiveNormalizer.defaultExcludes(live))
      let appended = LiveNormalizer.split(liveText).filter { defaults.contains($0) && !wanted.contains($0) }
      if !appended.isEmpty {
        d.set(path: ["spec", "egressProxy", "excludes"], .string((wanted + appended).joined(separator: ",")))
      }
    }
    return d
  }
}
