import Foundation
import Model

/// The kinds of object `kops create -f` / `kops replace -f` handle.
enum KopsKind: Equatable {
  case cluster, instanceGroup, sshCredential
  /// Any non-kops object (an addon, stored in `clusteraddons/default`).
  case addon
}

/// One decoded document of a manifest file.
struct DecodedObject {
  var kind: KopsKind
  var node: YAMLNode
  /// `group/version, Kind=X` as kops prints it in "unhandled kind" errors.
  var gvk: String
}

/// Decoding, defaulting and encoding of kops objects (v1alpha2), imitating kopscodecs.
enum KopsCodec {
  // MARK: Decoding

  /// Splits a manifest like `text.SplitContentToSections` and decodes every section.
  ///
  /// Decoding is lazy per section in kops (objects before a bad section are already written);
  /// callers get the sections one by one through `sections` and decode with `decodeSection`.
  static func sections(_ bytes: [UInt8]) -> [String] {
    let text = String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
    return text.components(separatedBy: "\n---\n").filter { section in
      section.split(separator: "\n").contains { line in
        let t = line.trimmingCharacters(in: .whitespaces)
        return !t.isEmpty && !t.hasPrefix("#") && t != "---"
      }
    }
  }

  /// Decodes one section of the file `file` (for `error parsing file "f": …` messages).
  static func decodeSection(_ section: String, file: String, rt: Runtime) throws(KopsError) -> [DecodedObject] {
    func fail(_ message: String) -> KopsError { KopsError("error parsing file \(goQuote(file)): \(message)") }
    let docs: [YAMLNode]
    do {
      docs = try ManifestReader.documents(section, file: file)
    } catch {
      throw fail("error converting YAML to JSON: yaml: line \(error.line): \(error.problem)")
    }
    var out: [DecodedObject] = []
    for doc in docs where !doc.isNull {
      out.append(try decodeDocument(doc, fail: fail, rt: rt))
    }
    return out
  }

  static func decodeDocument(_ doc: YAMLNode, fail: (String) -> KopsError, rt: Runtime) throws(KopsError) -> DecodedObject {
    let json = doc.json.serialized()
    guard doc.isMapping else {
      throw fail(
        "couldn't get version/kind; json parse error: json: cannot unmarshal \(jsonType(doc)) into Go value of type struct { APIVersion string \"json:\\\"apiVersion,omitempty\\\"\"; Kind string \"json:\\\"kind,omitempty\\\"\" }"
      )
    }
    guard let kind = doc["kind"]?.text, !kind.isEmpty else { throw fail("Object 'Kind' is missing in '\(json)'") }
    guard var apiVersion = doc["apiVersion"]?.text, !apiVersion.isEmpty else {
      throw fail("Object 'apiVersion' is missing in '\(json)'")
    }
    let group = apiVersion.contains("/") ? String(apiVersion.split(separator: "/")[0]) : ""
    let version = String(apiVersion.split(separator: "/").last ?? "")
    if group != "kops.k8s.io" && group != "kops" {
      return DecodedObject(kind: .addon, node: doc, gvk: "\(apiVersion), Kind=\(kind)")
    }
    if group == "kops" { apiVersion = "kops.k8s.io/" + version }
    let scheme = "k8s.io/kops/pkg/kopscodecs/codecs.go:37"
    let known = ["Cluster", "InstanceGroup", "SSHCredential", "Keyset"]
    let v1alpha3Registered = rt.version.minor == 23 || rt.version.minor == 25 || rt.atLeast(1, 29)
    if version == "v1alpha3" && v1alpha3Registered && known.contains(kind) {
      throw fail("fake-kops does not convert kops.k8s.io/v1alpha3 objects; send kops.k8s.io/v1alpha2 (real kops would accept this)")
    }
    guard version == "v1alpha2", known.contains(kind) else {
      throw fail("no kind \(goQuote(kind)) is registered for version \(goQuote(apiVersion)) in scheme \(goQuote(scheme))")
    }
    var node = doc
    node.set("apiVersion", .string("kops.k8s.io/v1alpha2"))
    let gvk = "kops.k8s.io/v1alpha2, Kind=\(kind)"
    switch kind {
    case "Cluster":
      try checkTypes(node, clusterTypes, fail: fail)
      try normalizeMetadata(&node, fail: fail)
      applyClusterDefaults(&node, rt: rt)
      return DecodedObject(kind: .cluster, node: node, gvk: gvk)
    case "InstanceGroup":
      try checkTypes(node, instanceGroupTypes, fail: fail)
      try normalizeMetadata(&node, fail: fail)
      if rt.atLeast(1, 26), node[path: "spec", "role"]?.text == "ControlPlane" {
        node.set(path: ["spec", "role"], .string("Master"))
      }
      return DecodedObject(kind: .instanceGroup, node: node, gvk: gvk)
    case "SSHCredential":
      return DecodedObject(kind: .sshCredential, node: node, gvk: gvk)
    default:
      throw fail("no kind \(goQuote(kind)) is registered for version \(goQuote(apiVersion)) in scheme \(goQuote(scheme))")
    }
  }

