import Model
import Synchronization

/// kops's own schema, per release (``KopsSchema``): `unknown-field` for every key kops's
/// v1alpha2 types do not define at the environment's `kopsVersion` (kops decodes without strict
/// field checking and drops such a key silently), with a did-you-mean and the releases that do
/// have it; `field-type` for a value kops cannot decode into the field's Go type.
///
/// The walk over each document also finds its YAML 1.1 booleans for ``TypeRules`` (`yaml11-bool`):
/// both visit every node, so they share one pass (``walk(_:)``), made where ``TypeRules`` reports
/// them; this check only reports the schema's findings kept from it.
enum SchemaRules {
  struct Walker {
    let schema: KopsSchema
    /// Not retained by the walk: ``SchemaRules/walk(_:reported:)`` holds it for as long as its
    /// walkers live (and the compiled schemas stay in ``SchemaRules``'s table for the process).
    /// Both worker threads read it, and a retain per node walked was an atomic write to the same
    /// cache line from both cores.
    unowned(unsafe) let compiled: CompiledSchema
    let version: KopsVersion
    /// The document walked: a message's path is followed from it along ``steps``.
    let root: YAMLNode
    /// The instance group's name when the document is one (its messages name it).
    let instanceGroup: String?
    /// Where `field-type` was already reported by ``TypeRules`` (one finding per node).
    let reported: Set<String>
    /// The file of the document walked (subtrees of other files are a base's: see ``memo``).
    let document: FileID
    /// Where clean base subtrees are remembered (nil: every subtree is walked).
    let memo: SharedSubtreeMemo<MemoCondition>?
    /// The document's file for ``TypeRules/hasYAML11Boolean(_:document:)`` (nil: no memo).
    let booleanDocument: FileID?
    /// The path to the node being walked: pair or item indices from ``root``, so a path string
    /// is built only for a message.
    var steps: [Int] = []
    var found: [(rule: String, message: String, mark: Mark)] = []
    /// `yaml11-bool` findings, in document order.
    var booleans: [(message: String, mark: Mark)] = []
    /// Findings so far, reported or not (unknown fields, mismatches, YAML 1.1 booleans): a
    /// subtree walked without one is clean whatever the walk's state (limits, `reported`) was.
    var events = 0

    init(
      schema: KopsSchema, compiled: CompiledSchema, version: KopsVersion, root: YAMLNode, instanceGroup: String?,
      reported: Set<String>, memo: SharedSubtreeMemo<MemoCondition>?
    ) {
      self.schema = schema
      self.compiled = compiled
      self.version = version
      self.root = root
      self.instanceGroup = instanceGroup
      self.reported = reported
      self.document = root.mark.fileID
      self.memo = memo
      self.booleanDocument = memo == nil ? nil : root.mark.fileID
    }

    /// What starts the schema's messages about this document.
    var prefix: String { instanceGroup.map { "instancegroup \($0): " } ?? "" }

    /// The path of ``steps`` from ``root``, appended to `base` (as ``FieldPath`` writes it).
    func path(from base: String) -> String {
      var s = base
      var node = root
      for i in steps {
        switch node.content {
        case .mapping(let pairs):
          s = FieldPath.key(s, pairs[i].key)
          node = pairs[i].value
        case .sequence(let items):
          s = FieldPath.index(s, i)
          node = items[i]
        case .scalar:
          return s
        }
      }
      return s
    }

    var path: String { prefix + path(from: "") }

