import Model

/// The base + overlay merge of DESIGN.md §2: maps deep-merge, lists of named items merge by
/// `name`, `null` deletes a key, and a named item with `$patch: delete` is removed. Every other
/// list is replaced by the overlay's.
public enum Overlay {
  public static func merge(base: YAMLNode, overlay: YAMLNode) -> YAMLNode {
    switch (base.content, overlay.content) {
    // Both merges look keys and names up in a dictionary (a removed entry leaves a hole until
    // the end): a linear search per entry made a hostile file of many keys quadratic.
    case (.mapping(let b), .mapping(let o)):
      // `out` starts as the base's pairs (shared storage until changed); a removed pair is
      // flagged in `removed` (made on the first removal) and dropped at the end.
      var out = b
      var removed: [Bool] = []
      var index = KeyIndex(small: b.count <= KeyIndex.smallLimit)
      for (i, p) in b.enumerated() where index[p.key] == nil { index[p.key] = i }
      for p in o {
        if let i = index[p.key] {
          if p.value.isNull {
            if removed.isEmpty { removed = Array(repeating: false, count: out.count) }
            removed[i] = true
            index[p.key] = nil
          } else {
            out[i].value = merge(base: out[i].value, overlay: p.value)
          }
        } else if !p.value.isNull {
          index[p.key] = out.count
          out.append(p)
          if !removed.isEmpty { removed.append(false) }
        }
      }
      if !removed.isEmpty { out = zip(out, removed).filter { !$0.1 }.map(\.0) }
      return YAMLNode(.mapping(out), mark: overlay.mark)
    case (.sequence(let b), .sequence(let o)) where isNamedList(b) && isNamedList(o):
      // Positions of each name, first first (a base may repeat a name; the first one wins).
      var out: [YAMLNode?] = b
      var index: [String: [Int]] = [:]
      for (i, item) in b.enumerated() { index[item["name"]?.text ?? "", default: []].append(i) }
      for item in o {
        let name = item["name"]?.text ?? ""
        let deletes = item["$patch"]?.text == "delete"
        if let i = index[name]?.first, let existing = out[i] {
          if deletes {
            out[i] = nil
            index[name]?.removeFirst()
          } else {
            out[i] = merge(base: existing, overlay: item)
          }
        } else if !deletes {
          index[name, default: []].append(out.count)
          out.append(item)
        }
      }
      return YAMLNode(.sequence(out.compactMap { $0 }), mark: overlay.mark)
    default:
      return overlay
    }
  }

  /// A list whose items are all mappings with a scalar `name` (subnets, etcd members, …).
  static func isNamedList(_ items: [YAMLNode]) -> Bool {
    !items.isEmpty && items.allSatisfy { $0["name"]?.text != nil }
  }

  /// Removes `$patch` markers left in a tree (items added by an overlay that named no base item).
  public static func stripPatchMarkers(_ node: YAMLNode) -> YAMLNode {
    // Almost no tree has a marker: a read-only scan spares rebuilding (copying) the tree.
    guard hasPatchMarker(node) else { return node }
    switch node.content {
    case .scalar: return node
    case .sequence(let items): return YAMLNode(.sequence(items.map(stripPatchMarkers)), mark: node.mark)
    case .mapping(let pairs):
      return YAMLNode(
        .mapping(
          pairs.filter { $0.key != "$patch" }.map { YAMLPair(key: $0.key, keyMark: $0.keyMark, value: stripPatchMarkers($0.value)) }),
        mark: node.mark)
    }
  }

  static func hasPatchMarker(_ node: YAMLNode) -> Bool {
    switch node.content {
    case .scalar: return false
    case .sequence(let items): return items.contains(where: hasPatchMarker)
    case .mapping(let pairs): return pairs.contains { $0.key == "$patch" || hasPatchMarker($0.value) }
    }
  }
}

/// A `[String: Int]` for the mapping merge: a linear list of (key, position) while the base
/// mapping is small (most are: no hashing, one small array), a dictionary beyond
/// ``smallLimit`` (a hostile file of many keys stays linear, not quadratic). Both behave as a
/// dictionary: one entry per key, a `nil` assignment removes it.
struct KeyIndex {
  static let smallLimit = 24
  private var list: [(key: String, position: Int)] = []
  private var table: [String: Int]? = nil

  init(small: Bool) {
    if !small { table = [:] }
  }

  subscript(key: String) -> Int? {
    get {
      if let table { return table[key] }
      for e in list where YAMLPair.sameKey(e.key, key) { return e.position }
      return nil
    }
    set {
      if table != nil {
        table?[key] = newValue
        return
      }
      if let i = list.firstIndex(where: { YAMLPair.sameKey($0.key, key) }) {
        if let newValue { list[i].position = newValue } else { list.remove(at: i) }
      } else if let newValue {
        list.append((key, newValue))
        // An overlay adding many keys: a dictionary from here on.
        if list.count > 2 * Self.smallLimit {
          table = Dictionary(list.map { ($0.key, $0.position) }, uniquingKeysWith: { first, _ in first })
          list = []
        }
      }
    }
  }
}
