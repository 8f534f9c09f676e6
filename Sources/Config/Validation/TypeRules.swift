import Model

/// YAML-level rules on the Cluster and InstanceGroup documents: YAML 1.1 booleans
/// (`yaml11-bool`), wrong types on the fields hk reads (`field-type`) and a missing spec
/// (`spec-missing`).
enum TypeRules {
  /// What a field must hold. `null` always passes: kops reads it as absent.
  enum FieldType {
    case string, int, bool, mapping, list
    /// A list of strings.
    case stringList
    /// A list of mappings.
    case mappingList
    /// A mapping whose values are strings (labels, additionalPolicies).
    case stringMap
    /// A mapping whose values are mappings or null (networking options).
    case optionMap
    /// A string, or a one-key mapping (`cloudProvider: {aws: {}}`).
    case stringOrMapping
    /// A port: an integer or a numeric string, 1…65535.
    case port
  }

  struct Field {
    var path: [String]
    var type: FieldType
    var hint: String?
    init(_ path: [String], _ type: FieldType, hint: String? = nil) {
      self.path = path
      self.type = type
      self.hint = hint
    }
  }

  static let clusterFields: [Field] = [
    Field(["metadata"], .mapping),
    Field(["metadata", "name"], .string),
    Field(["spec"], .mapping),
    Field(["spec", "cloudProvider"], .stringOrMapping),
    Field(["spec", "kubernetesVersion"], .string),
    Field(["spec", "configBase"], .string),
    Field(["spec", "channel"], .string),
    Field(["spec", "networkID"], .string),
    Field(["spec", "networkCIDR"], .string),
    Field(["spec", "additionalNetworkCIDRs"], .stringList),
    Field(["spec", "nonMasqueradeCIDR"], .string),
    Field(["spec", "dnsZone"], .string),
    Field(["spec", "masterPublicName"], .string),
    Field(["spec", "containerRuntime"], .string),
    Field(["spec", "subnets"], .mappingList),
    Field(["spec", "topology"], .mapping),
    Field(["spec", "topology", "masters"], .string),
    Field(["spec", "topology", "nodes"], .string),
    Field(["spec", "topology", "dns"], .mapping),
    Field(["spec", "topology", "dns", "type"], .string),
    Field(["spec", "api"], .mapping),
    Field(["spec", "api", "loadBalancer"], .mapping),
    Field(["spec", "api", "loadBalancer", "type"], .string),
    Field(["spec", "api", "loadBalancer", "class"], .string),
    Field(["spec", "networking"], .optionMap),
    Field(["spec", "egressProxy"], .mapping),
    Field(["spec", "egressProxy", "httpProxy"], .mapping),
    Field(["spec", "egressProxy", "httpProxy", "host"], .string),
    Field(["spec", "egressProxy", "httpProxy", "port"], .port),
    Field(["spec", "egressProxy", "excludes"], .string, hint: "write one comma-separated string, e.g. \"corp.local,10.0.0.0/16\""),
    Field(["spec", "additionalPolicies"], .stringMap, hint: "write each policy as a JSON string (a literal block `|` keeps it readable)"),
    Field(["spec", "iam"], .mapping),
    Field(["spec", "iam", "allowContainerRegistry"], .bool),
    Field(["spec", "iam", "legacy"], .bool),
    Field(["spec", "docker"], .mapping),
    Field(["spec", "docker", "logDriver"], .string),
    Field(["spec", "docker", "logOpt"], .stringList, hint: "write a list of key=value strings, e.g. - max-size=10m"),
    Field(["spec", "kubelet"], .mapping),
    Field(["spec", "kubelet", "containerLogMaxSize"], .string),
    Field(["spec", "kubelet", "containerLogMaxFiles"], .int),
    Field(["spec", "externalDns"], .mapping),
    Field(["spec", "externalDns", "watchIngress"], .bool),
    Field(["spec", "etcdClusters"], .mappingList),
  ]

  static let subnetFields = ["name", "zone", "cidr", "id", "type", "egress"]

  static let instanceGroupFields: [Field] = [
    Field(["metadata"], .mapping),
    Field(["metadata", "name"], .string),
    Field(["metadata", "labels"], .stringMap, hint: "quote label values that look like numbers or booleans"),
    Field(["spec"], .mapping),
    Field(["spec", "role"], .string),
    Field(["spec", "machineType"], .string),
    Field(["spec", "image"], .string),
    Field(["spec", "minSize"], .int),
    Field(["spec", "maxSize"], .int),
    Field(["spec", "rootVolumeSize"], .int),
    Field(["spec", "subnets"], .stringList, hint: "list subnet names from the Cluster's spec.subnets, e.g. - private-a"),
  ]

  /// YAML 1.1 reads these plain scalars as booleans (go-yaml v2 in kops); YAML 1.2 and hk do not.
  static let yaml11Booleans: Set<String> = ["y", "n", "yes", "no", "on", "off"]

