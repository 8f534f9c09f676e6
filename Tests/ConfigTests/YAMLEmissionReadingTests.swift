import Foundation
import HKTestSupport
import Testing

@testable import Config
@testable import Model

/// `YAMLEmitter.read(_:asEmissionOf:…)` (a recorded object's text read as the emitter's writing
/// of the desired tree, without libyaml) inside `YAMLParser.matching`: whenever it answers, the
/// answer is the one libyaml's events give (`matchingByEvents`), the same tree, scalar for
/// scalar (text, style, tag, mark), the same count; when it declines, libyaml decides as before.
@Suite struct YAMLEmissionReadingTests {
  static func read(_ text: String, _ tree: YAMLNode, max: Int, limits: YAMLLimits = .default) -> YAMLEmitter.EmissionReading {
    var text = text
    return text.withUTF8 {
      YAMLEmitter.read($0, asEmissionOf: tree, maxChangedScalars: max, maxDepth: limits.maxDepth, maxNodes: limits.maxNodes)
    }
  }

  /// What the reading answered: "read", "too many" or "unknown".
  static func kind(_ r: YAMLEmitter.EmissionReading) -> String {
    switch r {
    case .read: "read"
    case .tooManyChanges: "too many"
    case .unknown: "unknown"
    }
  }

  /// `matching` (with the reading) against libyaml's answer alone; whether the reading answered.
  @discardableResult
  static func check(
    _ text: String, _ tree: YAMLNode, max: Int, limits: YAMLLimits = .default, sourceLocation: SourceLocation = #_sourceLocation
  )
    -> String
  {
    let fast = YAMLParser.matching(text, tree, maxChangedScalars: max, limits: limits)
    let slow = YAMLParser.matchingByEvents(text, tree, maxChangedScalars: max, limits: limits)
    let reading = read(text, tree, max: max, limits: limits)
    switch (fast, slow) {
    case (nil, nil): break
    case (let f?, let s?):
      #expect(f.changedScalars == s.changedScalars, "\(text)", sourceLocation: sourceLocation)
      #expect(YAMLTrees.identical(f.tree, s.tree), "\(text)", sourceLocation: sourceLocation)
      #expect(f.tree == s.tree, "\(text)", sourceLocation: sourceLocation)
      #expect(YAMLEmitter.emit(f.tree) == YAMLEmitter.emit(s.tree), "\(text)", sourceLocation: sourceLocation)
    default:
      Issue.record(
        "reading \(kind(reading)): \(fast == nil ? "nil" : "a tree") where libyaml gives \(slow == nil ? "nil" : "a tree"): \(text)",
        sourceLocation: sourceLocation)
    }
    // When it answers, so does `matching`, the same way.
    switch reading {
    case .read(let patches):
      #expect(fast?.changedScalars == patches.count, "\(text)", sourceLocation: sourceLocation)
    case .tooManyChanges:
      #expect(fast == nil, "\(text)", sourceLocation: sourceLocation)
    case .unknown: break
    }
    return kind(reading)
  }

  /// Trees of kops's shapes with every scalar kind, style and tag, keys that need quoting,
  /// multi-line and non-ASCII text, empty collections, now and then a duplicate key.
  struct Generator {
    var rng: SplitMix64
    static let plainTexts = [
      "a", "nodes", "m5.large", "t3.medium", "1.28.5", "v1.28.5", "ap-northeast-1a", "10.0.0.0/16", "corp.local,10.2.0.0/18",
      "s3://bucket/key", "arn:aws:iam::123456789012:role/x", "http://proxy:3128", "private", "Internal", "it's", "a\"b", "a b",
    ]
    static let scalars: [(String, ScalarStyle)] = [
      ("1", .plain), ("0", .plain), ("-3", .plain), ("0x1F", .plain), ("1.5", .plain), (".inf", .plain), ("1e3", .plain),
      ("true", .plain), ("false", .plain), ("True", .plain), ("FALSE", .plain), ("null", .plain), ("~", .plain), ("Null", .plain),
      ("", .plain), ("", .doubleQuoted), ("3128", .doubleQuoted), ("true", .singleQuoted), ("null", .doubleQuoted), ("yes", .plain),
      ("line1\nline2\n", .literal), ("{\n  \"a\": 1\n}", .literal), ("a\n\n", .literal), ("\tfirst\nsecond\n", .literal),
      ("x\n\ty\n", .literal), ("folded text\n", .folded), ("tab\there", .doubleQuoted), ("back\\slash", .plain),
      ("nul\u{0}", .doubleQuoted),
      ("del\u{7F}", .plain), ("é ü", .plain), ("👉", .doubleQuoted), ("a\u{85}b", .plain), ("\u{FFFF}", .doubleQuoted),
    ]
    static let keys = [
      "name", "spec", "kind", "machineType", "minSize", "k8s.io/role/node", "1", "true", "null", "x y", "", "~", "-k", "a: b", "k\"q",
      "tab\tkey", "é", "#c", "key:", "...", "%x",
    ]

