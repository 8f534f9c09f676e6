import Model
import Synchronization

/// The paths of a list of ``TypeRules/Field``s as a tree of keys, so one pass over a document's
/// mappings finds every field's node (a dictionary lookup per key written) instead of one
/// search from the root per field.
final class FieldTree: Sendable {
  /// The subtrees by key.
  let children: [String: FieldTree]
  /// The index of the field whose path ends here, if one does.
  let field: Int?

  private init(children: [String: FieldTree], field: Int?) {
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
    self.init(children: groups.mapValues { FieldTree(paths: $0) }, field: field)
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
    var used: [ObjectIdentifier] = []
    for p in pairs {
      guard let child = children[p.key] else { continue }
      let id = ObjectIdentifier(child)
      if used.contains(id) { continue }
      used.append(id)
      child.visit(p.value, into: &found)
    }
  }

  static let cluster = FieldTree(paths: TypeRules.clusterFields.map(\.path))
  static let instanceGroup = FieldTree(paths: TypeRules.instanceGroupFields.map(\.path))
}
