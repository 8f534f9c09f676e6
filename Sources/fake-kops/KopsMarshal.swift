import Config
import Foundation
import Model

/// What Go's encoder does to a kops object on output that a plain YAML rewrite does not, driven
/// by kops's v1alpha2 schema (``KopsSchema``, generated from kops's API types; kops-contract §9):
///
/// - a non-pointer `omitempty` field at its zero value (`false`, `0`, `""`, `[]`, `{}`) is not
///   written (pointer fields and struct values are, even when empty);
/// - a `resource.Quantity` is written in canonical form (`3.14` → `3140m`, `1024Mi` → `1Gi`,
///   `1000` → `1k`).
enum KopsMarshal {
  /// The object's type in the schema, from its `kind`; nil for kinds the schema does not describe.
  static func type(of node: YAMLNode) -> KopsSchema.ValueType? {
    switch node["kind"]?.text {
    case "Cluster": .object("Cluster")
    case "InstanceGroup": .object("InstanceGroup")
    default: nil
    }
  }

  /// The node as Go marshals a value of `type`.
  static func apply(_ node: YAMLNode, type: KopsSchema.ValueType) -> YAMLNode {
    let schema = KopsSchema.shared
    switch (type, node.content) {
    case (.object(let name), .mapping(let pairs)):
      var out: [YAMLPair] = []
      for p in pairs {
        guard let field = schema.anyRelease(p.key, in: name) else {
          out.append(p)
          continue
        }
        if field.omittedWhenZero && isZero(p.value) { continue }
        out.append(YAMLPair(key: p.key, keyMark: p.keyMark, value: apply(p.value, type: field.type)))
      }
      return YAMLNode(.mapping(out), mark: node.mark)
    case (.list(let item), .sequence(let items)):
      return YAMLNode(.sequence(items.map { apply($0, type: item) }), mark: node.mark)
    case (.map(let value), .mapping(let pairs)):
      return YAMLNode(
        .mapping(pairs.map { YAMLPair(key: $0.key, keyMark: $0.keyMark, value: apply($0.value, type: value)) }), mark: node.mark)
    case (.quantity, .scalar(let s)):
      let text: String? =
        switch s.value {
        case .string(let t): t
        case .int(let i): String(i)
        case .float: s.text
        case .bool, .null: nil
        }
      guard let text, let canonical = canonicalQuantity(text) else { return node }
      return .string(canonical, mark: node.mark)
    default:
      return node
    }
  }

  /// Go's zero value (`omitempty`'s "empty"): false, 0, "", an empty list or map.
  static func isZero(_ node: YAMLNode) -> Bool {
    switch node.content {
    case .mapping(let pairs): return pairs.isEmpty
    case .sequence(let items): return items.isEmpty
    case .scalar(let s):
      switch s.value {
      case .bool(let b): return !b
      case .int(let i): return i == 0
      case .float(let f): return f == 0
      case .string(let t): return t.isEmpty
      case .null: return true
      }
    }
  }

  static let binarySuffixes = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]
  static let decimalSuffixes: [(Int, String)] = [
    (18, "E"), (15, "P"), (12, "T"), (9, "G"), (6, "M"), (3, "k"), (0, ""), (-3, "m"), (-6, "u"), (-9, "n"),
  ]

  /// `resource.Quantity.String()` of a quantity's text; nil when it is not a quantity.
  ///
  /// The format of the input is kept (binary suffix, decimal suffix or exponent), except that a
  /// binary value below 1024 or with a fraction is written with a decimal suffix; the mantissa is
  /// the smallest integer the largest suffix allows.
  static func canonicalQuantity(_ text: String) -> String? {
    var number = Substring(text)
    var format = "decimal"
    var factor = Decimal(1)
    if let b = binarySuffixes.dropFirst().firstIndex(where: { number.hasSuffix($0) }) {
      format = "binary"
      number = number.dropLast(2)
      for _ in 0..<b { factor *= 1024 }
    } else if let e = number.firstIndex(where: { $0 == "e" || $0 == "E" }), let exp = Int(number[number.index(after: e)...]) {
      format = "exponent"
      number = number[..<e]
      factor = exp >= 0 ? pow(Decimal(10), exp) : 1 / pow(Decimal(10), -exp)
    } else if let last = number.last, let d = decimalSuffixes.first(where: { !$0.1.isEmpty && String(last) == $0.1 }) {
      number = number.dropLast()
      factor = d.0 >= 0 ? pow(Decimal(10), d.0) : 1 / pow(Decimal(10), -d.0)
    }
    guard !number.isEmpty, number.allSatisfy({ $0.isNumber || $0 == "." || $0 == "-" || $0 == "+" }),
      let mantissa = Decimal(string: String(number))
    else { return nil }
    let value = mantissa * factor
    if value == 0 { return "0" }
    if format == "binary", isInteger(value), abs(value) >= 1024 {
      for k in stride(from: 6, through: 0, by: -1) {
        var unit = Decimal(1)
        for _ in 0..<k { unit *= 1024 }
        if isInteger(value / unit) { return "\(value / unit)\(binarySuffixes[k])" }
      }
    }
    for (exp, suffix) in decimalSuffixes {
      let unit = exp >= 0 ? pow(Decimal(10), exp) : 1 / pow(Decimal(10), -exp)
      let m = value / unit
      guard isInteger(m) else { continue }
      if format == "exponent" { return exp == 0 ? "\(m)" : "\(m)e\(exp)" }
      return "\(m)\(suffix)"
    }
    return nil
  }

  static func isInteger(_ d: Decimal) -> Bool {
    var rounded = Decimal()
    var copy = d
    NSDecimalRound(&rounded, &copy, 0, .plain)
    return rounded == d
  }
}
