import Model

/// One difference between two YAML trees at a field path.
public struct FieldDiff: Sendable {
  /// Printable path (`spec.subnets[name=a].cidr`).
  public var path: String
  /// The mapping keys from the document root (`["spec", "subnets"]`), selectors excluded.
  public var keys: [String]
  public var before: YAMLNode?
  public var after: YAMLNode?

  public var action: ChangeAction {
    if before == nil { return .create }
    if after == nil { return .delete }
    return .update
  }
}

/// Field-by-field semantic diff of YAML trees: mappings by key, lists of named items by `name`
/// (never by index), other lists as whole values, scalars by resolved value.
public enum TreeDiff {
  /// Fields kops rewrites on every write; never part of a desired-vs-recorded diff.
  public static let volatileMetadata: Set<String> = ["creationTimestamp", "generation", "resourceVersion", "uid"]

  public static func diff(_ a: YAMLNode?, _ b: YAMLNode?, path: String = "", keys: [String] = []) -> [FieldDiff] {
    var out: [FieldDiff] = []
    walk(a, b, path: path, keys: keys, into: &out)
    return out
  }

  static func walk(_ a: YAMLNode?, _ b: YAMLNode?, path: String, keys: [String], into out: inout [FieldDiff]) {
    switch (a, b) {
    case (nil, nil): return
    case (let x?, nil):
      if !x.isNull { out.append(FieldDiff(path: path, keys: keys, before: x, after: nil)) }
    case (nil, let y?):
      if !y.isNull { out.append(FieldDiff(path: path, keys: keys, before: nil, after: y)) }
    case (let x?, let y?):
      // A recorded object that matched the desired one is that tree (``RecordedObjects``), and
      // the cluster's copies without the parts diffed apart still share their other subtrees:
      // one storage holds equal trees, whose walk finds nothing.
      if sharesStorage(x, y) { return }
      switch (x.content, y.content) {
      case (.mapping(let xp), .mapping(let yp)):
        let isMetadata = keys == ["metadata"]
        // The keys of `yp` as a set only for a large mapping: a small one is searched in place
        // (as the loop below already searches `xp`), without hashing every key.
        let seen: Set<String>? = yp.count > 16 ? Set(yp.lazy.map(\.key)) : nil
        for p in yp {
          if isMetadata && volatileMetadata.contains(p.key) { continue }
          let before = xp.first { YAMLPair.sameKey($0.key, p.key) }?.value
          // Most of a tree is unchanged: compare first (no allocation), build the path only
          // where something differs.
          if let before, sharesStorage(before, p.value) || before == p.value { continue }
          walk(before, p.value, path: FieldPath.key(path, p.key), keys: keys + [p.key], into: &out)
        }
        for p in xp where !(seen?.contains(p.key) ?? yp.contains { YAMLPair.sameKey($0.key, p.key) }) {
          if isMetadata && volatileMetadata.contains(p.key) { continue }
          walk(p.value, nil, path: FieldPath.key(path, p.key), keys: keys + [p.key], into: &out)
        }
      case (.sequence(let xi), .sequence(let yi)) where isNamed(xi) && isNamed(yi) && (!xi.isEmpty || !yi.isEmpty):
        let xNames = xi.compactMap { $0["name"]?.text }
        for item in yi {
          let name = item["name"]?.text ?? ""
          let before = xi.first { $0["name"]?.text == name }
          if let before, sharesStorage(before, item) || before == item { continue }
          walk(before, item, path: FieldPath.named(path, name), keys: keys, into: &out)
        }
        let yNames = Set(yi.compactMap { $0["name"]?.text })
        for (i, name) in xNames.enumerated() where !yNames.contains(name) {
          walk(xi[i], nil, path: FieldPath.named(path, name), keys: keys, into: &out)
        }
      default:
        if x != y { out.append(FieldDiff(path: path, keys: keys, before: x, after: y)) }
      }
    }
  }

  /// Whether two collections hold the same element storage (so are equal: hk's trees have no
  /// repeated key, the parse refuses one), decided without comparing them.
  @inline(__always)
  static func sharesStorage(_ a: YAMLNode, _ b: YAMLNode) -> Bool {
    guard let id = a.storageIdentity else { return false }
    return id == b.storageIdentity
  }

  /// A list whose items are all mappings with a unique scalar `name` (an empty list counts).
  static func isNamed(_ items: [YAMLNode]) -> Bool {
    var names = Set<String>()
    for i in items {
      guard let n = i["name"]?.text, names.insert(n).inserted else { return false }
    }
    return true
  }
}
