import Config
import HKTestSupport
import Model
import Testing

/// `YAMLParser.matches` (a recorded object's text against the desired tree, without building
/// the parse) against the parse itself: it may answer true only when the parse gives exactly one
/// document that is the tree node for node (same structure and key order, scalars with the same
/// text, tag and value), and for text hk's emitter wrote it must answer as the parse does.
@Suite struct YAMLMatchTests {
  /// What `matches` promises, decided on the parse: one document, node for node the tree.
  static func parseIsTree(_ text: String, _ tree: YAMLNode, limits: YAMLLimits = .default) -> Bool {
    guard let docs = try? YAMLParser.parse(text, file: "match-test", limits: limits), docs.count == 1 else { return false }
    return same(docs[0], tree)
  }

  static func same(_ a: YAMLNode, _ b: YAMLNode) -> Bool {
    switch (a.content, b.content) {
    case (.scalar(let x), .scalar(let y)):
      return x.text == y.text && x.tag == y.tag && x.value == y.value
    case (.sequence(let x), .sequence(let y)):
      return x.count == y.count && zip(x, y).allSatisfy { same($0, $1) }
    case (.mapping(let x), .mapping(let y)):
      return x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && same($0.value, $1.value) }
    default:
      return false
    }
  }

  struct Generator {
    var rng: SplitMix64
    static let texts = [
      "", "a", "name", "nodes", "1", "01", "0x10", "1.5", "1e3", ".inf", "true", "True", "yes", "no", "null", "~", "a: b", "#c", "- x",
      "x #y", "multi\nline\n", "two\nlines", " lead", "trail ", "é ü", "\"q\"", "it's", "corp.local,10.2.0.0/18", "s3://b/k", "*", "&a",
      "[1]", "{}", "@x", "`x", "%x", "k8s.io/role: node", "tab\there", "\u{85}", "\u{2028}", "👉",
    ]
    static let keys = ["a", "b", "name", "spec", "1", "true", "null", "x y", "k8s.io/cluster", "é", "~", "-k", ""]

    mutating func pick<T>(_ a: [T]) -> T { a[Int(rng.next() % UInt64(a.count))] }

    mutating func scalar() -> YAMLNode {
      let text = pick(Self.texts)
      let style = pick([ScalarStyle.plain, .plain, .plain, .singleQuoted, .doubleQuoted, .literal, .folded])
      let tag: String? = rng.next() % 12 == 0 ? pick(["tag:yaml.org,2002:str", "tag:yaml.org,2002:int", "!custom"]) : nil
      return YAMLNode(.scalar(YAMLScalar(text, style: style, tag: tag)))
    }

    mutating func node(_ depth: Int) -> YAMLNode {
      switch rng.next() % (depth > 3 ? 2 : 6) {
      case 0, 1: return scalar()
      case 2:
        // A named list, as kops's subnets and hooks are.
        return .sequence(
          (0..<Int(rng.next() % 4)).map { i in
            .mapping([YAMLPair(key: "name", value: .string("item-\(i)")), YAMLPair(key: pick(Self.keys), value: node(depth + 1))])
          })
      case 3: return .sequence((0..<Int(rng.next() % 4)).map { _ in node(depth + 1) })
      default:
        var pairs: [YAMLPair] = []
        for _ in 0..<Int(rng.next() % 5) {
          let key = pick(Self.keys)
          // Mostly unique keys (as loaded trees have), sometimes a duplicate the parse refuses.
          if pairs.contains(where: { $0.key == key }) && rng.next() % 8 != 0 { continue }
          pairs.append(YAMLPair(key: key, value: node(depth + 1)))
        }
        return .mapping(pairs)
      }
    }
  }

  /// Emitted trees (what a recorded revision holds) match exactly when the parse gives them back.
  @Test func emittedTreesMatchAsTheParseSays() {
    var g = Generator(rng: SplitMix64(seed: 0x7EE_3A7C))
    var matched = 0
    for _ in 0..<3000 {
      let tree = g.node(0)
      let text = YAMLEmitter.emit(tree)
      let expected = Self.parseIsTree(text, tree)
      #expect(YAMLParser.matches(text, tree) == expected, "\(text)")
      #expect(YAMLParser.matches(Array(text.utf8), tree) == expected, "\(text)")
      if expected { matched += 1 }
    }
    // The corpus is not trivially all-true or all-false.
    #expect(matched > 300 && matched < 2900, "\(matched)")
  }

  /// Edited texts (a byte changed, a line dropped or doubled, a second document, an anchor and
  /// alias, another tree) never match unless the parse gives the tree.
  @Test func editedTextsNeverMatchWrongly() {
    var g = Generator(rng: SplitMix64(seed: 0xED_17ED))
    let edits: [String] = ["x", ":", " ", "\n", "-", "\"", "'", "#", "&a ", "*a", "---\n", "\t", "é"]
    for _ in 0..<3000 {
      let tree = g.node(0)
      var bytes = Array(YAMLEmitter.emit(tree).utf8)
      switch g.rng.next() % 5 {
      case 0 where !bytes.isEmpty:
        bytes.insert(contentsOf: Array(g.pick(edits).utf8), at: Int(g.rng.next() % UInt64(bytes.count)))
      case 1 where !bytes.isEmpty:
        bytes.remove(at: Int(g.rng.next() % UInt64(bytes.count)))
      case 2:
        var lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let i = Int(g.rng.next() % UInt64(lines.count))
        if g.rng.next() % 2 == 0 { lines.remove(at: i) } else { lines.insert(lines[i], at: i) }
        bytes = Array(lines.joined(separator: "\n").utf8)
      case 3:
        bytes += Array("---\n".utf8) + bytes
      default:
        bytes = Array(YAMLEmitter.emit(g.node(0)).utf8)
      }
      let text = String(decoding: bytes, as: UTF8.self)
      if YAMLParser.matches(text, tree) {
        #expect(Self.parseIsTree(text, tree), "\(text)")
      }
    }
  }

  @Test func whatTheParseRefusesNeverMatches() {
    let tree = YAMLNode.mapping([
      YAMLPair(key: "a", value: .mapping([YAMLPair(key: "b", value: .mapping([YAMLPair(key: "c", value: .string("d"))]))]))
    ])
    let text = YAMLEmitter.emit(tree)
    #expect(YAMLParser.matches(text, tree))
    // Deeper than the limit, more nodes than the limit, more bytes than the limit.
    for limits in [YAMLLimits(maxDepth: 2), YAMLLimits(maxNodes: 5), YAMLLimits(maxBytes: 4)] {
      #expect(!Self.parseIsTree(text, tree, limits: limits))
      #expect(!YAMLParser.matches(text, tree, limits: limits))
    }
    // A duplicate key, an alias, two documents, an empty text, a syntax error.
    let duplicate = YAMLNode.mapping([YAMLPair(key: "a", value: .string("1")), YAMLPair(key: "a", value: .string("1"))])
    #expect(!YAMLParser.matches(YAMLEmitter.emit(duplicate), duplicate))
    let list = YAMLNode.mapping([YAMLPair(key: "x", value: .string("v")), YAMLPair(key: "y", value: .string("v"))])
    #expect(YAMLParser.matches("x: v\ny: v\n", list))
    #expect(!YAMLParser.matches("x: &a v\ny: *a\n", list))
    #expect(!YAMLParser.matches("x: v\ny: v\n---\nx: v\ny: v\n", list))
    #expect(!YAMLParser.matches("", list))
    #expect(!YAMLParser.matches("x: v\ny: [v\n", list))
    // Another order of the same keys is another tree here (the parse keeps file order).
    #expect(!YAMLParser.matches("y: v\nx: v\n", list))
  }

  /// A style the emitter normalises matches only when the value read back is the tree's.
  @Test func styleOnlyDifferences() {
    func tree(_ text: String, _ style: ScalarStyle) -> YAMLNode {
      .mapping([YAMLPair(key: "k", value: YAMLNode(.scalar(YAMLScalar(text, style: style))))])
    }
    #expect(YAMLParser.matches("k: corp.local,10.0.0.0/8\n", tree("corp.local,10.0.0.0/8", .doubleQuoted)))
    #expect(YAMLParser.matches("k: 'a'\n", tree("a", .doubleQuoted)))
    #expect(!YAMLParser.matches("k: 4011\n", tree("4011", .doubleQuoted)))
    #expect(!YAMLParser.matches("k: \"4011\"\n", tree("4011", .plain)))
    #expect(!YAMLParser.matches("k: null\n", tree("null", .singleQuoted)))
    #expect(YAMLParser.matches("k: \"4011\"\n", tree("4011", .singleQuoted)))
  }
}