  static func check(_ ctx: inout ValidationContext) {
    // The YAML 1.1 booleans come first, but are found by the schema's walk (one pass over each
    // document for both), which needs the `field-type`s found here: they go in front after it.
    let start = ctx.diagnostics.count
    let cluster = ctx.cluster
    checkFields(&ctx, cluster, clusterFields, tree: FieldTree.cluster, prefix: { "" })
    if ValidationContext.present(cluster, "spec") == nil {
      ctx.error(
        "spec-missing", "the Cluster has no spec; add spec with at least cloudProvider, kubernetesVersion, networking and subnets",
        at: cluster.pair("spec")?.keyMark ?? cluster.mark)
    }
    for (i, subnet) in (ctx.spec?["subnets"]?.items ?? []).enumerated() where subnet.isMapping {
      // Each field's first pair, found in one pass over the subnet's keys, then checked in
      // the order of subnetFields (the path is made only for a message).
      guard let pairs = subnet.pairs else { continue }
      var first = SIMD8<Int32>(repeating: -1)
      for j in pairs.indices {
        if let k = subnetFieldTable.value(pairs[j].key), first[Int(k)] < 0 { first[Int(k)] = Int32(j) }
      }
      for (k, key) in subnetFields.enumerated() where first[k] >= 0 {
        checkType(
          &ctx, pairs[Int(first[k])].value, Field([key], .string), path: { FieldPath.key(ValidationContext.subnetPath(i, subnet), key) })
      }
    }
    for ig in ctx.env.instanceGroups {
      let name = InstanceGroupView(ig).name ?? "?"
      // the prefix is made only for a message
      checkFields(&ctx, ig, instanceGroupFields, tree: FieldTree.instanceGroup, prefix: { "instancegroup \(name): " })
      if ValidationContext.present(ig, "spec") == nil {
        ctx.error(
          "spec-missing", "instancegroup \(name): no spec; add spec with role, machineType, minSize, maxSize and subnets",
          at: ig.pair("spec")?.keyMark ?? ig.mark)
      }
    }

    let reported = Set(
      ctx.diagnostics[start...].lazy.filter { $0.rule == "field-type" }.compactMap { d in
        d.location.map { "\($0.file):\($0.line):\($0.column)" }
      })
    let findings = SchemaRules.walk(ctx, reported: reported)
    ctx.insertErrors("yaml11-bool", findings.booleans, at: start)
    ctx.schemaFindings = findings.schema
  }

  /// ``subnetFields`` by name.
  static let subnetFieldTable = KeyTable(keys: subnetFields)

  // MARK: YAML 1.1 booleans

  static func isYAML11Boolean(_ node: YAMLNode) -> Bool {
    guard case .scalar(let s) = node.content else { return false }
    return isYAML11Boolean(s)
  }

  @inline(__always)
  static func isYAML11Boolean(_ s: YAMLScalar) -> Bool {
    guard s.style == .plain, s.tag == nil else { return false }
    // y, n, no, on, yes, off in any case: at most three ASCII letters, checked without allocating.
    var folded: UInt32 = 0
    var count = 0
    for b in s.text.utf8 {
      count += 1
      guard count <= 3, (b | 0x20) >= 0x61, (b | 0x20) <= 0x7A else { return false }
      folded = folded << 8 | UInt32(b | 0x20)
    }
    // yaml11BooleanCodes, compared directly (no hashing)
    switch folded {
    case 0x79, 0x6E, 0x796573, 0x6E6F, 0x6F6E, 0x6F6666: return true
    default: return false
    }
  }

  /// ``yaml11Booleans`` packed as big-endian ASCII (`"yes"` → 0x796573).
  static let yaml11BooleanCodes: Set<UInt32> = Set(
    yaml11Booleans.map { $0.utf8.reduce(UInt32(0)) { $0 << 8 | UInt32($1) } })

  /// Whether any scalar in the tree is a YAML 1.1 boolean (the walk that names them builds
  /// a path per node, so it runs only where one is).
  static func hasYAML11Boolean(_ node: YAMLNode) -> Bool {
    switch node.content {
    case .scalar: return isYAML11Boolean(node)
    case .mapping(let pairs): return pairs.contains { hasYAML11Boolean($0.value) }
    case .sequence(let items): return items.contains { hasYAML11Boolean($0) }
    }
  }

  /// Base subtrees known to hold no YAML 1.1 boolean (kept for the run).
  static let booleanMemo = SharedSubtreeMemo<Bool>()

  /// ``hasYAML11Boolean(_:)`` for a node of a document of file `document`: the subtrees of a
  /// shared file (a base) found free of them are remembered and not scanned again.
  static func hasYAML11Boolean(_ node: YAMLNode, document: FileID?) -> Bool {
    guard let document else { return hasYAML11Boolean(node) }
    switch node.content {
    case .scalar: return isYAML11Boolean(node)
    case .mapping, .sequence:
      guard SharedSubtreeMemo<Bool>.isShared(node, document: document) else { break }
      if booleanMemo.isClean(node, true) { return false }
      let found = hasYAML11Boolean(node)
      if !found { booleanMemo.markClean(node, true) }
      return found
    }
    switch node.content {
    case .scalar: return false
    case .mapping(let pairs): return pairs.contains { hasYAML11Boolean($0.value, document: document) }
    case .sequence(let items): return items.contains { hasYAML11Boolean($0, document: document) }
    }
  }

