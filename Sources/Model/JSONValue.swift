/// A JSON value with ordered object members, used for plan/drift output and IAM policy documents.
///
/// hk writes its own JSON so that output is deterministic (member order as built) and parses
/// its own so that IAM policies keep exact number/bool types and key order; Foundation's
/// `JSONSerialization` loses both on Linux.
///
/// Not `indirect`: the collections hold their elements in arrays already, so no case needs a
/// box of its own. A boxed value cost an allocation per node built (every scalar of every
/// planned object) and a box to project, retain and release per node read.
public enum JSONValue: Sendable, Hashable {
  case null
  case bool(Bool)
  case int(Int64)
  case double(Double)
  case string(String)
  case array([JSONValue])
  case object([Member])

  public struct Member: Sendable, Hashable {
    public var key: String
    public var value: JSONValue
    public init(_ key: String, _ value: JSONValue) {
      self.key = key
      self.value = value
    }
  }

  /// Builds an object from ordered pairs; `nil` values become JSON `null`.
  public static func obj(_ members: [(String, JSONValue)]) -> JSONValue {
    .object(members.map { Member($0.0, $0.1) })
  }

  public subscript(key: String) -> JSONValue? {
    guard case .object(let m) = self else { return nil }
    return m.first { $0.key == key }?.value
  }
  public var stringValue: String? {
    if case .string(let s) = self { return s }
    return nil
  }
  public var arrayValue: [JSONValue]? {
    if case .array(let a) = self { return a }
    return nil
  }
  public var members: [Member]? {
    if case .object(let m) = self { return m }
    return nil
  }
  public var intValue: Int64? {
    switch self {
    case .int(let i): return i
    case .double(let d) where d == d.rounded() && abs(d) < 9e15: return Int64(d)
    default: return nil
    }
  }
  public var boolValue: Bool? {
    if case .bool(let b) = self { return b }
    return nil
  }
}