    mutating func pick<T>(_ a: [T]) -> T { a[Int(rng.next() % UInt64(a.count))] }
    mutating func chance(_ n: UInt64) -> Bool { rng.next() % n == 0 }

    mutating func scalar() -> YAMLNode {
      let tag: String? = chance(20) ? pick(["tag:yaml.org,2002:str", "tag:yaml.org,2002:int", "!custom"]) : nil
      switch rng.next() % 4 {
      case 0:
        let (t, s) = pick(Self.scalars)
        return YAMLNode(.scalar(YAMLScalar(t, style: s, tag: tag)), mark: Mark(file: "g", line: Int(rng.next() % 100), column: 1))
      case 1:
        let t = pick(TrickyValues.strings)
        return YAMLNode(.scalar(YAMLScalar(t, style: pick([.plain, .singleQuoted, .doubleQuoted, .literal]), tag: tag)))
      default:
        return .string(pick(Self.plainTexts), mark: Mark(file: "g", line: Int(rng.next() % 100), column: 3))
      }
    }

    mutating func key() -> String {
      chance(3) ? pick(chance(2) ? Self.keys : TrickyValues.strings) : "key\(rng.next() % 40)"
    }

    mutating func node(_ depth: Int) -> YAMLNode {
      switch rng.next() % (depth > 3 ? 2 : 7) {
      case 0, 1: return scalar()
      case 2:
        return .sequence(
          (0..<Int(rng.next() % 4)).map { i in
            .mapping([YAMLPair(key: "name", value: .string("item-\(i)")), YAMLPair(key: key(), value: node(depth + 1))])
          })
      case 3: return .sequence((0..<Int(rng.next() % 4)).map { _ in node(depth + 1) })
      default: return mapping(depth)
      }
    }

    mutating func mapping(_ depth: Int) -> YAMLNode {
      var pairs: [YAMLPair] = []
      for _ in 0..<Int(rng.next() % 6) {
        let k = key()
        if pairs.contains(where: { $0.key == k }) && !chance(8) { continue }
        pairs.append(YAMLPair(key: k, keyMark: Mark(file: "g", line: pairs.count + 1, column: 1), value: node(depth + 1)))
      }
      return .mapping(pairs)
    }

    /// `tree` with some scalars replaced by others.
    mutating func edited(_ tree: YAMLNode, rate: UInt64) -> YAMLNode {
      switch tree.content {
      case .scalar: return chance(rate) ? scalar() : tree
      case .sequence(let items): return YAMLNode(.sequence(items.map { edited($0, rate: rate) }), mark: tree.mark)
      case .mapping(let pairs):
        return YAMLNode(
          .mapping(pairs.map { YAMLPair(key: $0.key, keyMark: $0.keyMark, value: edited($0.value, rate: rate)) }), mark: tree.mark)
      }
    }
  }

