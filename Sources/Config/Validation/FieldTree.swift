import Model
import Synchronization

/// The paths of a list of ``TypeRules/Field``s as a tree of keys, so one pass over a document's
/// mappings finds every field's node (a dictionary lookup per key written) instead of one
/// search from the root per field.
final class FieldTree: Sendable {
  /// The subtrees' keys (``KeyTable``: no `String` hashing per key looked up), valued by their
  /// index in ``children``.
  let keys: KeyTable
  let children: [FieldTree]
  /// ``children`` as the walk reads them: without a retain and a release of each subtree it
  /// enters (the trees are shared by every worker thread, and a retain is an atomic write to the
  /// subtree's header from both cores). ``children`` keeps them alive.
  private let unretained: [Unmanaged<FieldTree>]
  /// The index of the field whose path ends here, if one does.
  let field: Int?

  private init(keys: [String], children: [FieldTree], field: Int?) {
    self.keys = KeyTable(keys: keys)
    self.children = children
    self.unretained = children.map { Unmanaged.passUnretained($0) }
    self.field = field
  }

  /// The tree of `paths` (`paths[i]` is field i's; the first field of a path wins).
  convenience init(paths: [[String]]) {
    self.init(paths: paths.enumerated().map { ($0.offset, $0.element[...]) })
  }

  private convenience init(paths: [(Int, ArraySlice<String>)]) {
    var field: Int? = nil
    var order: [String] = []
    var groups: [String: [(Int, ArraySlice<String>)]] = [:]
    for (i, path) in paths {
      guard let first = path.first else {
        if field == nil { field = i }
        continue
      }
      if groups[first] == nil { order.append(first) }
      groups[first, default: []].append((i, path.dropFirst()))
    }
    self.init(keys: order, children: order.map { FieldTree(paths: groups[$0] ?? []) }, field: field)
  }

  /// The node of each field in `doc` (nil where a key is missing or a parent on the way is no
  /// mapping): what ``TypeRules/lookup(_:_:)`` gives for each path, where a key's first pair
  /// counts when a mapping repeats it.
  func lookup(_ doc: YAMLNode, count: Int) -> [YAMLNode?] {
    var found = [YAMLNode?](repeating: nil, count: count)
    visit(doc, into: &found)
    return found
  }

  private func visit(_ node: YAMLNode, into found: inout [YAMLNode?]) {
    if let field { found[field] = node }
    guard !children.isEmpty, case .mapping(let pairs) = node.content else { return }
    // the children visited already (a repeated key's later pairs do not count)
    var used = UInt64(0)
    var usedBeyond: [Bool] = []
    for i in pairs.indices {
      guard let c = keys.value(pairs[i].key).map(Int.init) else { continue }
      if c < 64 {
        if used & (1 << UInt64(c)) != 0 { continue }
        used |= 1 << UInt64(c)
      } else {
        if usedBeyond.isEmpty { usedBeyond = [Bool](repeating: false, count: children.count) }
        if usedBeyond[c] { continue }
        usedBeyond[c] = true
      }
      unretained[c]._withUnsafeGuaranteedRef { $0.visit(pairs[i].value, into: &found) }
    }
  }

  static let cluster = FieldTree(paths: TypeRules.clusterFields.map(\.path))
  static let instanceGroup = FieldTree(paths: TypeRules.instanceGroupFields.map(\.path))
}