  /// Decodes an object read back from the store.
  static func decodeStored(_ text: String, path: String, rt: Runtime) throws(KopsError) -> YAMLNode {
    func fail(_ message: String) -> KopsError { KopsError("error parsing \(path): \(message)") }
    let docs: [YAMLNode]
    do {
      docs = try ManifestReader.documents(text, file: path)
    } catch {
      throw fail("error converting YAML to JSON: \(error.description)")
    }
    guard let doc = docs.first(where: { !$0.isNull }) else { throw fail("Object 'Kind' is missing in 'null'") }
    return try decodeDocument(doc, fail: fail, rt: rt).node
  }

  /// `metadata.creationTimestamp` re-encoded as `metav1.Time` does (RFC 3339, UTC, seconds).
  static func normalizeMetadata(_ node: inout YAMLNode, fail: (String) -> KopsError) throws(KopsError) {
    guard let ts = node[path: "metadata", "creationTimestamp"], !ts.isNull else { return }
    guard let text = ts.text, let date = parseRFC3339(text) else {
      let t = ts.text ?? ""
      throw fail(
        "parsing time \(goQuote(t)) as \"2006-01-02T15:04:05Z07:00\": cannot parse \(goQuote(t)) as \"2006\"")
    }
    node.set(path: ["metadata", "creationTimestamp"], .string(formatRFC3339(date)))
  }

  // MARK: Type checks (what Go's JSON decoder refuses)

  enum FieldType { case string, int, bool, array, object }

  /// `(path, type, Go struct)`: `*` matches every list item, `+` every map key.
  typealias TypeRule = (path: [String], type: FieldType, goStruct: String)

  static let clusterTypes: [TypeRule] = {
    var rules: [TypeRule] = [
      (["metadata", "name"], .string, "ObjectMeta"), (["metadata", "generation"], .int, "ObjectMeta"),
      (["metadata"], .object, "Cluster"), (["metadata", "labels", "+"], .string, "ObjectMeta"), (["spec"], .object, "Cluster"),
      (["spec", "subnets"], .array, "ClusterSpec"), (["spec", "egressProxy"], .object, "ClusterSpec"),
      (["spec", "egressProxy", "excludes"], .string, "EgressProxySpec"),
      (["spec", "egressProxy", "httpProxy", "host"], .string, "HTTPProxy"),
      (["spec", "egressProxy", "httpProxy", "port"], .int, "HTTPProxy"),
      (["spec", "iam", "legacy"], .bool, "IAMSpec"), (["spec", "iam", "allowContainerRegistry"], .bool, "IAMSpec"),
      (["spec", "kubelet", "containerLogMaxSize"], .string, "KubeletConfigSpec"),
      (["spec", "kubelet", "containerLogMaxFiles"], .int, "KubeletConfigSpec"),
      (["spec", "docker", "logDriver"], .string, "DockerConfig"), (["spec", "docker", "logOpt"], .array, "DockerConfig"),
      (["spec", "docker", "logOpt", "*"], .string, "DockerConfig"),
      (["spec", "additionalPolicies"], .object, "ClusterSpec"), (["spec", "additionalPolicies", "+"], .string, "ClusterSpec"),
      (["spec", "externalPolicies", "+"], .array, "ClusterSpec"), (["spec", "externalPolicies", "+", "*"], .string, "ClusterSpec"),
      (["spec", "topology", "masters"], .string, "TopologySpec"), (["spec", "topology", "nodes"], .string, "TopologySpec"),
      (["spec", "topology", "dns", "type"], .string, "DNSSpec"),
      (["spec", "api", "loadBalancer", "type"], .string, "LoadBalancerAccessSpec"),
      (["spec", "api", "loadBalancer", "class"], .string, "LoadBalancerAccessSpec"),
    ]
    for f in [
      "kubernetesVersion", "configBase", "channel", "cloudProvider", "networkCIDR", "networkID", "nonMasqueradeCIDR",
      "dnsZone", "masterPublicName", "masterInternalName", "containerRuntime", "clusterDNSDomain",
      "serviceClusterIPRange",
    ] {
      rules.append((["spec", f], .string, "ClusterSpec"))
    }
    for f in ["name", "zone", "cidr", "id", "type", "egress", "region", "ipv6CIDR"] {
      rules.append((["spec", "subnets", "*", f], .string, "ClusterSubnetSpec"))
    }
    return rules
  }()