  /// The emitter's own text of a tree is read as that tree (no change) whenever every scalar
  /// and key is one the reading takes, and libyaml agrees on every text either way.
  @Test func emittedTreesReadAsThemselves() {
    var g = Generator(rng: SplitMix64(seed: 0x5EED_E417))
    var counts: [String: Int] = [:]
    for _ in 0..<4000 {
      let tree = g.mapping(0)
      let text = YAMLEmitter.emit(tree)
      for max in [0, 32] { counts[Self.check(text, tree, max: max), default: 0] += 1 }
    }
    #expect(counts["read", default: 0] > 2000, "\(counts)")
    #expect(counts["unknown", default: 0] > 500, "\(counts)")
  }

  /// Trees of plain ASCII scalars only (what recorded objects hold): always read, unchanged.
  @Test func faithfulTreesAreAlwaysRead() {
    var g = Generator(rng: SplitMix64(seed: 0xFA17_4F11))
    func faithful(_ depth: Int) -> YAMLNode {
      var pairs: [YAMLPair] = []
      for i in 0..<Int(g.rng.next() % 6) {
        let value: YAMLNode
        switch g.rng.next() % 8 {
        case 0 where depth < 4: value = faithful(depth + 1)
        case 1 where depth < 4: value = .sequence((0..<Int(g.rng.next() % 3)).map { _ in faithful(depth + 1) })
        case 2: value = .sequence((0..<Int(g.rng.next() % 3)).map { _ in .string(g.pick(Generator.plainTexts)) })
        case 3: value = .int(Int64(bitPattern: g.rng.next()) >> 40)
        case 4: value = .bool(g.chance(2))
        case 5: value = .null
        case 6: value = .string(g.pick(["a\nb", "{\n  \"x\": [1]\n}\n", "x\n\n", "tab\there", "\"q\"", "", "3128", "yes", "a: b"]))
        default: value = .string(g.pick(Generator.plainTexts))
        }
        pairs.append(YAMLPair(key: "k\(i)", value: value))
      }
      return .mapping(pairs)
    }
    for _ in 0..<3000 {
      let tree = faithful(0)
      let text = YAMLEmitter.emit(tree)
      guard case .read(let patches) = Self.read(text, tree, max: 0) else {
        Issue.record("not read: \(text)")
        continue
      }
      #expect(patches.isEmpty)
      Self.check(text, tree, max: 0)
    }
  }

  /// Text the emitter wrote from an edited tree, read against the original: the changed values
  /// are read as libyaml reads them, or the reading declines.
  @Test func editedTreesReadAsLibyamlReadsThem() {
    var g = Generator(rng: SplitMix64(seed: 0xED17_0DD5))
    var counts: [String: Int] = [:]
    for round in 0..<4000 {
      let tree = g.mapping(0)
      let recorded = g.edited(tree, rate: round % 2 == 0 ? 3 : 12)
      let text = YAMLEmitter.emit(recorded)
      for max in [0, 1, 2, 32] { counts[Self.check(text, tree, max: max), default: 0] += 1 }
    }
    #expect(counts["read", default: 0] > 3000, "\(counts)")
    #expect(counts["too many", default: 0] > 300, "\(counts)")
  }

  /// Texts edited by a byte here and there: whatever the reading answers is libyaml's answer.
  @Test func editedTextsReadAsLibyamlReadsThem() {
    var g = Generator(rng: SplitMix64(seed: 0xB17E_5ED1))
    let edits: [String] = ["x", ":", " ", "\n", "-", "\"", "'", "#", "&a ", "*a", "---\n", "\t", "é", "!!str ", "\\", "|", "  ", "~"]
    for _ in 0..<4000 {
      let tree = g.mapping(0)
      var bytes = Array(YAMLEmitter.emit(tree).utf8)
      for _ in 0..<(1 + Int(g.rng.next() % 2)) where !bytes.isEmpty {
        let at = Int(g.rng.next() % UInt64(bytes.count))
        if g.chance(2) { bytes.insert(contentsOf: Array(g.pick(edits).utf8), at: at) } else { bytes.remove(at: at) }
      }
      let text = String(decoding: bytes, as: UTF8.self)
      for max in [0, 32] { Self.check(text, tree, max: max) }
    }
  }