    /// The walk of `node` as a value of type `t` (a node of `compiled`: ``CompiledSchema/node(_:)``).
    mutating func walk(_ node: YAMLNode, _ t: Int32) {
      let kind = compiled.node(t).kind
      switch node.content {
      case .scalar(let s):
        if s.isNull { return }
        if TypeRules.isYAML11Boolean(s) { return boolean(s, node.mark) }
        switch kind {
        case .any: return
        case .object, .list, .map: mismatch(node, t)
        case .string, .duration, .time: if s.stringText == nil { mismatch(node, t) }
        case .int: if s.intValue == nil { mismatch(node, t) }
        case .float:
          switch s.value {
          case .int, .float: return
          default: mismatch(node, t)
          }
        case .bool: if s.boolValue == nil { mismatch(node, t) }
        case .quantity, .intOrString:
          switch s.value {
          case .string, .int: return
          case .float where kind == .quantity: return
          default: mismatch(node, t)
          }
        }
      case .mapping, .sequence:
        switch kind {
        case .any:
          booleans(in: node)
        case .object, .list, .map:
          // A base's subtree, found clean in an earlier environment at this release: skipped.
          guard let memo, SharedSubtreeMemo<MemoCondition>.isShared(node, document: document) else {
            return walkCollection(node, t)
          }
          let condition = MemoCondition(node: t, release: Int32(truncatingIfNeeded: compiled.release))
          if memo.isClean(node, condition) { return }
          let before = events
          walkCollection(node, t)
          if events == before { memo.markClean(node, condition) }
        default:
          mismatch(node, t)
          booleans(in: node)
        }
      }
    }

    /// ``walk(_:_:)`` of a collection past the memo.
    mutating func walkCollection(_ node: YAMLNode, _ t: Int32) {
      let type = compiled.node(t)
      switch (type.kind, node.content) {
      case (.object, .mapping(let pairs)):
        for i in pairs.indices {
          steps.append(i)
          if let fieldType = compiled.field(pairs[i].key, of: type.arg) {
            walk(pairs[i].value, fieldType)
          } else {
            unknown(pairs[i], in: compiled.structNames[Int(type.arg)])
            booleans(in: pairs[i].value)
          }
          steps.removeLast()
        }
      case (.list, .sequence(let items)):
        for i in items.indices {
          steps.append(i)
          walk(items[i], type.arg)
          steps.removeLast()
        }
      case (.map, .mapping(let pairs)):
        for i in pairs.indices {
          steps.append(i)
          walk(pairs[i].value, type.arg)
          steps.removeLast()
        }
      default:
        mismatch(node, t)
        booleans(in: node)
      }
    }

    // MARK: YAML 1.1 booleans

    /// `yaml11-bool` for every YAML 1.1 boolean in `node`, a subtree the schema does not walk.
    mutating func booleans(in node: YAMLNode) {
      switch node.content {
      case .scalar(let s):
        if TypeRules.isYAML11Boolean(s) { boolean(s, node.mark) }
      case .mapping, .sequence:
        guard TypeRules.hasYAML11Boolean(node, document: booleanDocument) else { return }
        booleans(below: node)
      }
    }

    /// The walk of ``TypeRules``'s former `booleans`: into the children holding one.
    private mutating func booleans(below node: YAMLNode) {
      switch node.content {
      case .scalar(let s):
        if TypeRules.isYAML11Boolean(s) { boolean(s, node.mark) }
      case .mapping(let pairs):
        for i in pairs.indices where TypeRules.hasYAML11Boolean(pairs[i].value, document: booleanDocument) {
          steps.append(i)
          booleans(below: pairs[i].value)
          steps.removeLast()
        }
      case .sequence(let items):
        for i in items.indices where TypeRules.hasYAML11Boolean(items[i], document: booleanDocument) {
          steps.append(i)
          booleans(below: items[i])
          steps.removeLast()
        }
      }
    }

    mutating func boolean(_ s: YAMLScalar, _ mark: Mark) {
      events += 1
      let path = path(from: instanceGroup.map { "instancegroup[\($0)]" } ?? "")
      let name = path.isEmpty ? "the document" : path
      booleans.append(
        (
          "\(name): plain '\(s.text)' is read as a boolean by kops's YAML 1.1 reader; write true or false, "
            + "or quote it (\"\(s.text)\") if a string is meant", mark
        ))
    }

    // MARK: Findings

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
      let release = compiled.release
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