  static let instanceGroupTypes: [TypeRule] = [
    (["metadata"], .object, "InstanceGroup"), (["metadata", "name"], .string, "ObjectMeta"),
    (["metadata", "labels", "+"], .string, "ObjectMeta"), (["spec"], .object, "InstanceGroup"),
    (["spec", "role"], .string, "InstanceGroupSpec"), (["spec", "machineType"], .string, "InstanceGroupSpec"),
    (["spec", "image"], .string, "InstanceGroupSpec"), (["spec", "minSize"], .int, "InstanceGroupSpec"),
    (["spec", "maxSize"], .int, "InstanceGroupSpec"), (["spec", "rootVolumeSize"], .int, "InstanceGroupSpec"),
    (["spec", "subnets"], .array, "InstanceGroupSpec"), (["spec", "subnets", "*"], .string, "InstanceGroupSpec"),
    (["spec", "associatePublicIp"], .bool, "InstanceGroupSpec"),
    (["spec", "cloudLabels", "+"], .string, "InstanceGroupSpec"), (["spec", "nodeLabels", "+"], .string, "InstanceGroupSpec"),
  ]

  static func jsonType(_ node: YAMLNode) -> String {
    switch node.content {
    case .mapping: return "object"
    case .sequence: return "array"
    case .scalar(let s):
      switch s.value {
      case .null: return "null"
      case .bool: return "bool"
      case .int, .float: return "number"
      case .string: return "string"
      }
    }
  }

  static func checkTypes(_ doc: YAMLNode, _ rules: [TypeRule], fail: (String) -> KopsError) throws(KopsError) {
    for rule in rules {
      var matches: [(YAMLNode, [String])] = [(doc, [])]
      for key in rule.path {
        var next: [(YAMLNode, [String])] = []
        for (n, p) in matches {
          switch key {
          case "*": next += (n.items ?? []).map { ($0, p) }
          case "+": next += (n.pairs ?? []).map { ($0.value, p) }
          default: if let c = n[key] { next.append((c, p + [key])) }
          }
        }
        matches = next
      }
      for (n, p) in matches where !n.isNull {
        let got = jsonType(n)
        let goType: String
        var ok: Bool
        switch rule.type {
        case .string:
          ok = got == "string"
          goType = "string"
        case .bool:
          ok = got == "bool"
          goType = "bool"
        case .array:
          ok = got == "array"
          goType = rule.path.last == "*" ? "string" : "[]string"
        case .object:
          ok = got == "object"
          goType = "map[string]string"
        case .int:
          goType = rule.goStruct == "ObjectMeta" ? "int64" : "int32"
          ok = got == "number"
          if ok, n.intValue == nil {
            throw fail(
              "json: cannot unmarshal number \(n.text ?? "") into Go struct field \(rule.goStruct).\(p.joined(separator: ".")) of type \(goType)"
            )
          }
        }
        if !ok {
          let explicit: [[String]: String] = [
            ["spec"]: rule.goStruct == "Cluster" ? "v1alpha2.ClusterSpec" : "v1alpha2.InstanceGroupSpec",
            ["metadata"]: "v1.ObjectMeta",
            ["spec", "subnets"]: rule.goStruct == "ClusterSpec" ? "[]v1alpha2.ClusterSubnetSpec" : "[]string",
            ["spec", "egressProxy"]: "v1alpha2.EgressProxySpec",
          ]
          let type = explicit[rule.path] ?? goType
          throw fail("json: cannot unmarshal \(got) into Go struct field \(rule.goStruct).\(p.joined(separator: ".")) of type \(type)")
        }
      }
    }
  }