  /// The words decided without `ScalarShape` are written plain exactly when the emitter says so.
  @Test func plainWordsAsTheEmitterDecides() {
    var rng = SplitMix64(seed: 0x3A1D_0C0D)
    let bytes = Array("aAzZnNtTfFyYoO019._/-:~ #\"".utf8)
    var words = TrickyValues.strings + Generator.keys + Generator.plainTexts
    words += ["y", "n", "on", "ON", "Off", "yes", "No", "null", "Null", "nULL", "true", "TRUE", "False", "nan", "inf", "x", "a.b-c_d/e"]
    for _ in 0..<20000 {
      let n = 1 + Int(rng.next() % 7)
      words.append(String(decoding: (0..<n).map { _ in bytes[Int(rng.next() % UInt64(bytes.count))] }, as: UTF8.self))
    }
    var decided = 0
    for w in words {
      var w = w
      let plain = w.withUTF8 { EmissionReader.plainWord($0) }
      if let plain {
        decided += 1
        #expect(plain == YAMLEmitter.isPlainSafe(w), "\(w)")
      }
    }
    #expect(decided > 2000, "\(decided)")
  }

  /// Each rule of the scalars read from the text, at its boundary, against libyaml.
  @Test func recordedScalarShapes() {
    let tree = YAMLNode.mapping([
      YAMLPair(key: "a", value: .string("x")), YAMLPair(key: "l", value: .sequence([.string("y")])),
      YAMLPair(key: "b", value: .int(1)),
    ])
    let values = [
      "x", "y", "-1", "-", "-x", "--", "- x", "a:b", "a: b", "a:", ":a", "a #b", "a#b", "#b", "\"a b\"", "\"a\\\"b\"", "\"a\\nb\"",
      "\"\"", "\"", "\"a\"b\"", "'a'", "~", "null", "Null", "NULL", "true", "True", "1", "01", "0x1", "1.5", ".inf", "[1]", "{}",
      "&a x", "*a", "!t x", "|", "|-", ">", "%x", "@x", "`x", "?x", "? x", "a  b", "a\tb", "é", "x ", " x", "...", "---", "<<", "=",
      "a,b", "a]", "\"a\" #c", "x # c", "1:2", "12:", "a'b", "\"a'b\"", "\"\u{7F}\"", "\"\u{1}\"",
    ]
    var read = 0
    for v in values {
      for (i, text) in ["a: \(v)\nl:\n- y\nb: 1\n", "a: x\nl:\n- \(v)\nb: 1\n", "a: x\nl:\n- y\nb: \(v)\n"].enumerated() {
        for max in [0, i] where Self.check(text, tree, max: max) == "read" { read += 1 }
      }
    }
    #expect(read > 50, "\(read)")
    // A scalar followed by a more indented line is libyaml's (a continuation or an error).
    Self.check("a: x\n  z\nl:\n- y\nb: 1\n", tree, max: 1)
    Self.check("a: q\n  z\nl:\n- y\nb: 1\n", tree, max: 1)
    // Multi-line text whose first line starts with a tab is written double quoted (libyaml
    // refuses a tab where a block's first line sets its indentation), and read as itself.
    let tab = YAMLNode.mapping([YAMLPair(key: "p", value: YAMLNode(.scalar(YAMLScalar("\tx\ny\n", style: .literal))))])
    #expect(YAMLEmitter.emit(tab) == "p: \"\\tx\\ny\\n\"\n")
    #expect(Self.check(YAMLEmitter.emit(tab), tab, max: 0) == "read")
    #expect(YAMLParser.matching(YAMLEmitter.emit(tab), tab, maxChangedScalars: 0)?.changedScalars == 0)
  }

