// YAML ⇄ JSON

extension YAMLNode {
  /// The node as JSON: scalars by resolved value, mappings keep key order.
  public var json: JSONValue {
    switch content {
    case .scalar(let s):
      switch s.value {
      case .null: return .null
      case .bool(let b): return .bool(b)
      case .int(let i): return .int(i)
      case .float(let d): return .double(d)
      case .string(let t): return .string(t)
      }
    case .mapping(let pairs): return .object(pairs.map { .init($0.key, $0.value.json) })
    case .sequence(let items): return .array(items.map(\.json))
    }
  }

  /// Builds a YAML tree from JSON (no marks).
  public init(json: JSONValue) {
    switch json {
    case .null: self = .null
    case .bool(let b): self = .bool(b)
    case .int(let i): self = .int(i)
    case .double(let d): self = YAMLNode(.scalar(YAMLScalar(d == d.rounded() && abs(d) < 1e15 ? "\(Int64(d)).0" : "\(d)")))
    case .string(let s): self = .string(s)
    case .array(let a): self = .sequence(a.map { YAMLNode(json: $0) })
    case .object(let m): self = .mapping(m.map { YAMLPair(key: $0.key, value: YAMLNode(json: $0.value)) })
    }
  }
}
