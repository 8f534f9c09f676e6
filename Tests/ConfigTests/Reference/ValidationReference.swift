// The validation walks as they were before the compiled schema and the fused walk (hk main at
// be5ec99), kept as the reference of the differential tests (ValidationReferenceTests).
// Only renamed: ReferenceTypeRules → ReferenceTypeRules, ReferenceSchemaRules → ReferenceSchemaRules,
// ReferenceFieldTree → ReferenceFieldTree.

import Model
import Synchronization

@testable import Config

/// YAML-level rules on the Cluster and InstanceGroup documents: YAML 1.1 booleans
/// (`yaml11-bool`), wrong types on the fields hk reads (`field-type`) and a missing spec
/// (`spec-missing`).
enum ReferenceTypeRules {
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
    booleans(&ctx, ctx.cluster, path: "")
    for ig in ctx.env.instanceGroups {
      let name = InstanceGroupView(ig).name ?? "?"
      booleans(&ctx, ig, path: "instancegroup[\(name)]")
    }

    let cluster = ctx.cluster
    checkFields(&ctx, cluster, clusterFields, tree: ReferenceFieldTree.cluster, prefix: "")
    if ValidationContext.present(cluster, "spec") == nil {
      ctx.error(
        "spec-missing", "the Cluster has no spec; add spec with at least cloudProvider, kubernetesVersion, networking and subnets",
        at: cluster.pair("spec")?.keyMark ?? cluster.mark)
    }
    for (i, subnet) in (ctx.spec?["subnets"]?.items ?? []).enumerated() where subnet.isMapping {
      // the path is made only for a message
      for key in subnetFields {
        if let v = subnet[key] {
          checkType(&ctx, v, Field([key], .string), path: { FieldPath.key(ValidationContext.subnetPath(i, subnet), key) })
        }
      }
    }
    for ig in ctx.env.instanceGroups {
      let name = InstanceGroupView(ig).name ?? "?"
      let prefix = "instancegroup \(name): "
      checkFields(&ctx, ig, instanceGroupFields, tree: ReferenceFieldTree.instanceGroup, prefix: prefix)
      if ValidationContext.present(ig, "spec") == nil {
        ctx.error(
          "spec-missing", "\(prefix)no spec; add spec with role, machineType, minSize, maxSize and subnets",
          at: ig.pair("spec")?.keyMark ?? ig.mark)
      }
    }
  }

  // MARK: YAML 1.1 booleans

  static func isYAML11Boolean(_ node: YAMLNode) -> Bool {
    guard case .scalar(let s) = node.content, s.style == .plain, s.tag == nil else { return false }
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

  /// `yaml11-bool`: every plain `yes/no/on/off/y/n` value in the document.
  static func booleans(_ ctx: inout ValidationContext, _ node: YAMLNode, path: String) {
    booleans(&ctx, node, path: path, document: ctx.remembersSharedSubtrees ? node.mark.fileID : nil)
  }

  /// `document`: the file of the document (its base subtrees are remembered), nil for no memo.
  static func booleans(_ ctx: inout ValidationContext, _ node: YAMLNode, path: String, document: FileID?) {
    switch node.content {
    case .scalar(let s):
      guard isYAML11Boolean(node) else { return }
      let name = path.isEmpty ? "the document" : path
      ctx.error(
        "yaml11-bool",
        "\(name): plain '\(s.text)' is read as a boolean by kops's YAML 1.1 reader; write true or false, "
          + "or quote it (\"\(s.text)\") if a string is meant",
        at: node.mark)
    case .mapping(let pairs):
      for p in pairs where hasYAML11Boolean(p.value, document: document) {
        booleans(&ctx, p.value, path: FieldPath.key(path, p.key), document: document)
      }
    case .sequence(let items):
      for (i, item) in items.enumerated() where hasYAML11Boolean(item, document: document) {
        booleans(&ctx, item, path: FieldPath.index(path, i), document: document)
      }
    }
  }

  // MARK: Field types

  /// `tree`: the tree of `fields`' paths (``ReferenceFieldTree/cluster``, ``ReferenceFieldTree/instanceGroup``).
  static func checkFields(_ ctx: inout ValidationContext, _ doc: YAMLNode, _ fields: [Field], tree: ReferenceFieldTree, prefix: String) {
    let found = tree.lookup(doc, count: fields.count)
    for (field, node) in zip(fields, found) {
      guard let node else { continue }
      checkType(&ctx, node, field, path: { prefix + field.path.joined(separator: ".") })
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

/// kops's own schema, per release (``KopsSchema``): `unknown-field` for every key kops's
/// v1alpha2 types do not define at the environment's `kopsVersion` (kops decodes without strict
/// field checking and drops such a key silently), with a did-you-mean and the releases that do
/// have it; `field-type` for a value kops cannot decode into the field's Go type.
enum ReferenceSchemaRules {
  /// One step of the path to a node, kept on a stack so a path string is built only for a message.
  enum Step {
    case key(String)
    case index(Int)
  }

  struct Walker {
    let schema: KopsSchema
    let release: Int
    let version: KopsVersion
    let prefix: String
    /// Where `field-type` was already reported by ``ReferenceTypeRules`` (one finding per node).
    let reported: Set<String>
    /// The file of the document walked (subtrees of other files are a base's: see ``memo``).
    var document: FileID = .none
    /// Where clean base subtrees are remembered (nil: every subtree is walked).
    var memo: SharedSubtreeMemo<MemoCondition>? = nil
    var steps: [Step] = []
    var found: [(rule: String, message: String, mark: Mark)] = []
    /// Calls of ``unknown(_:in:)`` and ``mismatch(_:_:)`` so far, reported or not: a subtree
    /// walked without one is clean whatever the walk's state (limits, `reported`) was.
    var events = 0

    var path: String {
      var s = ""
      for step in steps {
        switch step {
        case .key(let k): s = FieldPath.key(s, k)
        case .index(let i): s = FieldPath.index(s, i)
        }
      }
      return prefix + s
    }

    mutating func walk(_ node: YAMLNode, _ type: KopsSchema.ValueType) {
      if node.isNull || ReferenceTypeRules.isYAML11Boolean(node) { return }
      switch type {
      case .any:
        return
      case .object, .list, .map:
        // A base's subtree, found clean in an earlier environment at this release: skipped.
        guard let memo, SharedSubtreeMemo<MemoCondition>.isShared(node, document: document) else {
          return walkCollection(node, type)
        }
        let condition = MemoCondition(type: type, release: release)
        if memo.isClean(node, condition) { return }
        let before = events
        walkCollection(node, type)
        if events == before { memo.markClean(node, condition) }
      default:
        walkCollection(node, type)
      }
    }

    /// ``walk(_:_:)`` past the null, YAML 1.1 boolean and memo checks.
    mutating func walkCollection(_ node: YAMLNode, _ type: KopsSchema.ValueType) {
      switch type {
      case .any:
        return
      case .object(let name):
        guard let pairs = node.pairs else { return mismatch(node, type) }
        let fields = schema.fields(of: name)
        for p in pairs {
          steps.append(.key(p.key))
          if let fieldType = KopsSchema.type(of: fields?[p.key], release: release) {
            walk(p.value, fieldType)
          } else {
            unknown(p, in: name)
          }
          steps.removeLast()
        }
      case .list(let item):
        guard let items = node.items else { return mismatch(node, type) }
        for (i, element) in items.enumerated() {
          steps.append(.index(i))
          walk(element, item)
          steps.removeLast()
        }
      case .map(let value):
        guard let pairs = node.pairs else { return mismatch(node, type) }
        for p in pairs {
          steps.append(.key(p.key))
          walk(p.value, value)
          steps.removeLast()
        }
      case .string, .duration, .time:
        if node.stringValue == nil { mismatch(node, type) }
      case .int:
        if node.intValue == nil { mismatch(node, type) }
      case .float:
        guard let v = node.scalarValue else { return mismatch(node, type) }
        switch v {
        case .int, .float: return
        default: mismatch(node, type)
        }
      case .bool:
        if node.boolValue == nil { mismatch(node, type) }
      case .quantity, .intOrString:
        guard let v = node.scalarValue else { return mismatch(node, type) }
        switch v {
        case .string, .int: return
        case .float where type == .quantity: return
        default: mismatch(node, type)
        }
      }
    }

    /// Unknown fields past ``reportLimit`` in one document: counted, reported as one line (a
    /// hostile file with 60 000 keys must not cost 60 000 suggestions).
    var unreported = 0
    var firstUnreported: Mark?
    static let reportLimit = 50

    mutating func unknown(_ pair: YAMLPair, in type: String) {
      events += 1
      if found.count >= Self.reportLimit {
        unreported += 1
        if firstUnreported == nil { firstUnreported = pair.keyMark }
        return
      }
      var message = "\(path): kops \(version) has no field '\(pair.key)' here (\(type)); kops would drop it silently"
      let elsewhere = schema.otherReleases(of: pair.key, in: type)
      if let hint = schema.suggestion(for: pair.key, in: type, release: release) {
        message += "; did you mean '\(hint)'?"
      } else if elsewhere == nil {
        message += "; remove it"
      }
      if let elsewhere {
        message += " ('\(pair.key)' exists in kops \(elsewhere): set kopsVersion to such a release or remove it)"
      }
      found.append(("unknown-field", message, pair.keyMark))
    }

    mutating func flushUnreported() {
      guard unreported > 0, let mark = firstUnreported else { return }
      found.append(
        (
          "unknown-field", "\(prefix)\(unreported) more fields kops \(version) does not define, from here on; fix the ones above first",
          mark
        ))
      unreported = 0
    }

    mutating func mismatch(_ node: YAMLNode, _ type: KopsSchema.ValueType) {
      events += 1
      if found.count >= Self.reportLimit * 2 { return }
      if !reported.isEmpty, reported.contains(node.mark.description) { return }
      var hint = ""
      if let s = node.scalar {
        switch type {
        case .string, .duration, .time, .intOrString: hint = "; quote it: \"\(s.text)\""
        case .int where node.stringValue.map({ YAMLScalar.resolvePlain($0).isInt }) == true: hint = "; write it without quotes"
        case .bool where node.stringValue == "true" || node.stringValue == "false": hint = "; write it without quotes"
        case .list: hint = "; write it as a list of - items"
        default: break
        }
      } else if case .object = type {
        hint = "; write it as key: value pairs"
      } else if case .map = type {
        hint = "; write it as key: value pairs"
      }
      found.append(
        (
          "field-type", "\(path) must be \(type.phrase), found \(ReferenceTypeRules.describe(node)) (kops cannot decode it)\(hint)",
          node.mark
        ))
    }
  }

  /// What a subtree was walked as: the same storage is clean only for the same type and release.
  struct MemoCondition: Hashable, Sendable {
    var type: KopsSchema.ValueType
    var release: Int
  }

  /// Base subtrees the walk found clean (kept for the run).
  static let memo = SharedSubtreeMemo<MemoCondition>()

  static func check(_ ctx: inout ValidationContext) {
    let schema = KopsSchema.shared
    guard schema.hasType("Cluster") else { return }
    let release = schema.releaseIndex(for: ctx.version)
    let reported = Set(
      ctx.diagnostics.lazy.filter { $0.rule == "field-type" }.compactMap { d in d.location.map { "\($0.file):\($0.line):\($0.column)" } })
    var walker = Walker(schema: schema, release: release, version: ctx.version, prefix: "", reported: reported)
    walker.document = ctx.cluster.mark.fileID
    walker.memo = ctx.remembersSharedSubtrees ? memo : nil
    walker.walk(ctx.cluster, .object("Cluster"))
    walker.flushUnreported()
    for ig in ctx.env.instanceGroups {
      var w = Walker(
        schema: schema, release: release, version: ctx.version, prefix: "instancegroup \(InstanceGroupView(ig).name ?? "?"): ",
        reported: reported)
      w.document = ig.mark.fileID
      w.memo = walker.memo
      w.walk(ig, .object("InstanceGroup"))
      w.flushUnreported()
      walker.found += w.found
    }
    for f in walker.found {
      ctx.error(f.rule, f.message, at: f.mark)
    }
  }
}

/// The paths of a list of ``ReferenceTypeRules/Field``s as a tree of keys, so one pass over a document's
/// mappings finds every field's node (a dictionary lookup per key written) instead of one
/// search from the root per field.
final class ReferenceFieldTree: Sendable {
  /// The subtrees by key.
  let children: [String: ReferenceFieldTree]
  /// The index of the field whose path ends here, if one does.
  let field: Int?

  private init(children: [String: ReferenceFieldTree], field: Int?) {
    self.children = children
    self.field = field
  }

  /// The tree of `paths` (`paths[i]` is field i's; the first field of a path wins).
  convenience init(paths: [[String]]) {
    self.init(paths: paths.enumerated().map { ($0.offset, $0.element[...]) })
  }

  private convenience init(paths: [(Int, ArraySlice<String>)]) {
    var field: Int? = nil
    var groups: [String: [(Int, ArraySlice<String>)]] = [:]
    for (i, path) in paths {
      guard let first = path.first else {
        if field == nil { field = i }
        continue
      }
      groups[first, default: []].append((i, path.dropFirst()))
    }
    self.init(children: groups.mapValues { ReferenceFieldTree(paths: $0) }, field: field)
  }

  /// The node of each field in `doc` (nil where a key is missing or a parent on the way is no
  /// mapping): what ``ReferenceTypeRules/lookup(_:_:)`` gives for each path, where a key's first pair
  /// counts when a mapping repeats it.
  func lookup(_ doc: YAMLNode, count: Int) -> [YAMLNode?] {
    var found = [YAMLNode?](repeating: nil, count: count)
    visit(doc, into: &found)
    return found
  }

  private func visit(_ node: YAMLNode, into found: inout [YAMLNode?]) {
    if let field { found[field] = node }
    guard !children.isEmpty, case .mapping(let pairs) = node.content else { return }
    var used: [ObjectIdentifier] = []
    for p in pairs {
      guard let child = children[p.key] else { continue }
      let id = ObjectIdentifier(child)
      if used.contains(id) { continue }
      used.append(id)
      child.visit(p.value, into: &found)
    }
  }

  static let cluster = ReferenceFieldTree(paths: ReferenceTypeRules.clusterFields.map(\.path))
  static let instanceGroup = ReferenceFieldTree(paths: ReferenceTypeRules.instanceGroupFields.map(\.path))
}

/// ``Validator/validate(_:)`` as it was: the reference rules above, then the others (unchanged)
/// in the same order, every base subtree walked.
enum ReferenceValidator {
  static func validate(_ env: Environment) -> [Diagnostic] {
    var ctx = ValidationContext(env: env)
    ctx.remembersSharedSubtrees = false
    ReferenceTypeRules.check(&ctx)
    ReferenceSchemaRules.check(&ctx)
    NameRules.check(&ctx)
    ClusterRules.check(&ctx)
    InstanceGroupRules.check(&ctx)
    HybridRules.check(&ctx)
    IdentityRules.check(&ctx)
    LateRules.check(&ctx)
    WarningRules.check(&ctx)
    return ctx.sorted()
  }
}

/// The name, zone and exclude-list checks as they were (hk main at be5ec99), before their byte fast paths.
enum ReferenceNameChecks {
  static func dns1123SubdomainProblem(_ name: String) -> String? {
    let bytes = Array(name.utf8)
    if bytes.isEmpty { return "is empty" }
    if bytes.count > 253 { return "is longer than 253 characters" }
    func isAlnum(_ c: UInt8) -> Bool { (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) }
    if !bytes.allSatisfy({ isAlnum($0) || $0 == 0x2D || $0 == 0x2E }) {
      return "has characters other than lower-case letters, digits, '-' and '.'"
    }
    for label in bytes.split(separator: 0x2E, omittingEmptySubsequences: false) {
      guard let first = label.first, let last = label.last else { return "has an empty label (two dots, or a dot at an end)" }
      if !isAlnum(first) || !isAlnum(last) { return "has a label that starts or ends with '-'" }
    }
    return nil
  }

  static let stateStoreSchemes = ["s3://", "gs://", "azureblob://", "do://", "swift://", "scw://", "memfs://", "file://"]

  static func isStateStore(_ s: String) -> Bool {
    guard let scheme = stateStoreSchemes.first(where: { s.hasPrefix($0) }) else { return false }
    let rest = s.utf8.dropFirst(scheme.utf8.count)
    guard let first = rest.first, first != UInt8(ascii: "-"), rest.count <= 1024 else { return false }
    return rest.allSatisfy { c in
      (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || (c >= 0x30 && c <= 0x39) || "-._~/%+=,:".utf8.contains(c)
    }
  }

  /// `xx-name-N` with optional extra words (`us-gov-west-1`, `cn-north-1`, `us-iso-east-1`).
  static func isRegion(_ s: String) -> Bool {
    let parts = s.split(separator: "-", omittingEmptySubsequences: false)
    guard parts.count >= 3, s.utf8.count <= 32, let last = parts.last, last.allSatisfy(\.isASCII),
      last.allSatisfy({ $0 >= "0" && $0 <= "9" }), !last.isEmpty
    else { return false }
    return parts.dropLast().allSatisfy { p in !p.isEmpty && p.utf8.allSatisfy { $0 >= 0x61 && $0 <= 0x7A } }
  }

  static func isAWSID(_ s: String, prefix: String) -> Bool {
    guard s.hasPrefix(prefix) else { return false }
    let body = s.utf8.dropFirst(prefix.utf8.count)
    guard (1...32).contains(body.count) else { return false }
    return body.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x41 && $0 <= 0x5A) }
  }

  /// `egressProxyExcludes`'s question: does the exclude list cover S3?
  static func coversS3(_ excludes: String, region regionText: String) -> Bool {
    let entries = excludes.split(separator: ",").map { String($0).trimmingSpaces() }.filter { !$0.isEmpty }.map { $0.lowercased() }
    let region = regionText.lowercased()
    let s3 = "s3.\(region).amazonaws.com"
    return entries.contains { e in
      let bare = e.hasPrefix(".") ? String(e.dropFirst()) : e
      return bare == s3 || bare == "s3.amazonaws.com" || bare == "amazonaws.com" || bare == "\(region).amazonaws.com"
    }
  }

  /// `dnsZone`'s question: is the cluster within the zone (no finding)?
  static func withinZone(_ clusterName: String, zone zoneText: String) -> Bool {
    var zone = zoneText
    guard !zone.isEmpty else { return true }
    while zone.hasSuffix(".") { zone.removeLast() }
    guard zone.contains(".") else { return true }
    let cluster = clusterName.lowercased()
    zone = zone.lowercased()
    return cluster == zone || cluster.hasSuffix("." + zone)
  }
}

/// ``KopsSchema``'s reading of its generated text as it was (on `Substring`s), before the byte parser.
enum ReferenceKopsSchemaParse {
  static func types(_ text: String) -> [String: [String: [KopsSchema.Variant]]] {
    var types: [String: [String: [KopsSchema.Variant]]] = [:]
    var current = ""
    var fields: [String: [KopsSchema.Variant]] = [:]
    for line in text.split(separator: "\n") {
      var parts = line.split(separator: " ")[...]
      if parts.count % 3 == 2, parts.first == "T" {
        if !current.isEmpty { types[current] = fields }
        current = String(parts[parts.startIndex + 1])
        fields = [:]
        parts = parts.dropFirst(2)
      }
      while parts.count >= 3 {
        let name = parts[parts.startIndex]
        let code = parts[parts.startIndex + 1]
        let releases = parts[parts.startIndex + 2]
        parts = parts.dropFirst(3)
        let omitted = code.first == "~"
        guard let type = KopsSchema.ValueType(code: omitted ? code.dropFirst() : code) else { continue }
        let ranges: [ClosedRange<Int>] = releases.split(separator: ",").compactMap { r in
          let ends = r.split(separator: "-")
          guard let lo = ends.first.flatMap({ Int($0) }), let hi = ends.last.flatMap({ Int($0) }), lo <= hi else { return nil }
          return lo...hi
        }
        fields[String(name), default: []].append(KopsSchema.Variant(type: type, omittedWhenZero: omitted, ranges: ranges))
      }
    }
    if !current.isEmpty { types[current] = fields }
    return types
  }
}