    mutating func mismatch(_ node: YAMLNode, _ t: Int32) {
      events += 1
      if found.count >= Self.reportLimit * 2 { return }
      if !reported.isEmpty, reported.contains(node.mark.description) { return }
      let type = compiled.types[Int(t)]
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
        ("field-type", "\(path) must be \(type.phrase), found \(TypeRules.describe(node)) (kops cannot decode it)\(hint)", node.mark))
    }
  }

  /// What a subtree was walked as: the same storage is clean only for the same type (a node of
  /// the release's ``CompiledSchema``) and release.
  struct MemoCondition: Hashable, Sendable {
    var node: Int32
    var release: Int32
  }

  /// Base subtrees the walk found clean (kept for the run): no schema finding and no YAML 1.1
  /// boolean in them.
  static let memo = SharedSubtreeMemo<MemoCondition>()

  /// What the walk of an environment's documents found, kept until ``check(_:)`` reports it.
  struct Findings {
    var booleans: [(message: String, mark: Mark)] = []
    var schema: [(rule: String, message: String, mark: Mark)] = []
  }

  /// The one walk of the Cluster and every InstanceGroup: their YAML 1.1 booleans (for
  /// ``TypeRules``) and the schema's findings (for ``check(_:)``), each in the order its former
  /// walk made them. `reported`: where ``TypeRules`` found a `field-type` already.
  static func walk(_ ctx: ValidationContext, reported: Set<String>) -> Findings {
    let schema = KopsSchema.shared
    let release = schema.releaseIndex(for: ctx.version)
    let compiled = compiledSchema(release: release)
    let memo = ctx.remembersSharedSubtrees ? memo : nil
    let hasCluster = schema.hasType("Cluster")
    var findings = Findings()
    var walker = Walker(
      schema: schema, compiled: compiled, version: ctx.version, root: ctx.cluster, instanceGroup: nil, reported: reported, memo: memo)
    if hasCluster {
      walker.walk(ctx.cluster, compiled.cluster)
      walker.flushUnreported()
    } else {
      walker.booleans(in: ctx.cluster)
    }
    findings.booleans = walker.booleans
    findings.schema = walker.found
    for ig in ctx.env.instanceGroups {
      var w = Walker(
        schema: schema, compiled: compiled, version: ctx.version, root: ig, instanceGroup: InstanceGroupView(ig).name ?? "?",
        reported: reported, memo: memo)
      if hasCluster {
        w.walk(ig, compiled.instanceGroup)
        w.flushUnreported()
      } else {
        w.booleans(in: ig)
      }
      findings.booleans += w.booleans
      findings.schema += w.found
    }
    if !hasCluster { findings.schema = [] }
    return findings
  }

  /// Reports the schema's findings of ``walk(_:reported:)`` (made when ``TypeRules`` ran).
  static func check(_ ctx: inout ValidationContext) {
    let findings = ctx.schemaFindings
    ctx.schemaFindings = []
    for f in findings {
      ctx.error(f.rule, f.message, at: f.mark)
    }
  }

  // MARK: Compiled schemas

  /// ``KopsSchema/shared`` compiled per release, on first use (a run uses a few releases): one
  /// slot per release, read without a lock (each environment's walk asks, from every worker
  /// thread; a contended lock there cost more than the lookup).
  private final class CompiledSlot: Sendable {
    let schema = AtomicLazyReference<CompiledSchema>()
  }
  private static let compiled: [CompiledSlot] = KopsSchema.shared.releases.map { _ in CompiledSlot() }

  static func compiledSchema(release: Int) -> CompiledSchema {
    // (`releaseIndex(for:)` gives an index of `releases`: the guard only keeps a bad index safe)
    guard compiled.indices.contains(release) else { return CompiledSchema(KopsSchema.shared, release: release) }
    let slot = compiled[release]
    if let c = slot.schema.load() { return c }
    // Two threads may compile the same release at once: the first stored is kept by both.
    return slot.schema.storeIfNil(CompiledSchema(KopsSchema.shared, release: release))
  }
}

/// ``KopsSchema`` at one release, compiled for the walk: every value type is a small index into
/// its nodes (``node(_:)``) and every struct's fields at that release a ``KeyTable`` from the field's name to
/// its type, so the walk neither hashes a `String` nor scans a field's release ranges per key.
/// `@unchecked Sendable`: immutable once made (``node(_:)`` reads memory it owns and never writes).
final class CompiledSchema: @unchecked Sendable {
  enum Kind: UInt8, Sendable {
    case any, object, list, map, string, int, float, bool, quantity, intOrString, duration, time
  }