  // MARK: Defaults (v1alpha2 SetDefaults_ClusterSpec, by version)

  static func applyClusterDefaults(_ node: inout YAMLNode, rt: Runtime) {
    var spec = node["spec"] ?? .mapping([])
    if !spec.isMapping { spec = .mapping([]) }
    let legacyTopology = !rt.atLeast(1, 28)
    var topology = spec["topology"] ?? .mapping([])
    if legacyTopology {
      if topology["masters"]?.text == nil { topology.set("masters", .string("public")) }
      if topology["nodes"]?.text == nil { topology.set("nodes", .string("public")) }
    }
    var dns = topology["dns"] ?? .mapping([])
    if dns["type"]?.text == nil { dns.set("type", .string("Public")) }
    topology.set("dns", dns)
    spec.set("topology", topology)

    let cloud = spec["cloudProvider"]?.text ?? ""
    if cloud != "openstack" {
      var api = spec["api"] ?? .mapping([])
      if !api.isMapping { api = .mapping([]) }
      if legacyTopology {
        if api["dns"] == nil && api["loadBalancer"] == nil {
          if topology["masters"]?.text == "private" {
            api.set("loadBalancer", .mapping([]))
          } else if topology["masters"]?.text == "public" {
            api.set("dns", .mapping([]))
          }
        }
        if var lb = api["loadBalancer"], lb.isMapping || lb.isNull {
          if lb.isNull { lb = .mapping([]) }
          if lb["type"]?.text == nil { lb.set("type", .string("Public")) }
          if rt.atLeast(1, 20), cloud == "aws", lb["class"]?.text == nil { lb.set("class", .string("Classic")) }
          api.set("loadBalancer", lb)
        }
      }
      spec.set("api", api)
    }

    let auth = spec["authorization"]
    if auth == nil || auth?.isNull == true || auth?.pairs?.isEmpty == true {
      spec.set("authorization", .mapping([YAMLPair(key: rt.atLeast(1, 36) ? "rbac" : "alwaysAllow", value: .mapping([]))]))
    }
    if var flannel = spec[path: "networking", "flannel"], flannel.isMapping || flannel.isNull {
      if flannel.isNull { flannel = .mapping([]) }
      if flannel["backend"]?.text == nil { flannel.set("backend", .string("udp")) }
      spec.set(path: ["networking", "flannel"], flannel)
    }
    if var iam = spec["iam"], iam.isMapping {
      if iam["legacy"] == nil { iam.set("legacy", .bool(false)) }
      spec.set("iam", iam)
    }
    // v1alpha2 output names: `control-plane` is accepted on input since 1.26, printed as `master`.
    if rt.atLeast(1, 26) {
      for key in ["additionalPolicies", "externalPolicies"] {
        guard var map = spec[key], let pairs = map.pairs, pairs.contains(where: { $0.key == "control-plane" }) else { continue }
        map = .mapping(pairs.map { YAMLPair(key: $0.key == "control-plane" ? "master" : $0.key, value: $0.value) })
        spec.set(key, map)
      }
    }
    node.set("spec", spec)
  }

  // MARK: Encoding

  /// Parent keys whose maps keep empty values (user-defined maps, not Go structs).
  static let freeMaps: Set<String> = ["labels", "annotations", "cloudLabels", "nodeLabels"]

  /// The object as kops marshals it: keys in yaml.v2 order, empty optional fields dropped, and
  /// for a Cluster or InstanceGroup what ``KopsMarshal`` does (zero values, quantities).
  static func canonical(_ node: YAMLNode, parentKey: String = "", depth: Int = 0) -> YAMLNode {
    if depth == 0, let type = KopsMarshal.type(of: node) {
      return canonical(KopsMarshal.apply(node, type: type), parentKey: parentKey, depth: 1)
    }
    switch node.content {
    case .scalar:
      return node
    case .sequence(let items):
      return YAMLNode(.sequence(items.map { canonical($0, parentKey: parentKey, depth: depth + 1) }), mark: node.mark)
    case .mapping(let pairs):
      var out: [YAMLPair] = []
      for p in pairs {
        let v = canonical(p.value, parentKey: p.key, depth: depth + 1)
        let keep = freeMaps.contains(parentKey) || !isEmptyValue(v) || (parentKey == "metadata" && p.key == "creationTimestamp")
        if keep { out.append(YAMLPair(key: p.key, keyMark: p.keyMark, value: v)) }
      }
      out.sort { keyLess($0.key, $1.key) }
      return YAMLNode(.mapping(out), mark: node.mark)
    }
  }