  /// The limits the parse enforces: beyond any of them the reading declines (libyaml's answer
  /// is then nil); at them it reads.
  @Test func limits() {
    // Nodes: a mapping of three pairs is 1 + 3 keys + 3 values.
    let flat = YAMLNode.mapping((0..<3).map { YAMLPair(key: "k\($0)", value: .string("v")) })
    let flatText = YAMLEmitter.emit(flat)
    #expect(Self.check(flatText, flat, max: 0, limits: YAMLLimits(maxNodes: 7)) == "read")
    #expect(Self.check(flatText, flat, max: 0, limits: YAMLLimits(maxNodes: 6)) == "unknown")
    #expect(YAMLParser.matching(flatText, flat, maxChangedScalars: 0, limits: YAMLLimits(maxNodes: 6)) == nil)
    // Depth: three nested mappings.
    let deep = YAMLNode.mapping([
      YAMLPair(key: "a", value: .mapping([YAMLPair(key: "b", value: .mapping([YAMLPair(key: "c", value: .string("d"))]))]))
    ])
    let deepText = YAMLEmitter.emit(deep)
    #expect(Self.check(deepText, deep, max: 0, limits: YAMLLimits(maxDepth: 3)) == "read")
    #expect(Self.check(deepText, deep, max: 0, limits: YAMLLimits(maxDepth: 2)) == "unknown")
    #expect(YAMLParser.matching(deepText, deep, maxChangedScalars: 0, limits: YAMLLimits(maxDepth: 2)) == nil)
    // Bytes: decided before any reading.
    #expect(YAMLParser.matching(flatText, flat, maxChangedScalars: 0, limits: YAMLLimits(maxBytes: flatText.utf8.count - 1)) == nil)
    #expect(YAMLParser.matching(flatText, flat, maxChangedScalars: 0, limits: YAMLLimits(maxBytes: flatText.utf8.count)) != nil)
    // Keys: libyaml finds the `:` of a key written in 1024 bytes, plain or double quoted.
    for length in [1023, 1024, 1025, 1100] {
      for key in [String(repeating: "k", count: length), String(repeating: "k", count: length - 3) + " "] {
        let tree = YAMLNode.mapping([YAMLPair(key: key, value: .string("v"))])
        let text = YAMLEmitter.emit(tree)
        #expect(text.utf8.count == length + 4)
        #expect(Self.check(text, tree, max: 0) == (length <= 1024 ? "read" : "unknown"), "\(length)")
      }
    }
    // A duplicate key: the parse refuses it, the reading declines.
    let dup = YAMLNode.mapping([YAMLPair(key: "a", value: .string("1")), YAMLPair(key: "a", value: .string("1"))])
    #expect(Self.check(YAMLEmitter.emit(dup), dup, max: 0) == "unknown")
    let many = YAMLNode.mapping((0..<100).map { YAMLPair(key: "k\($0 % 99)", value: .string("v")) })
    #expect(Self.check(YAMLEmitter.emit(many), many, max: 0) == "unknown")
    let manyUnique = YAMLNode.mapping((0..<100).map { YAMLPair(key: "k\($0)", value: .string("v")) })
    #expect(Self.check(YAMLEmitter.emit(manyUnique), manyUnique, max: 0) == "read")
    // More changed values than allowed: nil, decided by the reading.
    #expect(Self.check("k0: w\nk1: w\nk2: v\n", flat, max: 1) == "too many")
    #expect(Self.check("k0: w\nk1: w\nk2: v\n", flat, max: 2) == "read")
  }

  /// The samples and kops's fixtures (when present): every document's emitter text against it.
  @Test func samplesAndFixtures() throws {
    let root = packageRoot()
    var files: [String] = []
    for dir in [root + "/environments", root + "/examples", root + "/../shared/kops-fixtures"] {
      guard let walker = FileManager.default.enumerator(atPath: dir) else { continue }
      for case let rel as String in walker where rel.hasSuffix(".yaml") || rel.hasSuffix(".yml") { files.append(dir + "/" + rel) }
    }
    #expect(files.count >= 3)
    var g = Generator(rng: SplitMix64(seed: 0xF1C7_0BE5))
    var counts: [String: Int] = [:]
    for f in files {
      guard let bytes = try? FileReader.read(f), let docs = try? YAMLParser.parse(bytes, file: f) else { continue }
      for doc in docs where doc.isMapping {
        let text = YAMLEmitter.emit(doc)
        counts[Self.check(text, doc, max: 0), default: 0] += 1
        Self.check(YAMLEmitter.emit(g.edited(doc, rate: 10)), doc, max: 32)
      }
    }
    #expect(counts["read", default: 0] > 0, "\(counts)")
  }
}
