/// One IAM policy statement, normalised for comparison: Action/Resource/NotAction/NotResource as
/// sets, everything else (Condition, Principal, Sid) as JSON compared structurally.
public struct IAMStatement: Sendable, Hashable {
  public var effect: String
  public var actions: Set<String>
  public var notActions: Set<String>
  public var resources: Set<String>
  public var notResources: Set<String>
  /// The remaining keys (Condition, Principal, …) except `Sid`, sorted by key.
  public var rest: [JSONValue.Member]
  public var sid: String?
  /// The statement as written.
  public var original: JSONValue

  public init(json: JSONValue) {
    original = json
    effect = json["Effect"]?.stringValue ?? ""
    actions = Self.set(json["Action"])
    notActions = Self.set(json["NotAction"])
    resources = Self.set(json["Resource"])
    notResources = Self.set(json["NotResource"])
    sid = json["Sid"]?.stringValue
    let known: Set<String> = ["Effect", "Action", "NotAction", "Resource", "NotResource", "Sid"]
    rest = (json.members ?? []).filter { !known.contains($0.key) }.map { JSONValue.Member($0.key, $0.value.canonical) }
      .sorted { $0.key < $1.key }
  }

  static func set(_ v: JSONValue?) -> Set<String> {
    switch v {
    case .string(let s)?: return [s]
    case .array(let a)?: return Set(a.compactMap(\.stringValue))
    default: return []
    }
  }

  /// Identity for matching a statement across two policy versions: everything but Action/Resource.
  public var shapeKey: String {
    var parts = [effect, sid ?? ""]
    parts.append(JSONValue.object(rest).serialized())
    return parts.joined(separator: "\u{1}")
  }

  public static func == (a: IAMStatement, b: IAMStatement) -> Bool {
    a.effect == b.effect && a.actions == b.actions && a.notActions == b.notActions && a.resources == b.resources
      && a.notResources == b.notResources && a.rest == b.rest && a.sid == b.sid
  }
  public func hash(into h: inout Hasher) {
    h.combine(effect)
    h.combine(actions)
    h.combine(resources)
  }

  public var isAllow: Bool { effect == "Allow" }
  /// `*` in Action or Resource (or `service:*`-wide patterns are counted by the planner).
  public var hasWildcard: Bool {
    actions.contains("*") || resources.contains("*")
  }
}

/// A parsed IAM policy document (`{"Version": …, "Statement": [...]}` or a bare statement list, as
/// kops's `additionalPolicies` accepts).
public struct IAMPolicyDocument: Sendable, Hashable {
  public var statements: [IAMStatement]

  /// Parses a policy the way kops reads `additionalPolicies`: a JSON array of statements.
  /// kops also accepts a full policy document here only in some versions; hk accepts both.
  public static func parse(_ text: String) throws(JSONParseError) -> IAMPolicyDocument {
    let v = try JSONValue.parseRemembered(text)
    switch v {
    case .array(let items): return IAMPolicyDocument(statements: items.map(IAMStatement.init))
    case .object:
      if case .array(let items)? = v["Statement"] { return IAMPolicyDocument(statements: items.map(IAMStatement.init)) }
      if let s = v["Statement"] { return IAMPolicyDocument(statements: [IAMStatement(json: s)]) }
      return IAMPolicyDocument(statements: [IAMStatement(json: v)])
    default:
      throw JSONParseError(message: "a policy must be a JSON array of statements", line: 1, column: 1)
    }
  }
}

extension JSONValue {
  /// The value with object members sorted by key, recursively (for structural comparison).
  public var canonical: JSONValue {
    switch self {
    case .object(let m): return .object(m.map { Member($0.key, $0.value.canonical) }.sorted { $0.key < $1.key })
    case .array(let a): return .array(a.map(\.canonical))
    default: return self
    }
  }
}
