import Model

/// Strict comparison of YAML trees for tests. `==` on ``Model/YAMLNode`` is semantic (it ignores
/// marks and quoting, and takes a mapping that repeats a key for unequal to itself); these
/// compare everything a tree holds: marks, key order, keys and their marks, scalars' text, style
/// and tag.
public enum YAMLTrees {
  /// Whether `a` and `b` are the same tree.
  public static func identical(_ a: YAMLNode, _ b: YAMLNode) -> Bool { difference(a, b) == nil }

  /// Where two document lists first differ (`document N.key[i]: what`), or nil.
  public static func difference(_ a: [YAMLNode], _ b: [YAMLNode]) -> String? {
    guard a.count == b.count else { return "\(a.count) documents against \(b.count)" }
    for (i, (x, y)) in zip(a, b).enumerated() {
      if let d = difference(x, y) { return "document \(i)" + d }
    }
    return nil
  }

  /// Where `a` first differs from `b`, as a path from them (`.key[2]: what`), or nil. The path
  /// is built only for a difference.
  public static func difference(_ a: YAMLNode, _ b: YAMLNode) -> String? {
    if a.mark != b.mark { return ": mark \(a.mark) against \(b.mark)" }
    switch (a.content, b.content) {
    case (.scalar(let x), .scalar(let y)):
      guard x.text != y.text || x.style != y.style || x.tag != y.tag else { return nil }
      return ": scalar \(x.text.debugDescription) \(x.style) \(x.tag ?? "-") against \(y.text.debugDescription) \(y.style) \(y.tag ?? "-")"
    case (.mapping(let x), .mapping(let y)):
      guard x.count == y.count else { return ": \(x.count) keys against \(y.count)" }
      for (p, q) in zip(x, y) {
        if p.key != q.key || p.keyMark != q.keyMark {
          return ": key \(p.key.debugDescription) at \(p.keyMark) against \(q.key.debugDescription) at \(q.keyMark)"
        }
        if let d = difference(p.value, q.value) { return "." + p.key + d }
      }
      return nil
    case (.sequence(let x), .sequence(let y)):
      guard x.count == y.count else { return ": \(x.count) items against \(y.count)" }
      for (i, (p, q)) in zip(x, y).enumerated() {
        if let d = difference(p, q) { return "[\(i)]" + d }
      }
      return nil
    default:
      return ": \(kind(a)) against \(kind(b))"
    }
  }

  static func kind(_ n: YAMLNode) -> String {
    switch n.content {
    case .scalar: "a scalar"
    case .mapping: "a mapping"
    case .sequence: "a sequence"
    }
  }
}
