import Config
import Model
import Testing

/// `==` answers true for two mappings sharing one pair storage without walking them; that
/// shortcut must agree with the walk (a reparse of the same text has its own storage).
@Suite struct YAMLNodeEqualityTests {
  static let corpus = [
    "a: 1\n", "a: 1\nb: [x, y]\nc: {d: e}\n", "b: 2\na: 1\n", "a: '1'\n", "a: 1.0\n", "a: .nan\n",
    (0..<12).map { "k\($0): v\($0)\n" }.joined(), (0..<12).reversed().map { "k\($0): v\($0)\n" }.joined(),
    "spec:\n  m: {x: 1, y: [1, 2, {z: null}]}\n  n: \"yes\"\n",
  ]

  static func parse(_ text: String) throws -> YAMLNode {
    try #require(try YAMLParser.parse(text, file: "t.yaml").first)
  }

  @Test func sharedStorageIsEqualAsTheWalkSays() throws {
    for text in Self.corpus {
      let a = try Self.parse(text)
      let copy = a  // shares every storage
      #expect(copy.storageIdentity == a.storageIdentity)
      #expect(a == copy)
      #expect(a == (try Self.parse(text)))  // own storage: the walk
      var marked = a
      marked.mark = Mark(file: "other.yaml", line: 9, column: 9)  // marks ignored, storage still shared
      #expect(marked == a)
    }
  }

  @Test func changedCopyIsNotEqual() throws {
    for text in Self.corpus {
      let a = try Self.parse(text)
      var b = a
      b.set("added", .string("v"))
      #expect(b.storageIdentity != a.storageIdentity)
      #expect(a != b)
      #expect(b != a)
    }
  }

  @Test func agreesWithTheWalkAcrossTheCorpus() throws {
    let trees = try Self.corpus.map(Self.parse)
    let again = try Self.corpus.map(Self.parse)
    for (i, a) in trees.enumerated() {
      for (j, b) in again.enumerated() {
        // The same pairs from two parses (never shared) against one storage on both sides.
        #expect((a == b) == (a == trees[j]), "\(i) vs \(j)")
        #expect((a == b) == (again[i] == b), "\(i) vs \(j)")
      }
    }
  }
}

/// Looking a key up in a mapping (``YAMLPair/sameKey(_:_:)``): the key as written, byte for byte.
struct YAMLKeyLookupTests {
  static let node = YAMLNode.mapping([
    YAMLPair(key: "kind", value: .string("Cluster")),
    YAMLPair(key: "\u{212A}ind", value: .string("kelvin")),  // KELVIN SIGN, equivalent to "K"
    YAMLPair(key: "caf\u{E9}", value: .string("one code point")),
    YAMLPair(key: "cafe\u{301}", value: .string("two code points")),
    YAMLPair(key: "aVeryLongKeyOfMoreThanFifteenBytes", value: .int(1)),
  ])

  @Test func aKeyIsFoundAsWritten() {
    #expect(Self.node["kind"]?.text == "Cluster")
    #expect(Self.node["aVeryLongKeyOfMoreThanFifteenBytes"]?.intValue == 1)
    #expect(Self.node["aVeryLongKeyOfMoreThanFifteenByte"] == nil)
    #expect(Self.node["Kind"] == nil)
    #expect(Self.node["\u{212A}ind"]?.text == "kelvin")
    #expect(Self.node.pair("\u{212A}ind")?.value.text == "kelvin")
  }

  @Test func equivalentSpellingsAreDifferentKeys() {
    // Swift's `==` calls these equal; kops (bytes) and hk's parser do not.
    #expect("caf\u{E9}" == "cafe\u{301}")
    #expect(Self.node["caf\u{E9}"]?.text == "one code point")
    #expect(Self.node["cafe\u{301}"]?.text == "two code points")
    var n = Self.node
    n.remove("caf\u{E9}")
    #expect(n["cafe\u{301}"]?.text == "two code points")
    #expect(n["caf\u{E9}"] == nil)
    n.set("cafe\u{301}", .string("replaced"))
    #expect(n["cafe\u{301}"]?.text == "replaced")
    #expect(n.pairs?.count == 4)
  }
}