  static func isEmptyValue(_ n: YAMLNode) -> Bool {
    switch n.content {
    case .scalar(let s): return s.value == .null || (s.value == .string(""))
    case .sequence(let items): return items.isEmpty
    case .mapping: return false
    }
  }

  /// yaml.v2's map-key order (letters by code point, digit runs numerically, non-letters first).
  static func keyLess(_ a: String, _ b: String) -> Bool {
    let ar = Array(a.unicodeScalars)
    let br = Array(b.unicodeScalars)
    func isDigit(_ u: Unicode.Scalar) -> Bool { u.value >= 48 && u.value <= 57 }
    func isLetter(_ u: Unicode.Scalar) -> Bool { u.properties.isAlphabetic }
    var i = 0
    while i < ar.count && i < br.count {
      if ar[i] == br[i] {
        i += 1
        continue
      }
      let al = isLetter(ar[i])
      let bl = isLetter(br[i])
      if al && bl { return ar[i].value < br[i].value }
      if al || bl { return bl }
      var an: Int64 = 0
      var bn: Int64 = 0
      if ar[i] == "0" || br[i] == "0" {
        var j = i - 1
        while j >= 0 && isDigit(ar[j]) {
          if ar[j] != "0" {
            an = 1
            bn = 1
            break
          }
          j -= 1
        }
      }
      var ai = i
      while ai < ar.count && isDigit(ar[ai]) {
        an = an &* 10 &+ Int64(ar[ai].value - 48)
        ai += 1
      }
      var bi = i
      while bi < br.count && isDigit(br[bi]) {
        bn = bn &* 10 &+ Int64(br[bi].value - 48)
        bi += 1
      }
      if an != bn { return an < bn }
      if ai != bi { return ai < bi }
      return ar[i].value < br[i].value
    }
    return ar.count < br.count
  }

  /// The object as a kops YAML document (`creationTimestamp` always present, quoted).
  static func yaml(_ node: YAMLNode) -> String {
    var n = canonical(node)
    if n[path: "metadata", "creationTimestamp"] == nil {
      n.set(path: ["metadata", "creationTimestamp"], .null)
      n = canonical(n)
    }
    var text = YAMLEmitter.emit(n)
    if let ts = n[path: "metadata", "creationTimestamp"]?.text {
      text = text.replacingOccurrences(of: "\n  creationTimestamp: \(ts)\n", with: "\n  creationTimestamp: \"\(ts)\"\n")
    }
    return text
  }

  /// Several objects as `kops get -o yaml` prints them (`\n---\n\n` between documents).
  static func yaml(documents: [YAMLNode]) -> String {
    documents.map { yaml($0) }.joined(separator: "\n---\n\n")
  }

  /// The object as the Kubernetes JSON encoder writes it: `kind`, `apiVersion`, `metadata`, …,
  /// one line ending in a newline.
  static func json(_ node: YAMLNode) -> String {
    jsonValue(node).serialized() + "\n"
  }

  static func jsonValue(_ node: YAMLNode) -> JSONValue {
    var n = canonical(node)
    if n[path: "metadata", "creationTimestamp"] == nil { n.set(path: ["metadata", "creationTimestamp"], .null) }
    guard let pairs = n.pairs else { return n.json }
    func rank(_ key: String, _ order: [String]) -> Int { order.firstIndex(of: key) ?? order.count }
    let top = ["kind", "apiVersion", "metadata", "spec"]
    let meta = ["name", "generation", "creationTimestamp", "labels", "annotations"]
    var members: [JSONValue.Member] = []
    for p in pairs.enumerated().sorted(by: { (rank($0.element.key, top), $0.offset) < (rank($1.element.key, top), $1.offset) })
      .map(\.element)
    {
      if p.key == "metadata", let mp = p.value.pairs {
        let sorted = mp.enumerated().sorted { (rank($0.element.key, meta), $0.offset) < (rank($1.element.key, meta), $1.offset) }
        members.append(.init("metadata", .object(sorted.map { .init($0.element.key, $0.element.value.json) })))
      } else {
        members.append(.init(p.key, p.value.json))
      }
    }
    return .object(members)
  }
}
