import Model

/// The base + overlay merge of DESIGN.md §2: maps deep-merge, lists of named items merge by
/// `name`, `null` deletes a key, and a named item with `$patch: delete` is removed. Every other
/// list is replaced by the overlay's.
public enum Overlay {
  public static func merge(base: YAMLNode, overlay: YAMLNode) -> YAMLNode {
    switch (base.content, overlay.content) {
    case (.mapping(let b), .mapping(let o)):
      var out = b
      for p in o {
        if let i = out.firstIndex(where: { $0.key == p.key }) {
          if p.value.isNull {
            out.remove(at: i)
          } else {
            out[i].value = merge(base: out[i].value, overlay: p.value)
          }
        } else if !p.value.isNull {
          out.append(p)
        }
      }
      return YAMLNode(.mapping(out), mark: overlay.mark)
    case (.sequence(let b), .sequence(let o)) where isNamedList(b) && isNamedList(o):
      var out = b
      for item in o {
        let name = item["name"]?.text
        let deletes = item["$patch"]?.text == "delete"
        if let i = out.firstIndex(where: { $0["name"]?.text == name }) {
          if deletes {
            out.remove(at: i)
          } else {
            out[i] = merge(base: out[i], overlay: item)
          }
        } else if !deletes {
          out.append(item)
        }
      }
      return YAMLNode(.sequence(out), mark: overlay.mark)
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
    switch node.content {
    case .scalar: return node
    case .sequence(let items): return YAMLNode(.sequence(items.map(stripPatchMarkers)), mark: node.mark)
    case .mapping(let pairs):
      return YAMLNode(
        .mapping(pairs.filter { $0.key != "$patch" }.map { YAMLPair(key: $0.key, keyMark: $0.keyMark, value: stripPatchMarkers($0.value)) }),
        mark: node.mark)
    }
  }
}
