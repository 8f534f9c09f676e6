import Model

/// IAM outside `spec.additionalPolicies` (docs/SECURITY.md): the Cluster's
/// `spec.externalPolicies` (managed policy ARNs per role), `spec.iam` (including
/// `serviceAccountExternalPermissions`) and an instance group's `spec.iam` (its instance
/// profile). Their changes belong to the `iam` category and are `widening` when they add
/// privilege.
enum IAMFields {
  /// Whether `keys` (a field's keys below the object) is an IAM field.
  static func isIAM(_ keys: [String], instanceGroup: Bool) -> Bool {
    guard keys.count >= 2, keys[0] == "spec" else { return false }
    return instanceGroup ? keys[1] == "iam" : keys[1] == "externalPolicies" || keys[1] == "iam"
  }

  /// `change` moved to the `iam` category with `widening` decided, when `keys` is an IAM field.
  static func classify(_ change: Change, keys: [String], instanceGroup: Bool) -> Change {
    guard isIAM(keys, instanceGroup: instanceGroup) else { return change }
    var c = change
    c.category = .iam
    c.widening = widens(before: change.before, after: change.after, instanceProfile: instanceGroup)
    return c
  }

  /// Adds privilege: a value (a policy ARN, an inline policy, a permission) appears that was
  /// not there, a switch turns on, or an instance group gets another instance profile.
  static func widens(before: JSONValue?, after: JSONValue?, instanceProfile: Bool) -> Bool {
    guard let after, after != .null else { return false }
    if instanceProfile { return after != before }
    if case .bool(let on) = after { return on }
    let had = leaves(before)
    return !leaves(after).isSubset(of: had)
  }

  /// Every scalar under `value`, as text (booleans are switches, decided above).
  static func leaves(_ value: JSONValue?) -> Set<String> {
    guard let value else { return [] }
    switch value {
    case .array(let items): return items.reduce(into: Set<String>()) { $0.formUnion(leaves($1)) }
    case .object(let members): return members.reduce(into: Set<String>()) { $0.formUnion(leaves($1.value)) }
    case .null: return []
    case .string(let s): return [s]
    default: return [value.serialized()]
    }
  }
}
