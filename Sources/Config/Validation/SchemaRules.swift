import Model

/// kops's own schema, per release (``KopsSchema``): `unknown-field` for every key kops's
/// v1alpha2 types do not define at the environment's `kopsVersion` (kops decodes without strict
/// field checking and drops such a key silently), with a did-you-mean and the releases that do
/// have it; `field-type` for a value kops cannot decode into the field's Go type.
enum SchemaRules {
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
    /// Where `field-type` was already reported by ``TypeRules`` (one finding per node).
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
      if node.isNull || TypeRules.isYAML11Boolean(node) { return }
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
        ("field-type", "\(path) must be \(type.phrase), found \(TypeRules.describe(node)) (kops cannot decode it)\(hint)", node.mark))
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
