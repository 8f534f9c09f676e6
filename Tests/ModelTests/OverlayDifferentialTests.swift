import Config
import HKTestSupport
import Model
import Testing

/// `Overlay.merge` looks keys up in a short list while a mapping is small and keeps the base's
/// pairs without an optional copy; this compares it, node for node (keys, marks, order,
/// scalars' text and style), with the merge as it was (kept below) on generated trees:
/// small and large mappings (past the list's limits), repeated keys (trees built in code),
/// nulls that delete, named lists with `$patch: delete`, and the sample environments.
@Suite struct OverlayDifferentialTests {
  // MARK: The reference: the merge before this change, verbatim

  static func referenceMerge(base: YAMLNode, overlay: YAMLNode) -> YAMLNode {
    switch (base.content, overlay.content) {
    case (.mapping(let b), .mapping(let o)):
      var out: [YAMLPair?] = b
      var index: [String: Int] = [:]
      for (i, p) in b.enumerated() where index[p.key] == nil { index[p.key] = i }
      for p in o {
        if let i = index[p.key], let existing = out[i] {
          if p.value.isNull {
            out[i] = nil
            index[p.key] = nil
          } else {
            out[i]?.value = referenceMerge(base: existing.value, overlay: p.value)
          }
        } else if !p.value.isNull {
          index[p.key] = out.count
          out.append(p)
        }
      }
      return YAMLNode(.mapping(out.compactMap { $0 }), mark: overlay.mark)
    case (.sequence(let b), .sequence(let o)) where isNamedList(b) && isNamedList(o):
      var out: [YAMLNode?] = b
      var index: [String: [Int]] = [:]
      for (i, item) in b.enumerated() { index[item["name"]?.text ?? "", default: []].append(i) }
      for item in o {
        let name = item["name"]?.text ?? ""
        let deletes = item["$patch"]?.text == "delete"
        if let i = index[name]?.first, let existing = out[i] {
          if deletes {
            out[i] = nil
            index[name]?.removeFirst()
          } else {
            out[i] = referenceMerge(base: existing, overlay: item)
          }
        } else if !deletes {
          index[name, default: []].append(out.count)
          out.append(item)
        }
      }
      return YAMLNode(.sequence(out.compactMap { $0 }), mark: overlay.mark)
    default:
      return overlay
    }
  }

  static func isNamedList(_ items: [YAMLNode]) -> Bool {
    !items.isEmpty && items.allSatisfy { $0["name"]?.text != nil }
  }

  // MARK: Strict comparison and generated trees

  typealias Generator = SplitMix64

  static func mark(_ g: inout Generator, _ file: String) -> Mark {
    Mark(file: file, line: Int.random(in: 1...500, using: &g), column: Int.random(in: 1...40, using: &g))
  }

  static func scalar(_ g: inout Generator, _ file: String) -> YAMLNode {
    let texts = ["null", "~", "", "a", "b", "1", "true", "x y", "delete"]
    let text = texts.randomElement(using: &g) ?? "a"
    let style: ScalarStyle = Bool.random(using: &g) ? .plain : .doubleQuoted
    return YAMLNode(.scalar(YAMLScalar(text, style: style)), mark: mark(&g, file))
  }

  /// A random tree; `keys` many distinct key names (few: repeats across base and overlay).
  static func tree(_ g: inout Generator, depth: Int, keys: Int, file: String, allowRepeats: Bool) -> YAMLNode {
    let kind = depth <= 0 ? 0 : Int.random(in: 0...4, using: &g)
    switch kind {
    case 0: return scalar(&g, file)
    case 1, 2:
      let count = Int.random(in: 0...(Bool.random(using: &g) ? 6 : 60), using: &g)
      var pairs: [YAMLPair] = []
      var used = Set<String>()
      for _ in 0..<count {
        let key = "k\(Int.random(in: 0..<keys, using: &g))"
        if !allowRepeats && !used.insert(key).inserted { continue }
        pairs.append(
          YAMLPair(key: key, keyMark: mark(&g, file), value: tree(&g, depth: depth - 1, keys: keys, file: file, allowRepeats: allowRepeats))
        )
      }
      return YAMLNode(.mapping(pairs), mark: mark(&g, file))
    case 3:
      // a named list, sometimes with deletions
      let count = Int.random(in: 1...6, using: &g)
      let items: [YAMLNode] = (0..<count).map { _ in
        var pairs = [YAMLPair(key: "name", keyMark: mark(&g, file), value: .string("n\(Int.random(in: 0..<4, using: &g))"))]
        if Int.random(in: 0..<5, using: &g) == 0 { pairs.append(YAMLPair(key: "$patch", value: .string("delete"))) }
        pairs.append(
          YAMLPair(key: "v", keyMark: mark(&g, file), value: tree(&g, depth: depth - 1, keys: keys, file: file, allowRepeats: allowRepeats))
        )
        return YAMLNode(.mapping(pairs), mark: mark(&g, file))
      }
      return YAMLNode(.sequence(items), mark: mark(&g, file))
    default:
      let count = Int.random(in: 0...4, using: &g)
      return YAMLNode(
        .sequence((0..<count).map { _ in tree(&g, depth: depth - 1, keys: keys, file: file, allowRepeats: allowRepeats) }),
        mark: mark(&g, file))
    }
  }

  @Test func generatedTreesMergeAsBefore() {
    var g = Generator(seed: 15)
    var failures = 0
    for round in 0..<600 {
      let keys = [3, 8, 30, 80][round % 4]
      let repeats = round % 3 == 0
      let base = Self.tree(&g, depth: 4, keys: keys, file: "base.yaml", allowRepeats: repeats)
      let overlay = Self.tree(&g, depth: 4, keys: keys, file: "overlay.yaml", allowRepeats: repeats)
      for (b, o) in [(base, overlay), (overlay, base), (base, base)] {
        if !YAMLTrees.identical(Overlay.merge(base: b, overlay: o), Self.referenceMerge(base: b, overlay: o)) { failures += 1 }
      }
    }
    #expect(failures == 0)
  }

  /// Large flat mappings: past the short list (24 base keys) and past the overlay's growth
  /// limit (48), with deletions and repeated keys.
  @Test func largeMappingsMergeAsBefore() {
    var g = Generator(seed: 7)
    for n in [0, 1, 23, 24, 25, 47, 48, 49, 50, 100, 300] {
      for m in [0, 1, 24, 49, 60, 300] {
        let b = YAMLNode.mapping((0..<n).map { YAMLPair(key: "k\($0 % max(1, n - 2))", value: Self.scalar(&g, "b")) })
        let o = YAMLNode.mapping((0..<m).map { YAMLPair(key: "k\(($0 * 7) % (n + m + 1))", value: Self.scalar(&g, "o")) })
        #expect(YAMLTrees.identical(Overlay.merge(base: b, overlay: o), Self.referenceMerge(base: b, overlay: o)), "\(n) \(m)")
      }
    }
  }
}