  struct Node: Sendable {
    var kind: Kind
    /// The element's node (list, map) or the struct's index (object); 0 otherwise.
    var arg: Int32
  }

  let release: Int
  /// The nodes, read by the walk through a pointer (an array there was retained and released
  /// per node walked); memory this instance owns.
  private let nodePointer: UnsafeMutablePointer<Node>
  private let nodeCount: Int
  /// Per node, the type it stands for (messages and the memo name it).
  let types: [KopsSchema.ValueType]
  /// Per struct index: its name, and its fields at this release (a struct named by a field but
  /// missing from the schema has none, as ``KopsSchema/fields(of:)`` gives it).
  let structNames: [String]
  let fields: [KeyTable]
  /// The nodes of `.object("Cluster")` and `.object("InstanceGroup")`.
  let cluster: Int32
  let instanceGroup: Int32

  init(_ schema: KopsSchema, release: Int) {
    var nodes: [Node] = []
    var types: [KopsSchema.ValueType] = []
    var interned: [KopsSchema.ValueType: Int32] = [:]
    var structNames = schema.types.keys.sorted()
    var structIndex: [String: Int32] = [:]
    for (i, name) in structNames.enumerated() { structIndex[name] = Int32(i) }

    func intern(_ type: KopsSchema.ValueType) -> Int32 {
      if let i = interned[type] { return i }
      let node: Node
      switch type {
      case .any: node = Node(kind: .any, arg: 0)
      case .string: node = Node(kind: .string, arg: 0)
      case .int: node = Node(kind: .int, arg: 0)
      case .float: node = Node(kind: .float, arg: 0)
      case .bool: node = Node(kind: .bool, arg: 0)
      case .quantity: node = Node(kind: .quantity, arg: 0)
      case .intOrString: node = Node(kind: .intOrString, arg: 0)
      case .duration: node = Node(kind: .duration, arg: 0)
      case .time: node = Node(kind: .time, arg: 0)
      case .list(let element): node = Node(kind: .list, arg: intern(element))
      case .map(let element): node = Node(kind: .map, arg: intern(element))
      case .object(let name):
        let s: Int32
        if let known = structIndex[name] {
          s = known
        } else {
          s = Int32(structNames.count)
          structIndex[name] = s
          structNames.append(name)
        }
        node = Node(kind: .object, arg: s)
      }
      let i = Int32(nodes.count)
      nodes.append(node)
      types.append(type)
      interned[type] = i
      return i
    }

    let cluster = intern(.object("Cluster"))
    let instanceGroup = intern(.object("InstanceGroup"))
    var tables: [KeyTable] = []
    var s = 0
    // Interning a field's type may name a struct the schema lacks: it is appended, and gets
    // an empty table when the loop reaches it.
    while s < structNames.count {
      let variants = schema.fields(of: structNames[s]) ?? [:]
      var entries: [(key: String, value: Int32)] = []
      // (a struct's field names are distinct: the table does not depend on their order)
      for (name, v) in variants {
        if let type = KopsSchema.type(of: v, release: release) { entries.append((name, intern(type))) }
      }
      tables.append(KeyTable(pairs: entries))
      s += 1
    }
    self.release = release
    nodePointer = .allocate(capacity: max(nodes.count, 1))
    nodePointer.initialize(from: nodes, count: nodes.count)
    nodeCount = nodes.count
    self.types = types
    self.structNames = structNames
    self.fields = tables
    self.cluster = cluster
    self.instanceGroup = instanceGroup
  }

  deinit { nodePointer.deallocate() }

  /// Node `t` (an index the compilation made: in bounds).
  @inline(__always)
  func node(_ t: Int32) -> Node {
    precondition(t >= 0 && Int(t) < nodeCount, "a compiled schema's node index out of bounds")
    return nodePointer[Int(t)]
  }

  /// The type of field `name` of struct `s` at this release; nil when it has no such field.
  @inline(__always)
  func field(_ name: String, of s: Int32) -> Int32? {
    fields[Int(s)].value(name)
  }
}
