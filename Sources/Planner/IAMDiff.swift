import Model

/// `spec.additionalPolicies` compared per statement: JSON parsed, whitespace and key order
/// ignored, Action and Resource lists as sets; `widening` when a change adds privilege.
public enum IAMDiff {
  public static func changes(recorded: YAMLNode?, desired: YAMLNode?) -> [Change] {
    var out: [Change] = []
    let rRoles = recorded?.pairs ?? []
    let dRoles = desired?.pairs ?? []
    var roles: [String] = dRoles.map(\.key)
    for p in rRoles where !roles.contains(p.key) { roles.append(p.key) }
    for role in roles {
      let before = recorded?[role]?.text
      let after = desired?[role]?.text
      out += changes(role: role, before: before, after: after)
    }
    return out
  }

  static func changes(role: String, before: String?, after: String?) -> [Change] {
    let path = FieldPath.key("spec.additionalPolicies", role)
    if before == after { return [] }
    let b = before.flatMap { try? IAMPolicyDocument.parse($0) }
    let a = after.flatMap { try? IAMPolicyDocument.parse($0) }
    // Unparsable text (hk validate reports it): compare as text.
    if (before != nil && b == nil) || (after != nil && a == nil) {
      return [
        Change(
          category: .iam, action: before == nil ? .create : after == nil ? .delete : .update, path: path,
          before: before.map(JSONValue.string), after: after.map(JSONValue.string), widening: after != nil)
      ]
    }
    var remainingBefore = b?.statements ?? []
    var added: [(Int, IAMStatement)] = []
    for (i, s) in (a?.statements ?? []).enumerated() {
      if let j = remainingBefore.firstIndex(of: s) {
        remainingBefore.remove(at: j)
      } else {
        added.append((i, s))
      }
    }
    var out: [Change] = []
    var unmatchedBefore = remainingBefore
    for (i, s) in added {
      if let j = unmatchedBefore.firstIndex(where: { $0.shapeKey == s.shapeKey }) {
        let old = unmatchedBefore.remove(at: j)
        out.append(
          Change(
            category: .iam, action: .update, path: FieldPath.index(path, i), before: old.original, after: s.original,
            widening: widens(from: old, to: s)))
      } else {
        out.append(
          Change(category: .iam, action: .create, path: FieldPath.index(path, i), before: nil, after: s.original, widening: s.isAllow))
      }
    }
    let beforeStatements = b?.statements ?? []
    for s in unmatchedBefore {
      let i = beforeStatements.firstIndex(of: s) ?? 0
      out.append(
        Change(category: .iam, action: .delete, path: FieldPath.index(path, i), before: s.original, after: nil, widening: !s.isAllow))
    }
    return out
  }

  /// Whether replacing `old` by `new` (same effect and conditions) grants more.
  static func widens(from old: IAMStatement, to new: IAMStatement) -> Bool {
    if new.isAllow {
      if !new.actions.isSubset(of: old.actions) || !new.resources.isSubset(of: old.resources) { return true }
      if new.hasWildcard && !old.hasWildcard { return true }
      if !old.notActions.isSubset(of: new.notActions) || !old.notResources.isSubset(of: new.notResources) { return true }
      return false
    }
    // Deny: denying less is widening.
    return !old.actions.isSubset(of: new.actions) || !old.resources.isSubset(of: new.resources)
  }
}