  // MARK: Field types

  /// `tree`: the tree of `fields`' paths (``FieldTree/cluster``, ``FieldTree/instanceGroup``).
  static func checkFields(_ ctx: inout ValidationContext, _ doc: YAMLNode, _ fields: [Field], tree: FieldTree, prefix: () -> String) {
    let found = tree.lookup(doc, count: fields.count)
    for (field, node) in zip(fields, found) {
      guard let node else { continue }
      checkType(&ctx, node, field, path: { prefix() + field.path.joined(separator: ".") })
    }
  }

  /// The node at `path` when every parent on the way is a mapping.
  static func lookup(_ doc: YAMLNode, _ path: [String]) -> YAMLNode? {
    var node = doc
    for key in path {
      guard let next = node[key] else { return nil }
      node = next
    }
    return node
  }

  static func describe(_ node: YAMLNode) -> String {
    switch node.content {
    case .mapping: return "a mapping"
    case .sequence: return "a list"
    case .scalar(let s):
      switch s.value {
      case .null: return "null"
      case .bool: return "a boolean (\(s.text))"
      case .int, .float: return "a number (\(s.text))"
      case .string(let t): return "a string ('\(t)')"
      }
    }
  }

  /// `path` is built only for a message: almost every field is well typed.
  static func checkType(_ ctx: inout ValidationContext, _ node: YAMLNode, _ field: Field, path: () -> String) {
    if node.isNull || isYAML11Boolean(node) { return }
    func fail(_ expected: String, _ hint: String) {
      ctx.error("field-type", "\(path()) must be \(expected), found \(describe(node)); \(field.hint ?? hint)", at: node.mark)
    }
    switch field.type {
    case .string:
      guard node.stringValue == nil else { return }
      if let s = node.scalar {
        fail("a string", "quote it: \"\(s.text)\"")
      } else {
        fail("a string", "write a single value")
      }
    case .int:
      guard node.intValue == nil else { return }
      if let s = node.stringValue, YAMLScalar.resolvePlain(s).isInt {
        fail("an integer", "write it without quotes")
      } else {
        fail("an integer", "write a whole number")
      }
    case .bool:
      if node.boolValue == nil { fail("a boolean", "write true or false") }
    case .mapping:
      if !node.isMapping { fail("a mapping", "write it as key: value pairs") }
    case .list:
      if node.items == nil { fail("a list", "write it as a list of - items") }
    case .stringList:
      guard let items = node.items else {
        fail("a list of strings", "write it as a list of - items")
        return
      }
      for (i, item) in items.enumerated() {
        checkType(&ctx, item, Field(field.path, .string, hint: field.hint), path: { FieldPath.index(path(), i) })
      }
    case .mappingList:
      guard let items = node.items else {
        fail("a list", "write it as a list of - items, one mapping each")
        return
      }
      for (i, item) in items.enumerated() where !item.isMapping && !item.isNull {
        ctx.error(
          "field-type", "\(FieldPath.index(path(), i)) must be a mapping, found \(describe(item)); write key: value pairs under the -",
          at: item.mark)
      }
    case .stringMap:
      guard let pairs = node.pairs else {
        fail("a mapping", "write it as key: value pairs")
        return
      }
      for p in pairs {
        checkType(&ctx, p.value, Field(field.path, .string, hint: field.hint), path: { FieldPath.key(path(), p.key) })
      }
    case .optionMap:
      guard let pairs = node.pairs else {
        fail("a mapping", "write the one networking option as a key, e.g. cilium: {}")
        return
      }
      for p in pairs where !p.value.isMapping && !p.value.isNull {
        ctx.error(
          "field-type",
          "\(FieldPath.key(path(), p.key)) must be a mapping, found \(describe(p.value)); write \(p.key): {} for the defaults",
          at: p.value.mark)
      }
    case .stringOrMapping:
      if node.stringValue == nil && !node.isMapping { fail("a string", "write e.g. aws") }
    case .port:
      let number: Int64?
      if let i = node.intValue {
        number = i
      } else if let s = node.stringValue, !s.isEmpty, s.utf8.count <= 5, s.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) {
        number = Int64(s)
      } else {
        number = nil
      }
      guard let number else {
        fail("a port number", "write e.g. 3128")
        return
      }
      if !(1...65535).contains(number) {
        ctx.error("field-type", "\(path()) \(number) is not a port number; use 1 to 65535", at: node.mark)
      }
    }
  }
}

extension ScalarValue {
  var isInt: Bool {
    if case .int = self { return true }
    return false
  }
}
