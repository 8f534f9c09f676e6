import Config
import HKTestSupport
import Model
import Testing

/// `YAMLParser.matching(_:_:maxChangedScalars:)` (a recorded object's text against a desired
/// tree that may differ in a few scalar values) against the parse: whatever it returns is the
/// parse's tree node for node, it answers whenever only scalar values differ, and it counts no
/// change exactly when `matches` is true.
@Suite struct YAMLMatchPatchTests {
  /// The same shape (keys in order, collection kinds, item counts), any scalars.
  static func sameShape(_ a: YAMLNode, _ b: YAMLNode) -> Bool {
    switch (a.content, b.content) {
    case (.scalar, .scalar): return true
    case (.sequence(let x), .sequence(let y)): return x.count == y.count && zip(x, y).allSatisfy { sameShape($0, $1) }
    case (.mapping(let x), .mapping(let y)):
      return x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && sameShape($0.value, $1.value) }
    default: return false
    }
  }

  /// `tree` with some of its scalars replaced (text, style or tag) by the generator's.
  static func edited(_ tree: YAMLNode, _ g: inout YAMLMatchTests.Generator) -> YAMLNode {
    switch tree.content {
    case .scalar:
      return g.rng.next() % 4 == 0 ? g.scalar() : tree
    case .sequence(let items):
      return YAMLNode(.sequence(items.map { edited($0, &g) }), mark: tree.mark)
    case .mapping(let pairs):
      return YAMLNode(.mapping(pairs.map { YAMLPair(key: $0.key, keyMark: $0.keyMark, value: edited($0.value, &g)) }), mark: tree.mark)
    }
  }

  @Test func changedScalarsAreTheParses() {
    var g = YAMLMatchTests.Generator(rng: SplitMix64(seed: 0x9A7C_4ED))
    var patched = 0
    for _ in 0..<3000 {
      let recorded = g.node(0)
      let text = YAMLEmitter.emit(recorded)
      let desired = Self.edited(recorded, &g)
      let docs = try? YAMLParser.parse(text, file: "patch-test")
      let result = YAMLParser.matching(text, desired, maxChangedScalars: 1000)
      if let result {
        #expect(docs?.count == 1 && YAMLMatchTests.same(docs![0], result.tree), "\(text)")
        #expect((result.changedScalars == 0) == YAMLParser.matches(text, desired), "\(text)")
        if result.changedScalars > 0 { patched += 1 }
      } else if let docs, docs.count == 1, Self.sameShape(docs[0], desired), !text.contains("&"), !text.contains("*") {
        // Only the shape (or what the parse refuses) stops it: emitted text has no anchors.
        Issue.record("not matched: \(text)")
      }
      // A bound on the changes: past it, no answer.
      if let result, result.changedScalars > 0 {
        #expect(YAMLParser.matching(text, desired, maxChangedScalars: result.changedScalars - 1) == nil)
      }
    }
    #expect(patched > 300, "\(patched)")
  }

  /// Edited texts: whatever is returned is the parse's tree.
  @Test func editedTextsGiveTheParseOrNothing() {
    var g = YAMLMatchTests.Generator(rng: SplitMix64(seed: 0x9A7C_ED17))
    let edits: [String] = ["x", ":", " ", "\n", "-", "\"", "'", "#", "&a ", "*a", "---\n", "\t", "é", "!!str ", "!t "]
    for _ in 0..<3000 {
      let tree = g.node(0)
      var bytes = Array(YAMLEmitter.emit(tree).utf8)
      if !bytes.isEmpty {
        if g.rng.next() % 2 == 0 {
          bytes.insert(contentsOf: Array(g.pick(edits).utf8), at: Int(g.rng.next() % UInt64(bytes.count)))
        } else {
          bytes.remove(at: Int(g.rng.next() % UInt64(bytes.count)))
        }
      }
      let text = String(decoding: bytes, as: UTF8.self)
      if let result = YAMLParser.matching(text, tree, maxChangedScalars: 1000) {
        let docs = try? YAMLParser.parse(text, file: "patch-test")
        #expect(docs?.count == 1 && YAMLMatchTests.same(docs![0], result.tree), "\(text)")
      }
    }
  }

  /// Unchanged subtrees keep the desired tree's storage; the desired tree is not changed.
  @Test func unchangedSubtreesAreShared() throws {
    let desired = YAMLNode.mapping([
      YAMLPair(
        key: "spec", value: .mapping([YAMLPair(key: "version", value: .string("1.28.9")), YAMLPair(key: "x", value: .string("y"))])),
      YAMLPair(key: "labels", value: .mapping([YAMLPair(key: "a", value: .string("b"))])),
    ])
    let text = "spec:\n  version: 1.22.17\n  x: y\nlabels:\n  a: b\n"
    let result = try #require(YAMLParser.matching(text, desired, maxChangedScalars: 4))
    #expect(result.changedScalars == 1)
    #expect(result.tree[path: "spec", "version"]?.text == "1.22.17")
    #expect(desired[path: "spec", "version"]?.text == "1.28.9")
    #expect(result.tree["labels"]?.storageIdentity == desired["labels"]?.storageIdentity)
    #expect(result.tree["spec"]?.storageIdentity != desired["spec"]?.storageIdentity)
    // A changed key or shape is not a changed value.
    #expect(YAMLParser.matching("spec:\n  version: 1.28.9\n  z: y\nlabels:\n  a: b\n", desired, maxChangedScalars: 4) == nil)
    #expect(YAMLParser.matching("spec:\n  version: [1]\n  x: y\nlabels:\n  a: b\n", desired, maxChangedScalars: 4) == nil)
  }
}
