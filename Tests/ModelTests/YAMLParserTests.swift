import Config
import Model
import Testing

@Suite struct YAMLParserTests {
  static func parse(_ text: String, limits: YAMLLimits = .default) throws -> YAMLNode {
    let docs = try YAMLParser.parse(text, file: "f.yaml", limits: limits)
    return try #require(docs.first)
  }

  /// The diagnostics of a parse that must fail.
  static func failure(_ text: String, limits: YAMLLimits = .default) -> [Diagnostic] {
    do {
      _ = try YAMLParser.parse(text, file: "f.yaml", limits: limits)
      return []
    } catch {
      return error.diagnostics
    }
  }

  @Test func marksAreOneBasedLineAndColumn() throws {
    let root = try Self.parse("a: 1\nb:\n  c: [x, y]\n  d:\n  - z\n")
    #expect(root.mark == Mark(file: "f.yaml", line: 1, column: 1))
    #expect(root["a"]?.mark.description == "f.yaml:1:4")
    #expect(root.pair("b")?.keyMark.description == "f.yaml:2:1")
    let b = try #require(root["b"])
    #expect(b.mark.description == "f.yaml:3:3")
    #expect(b.pair("c")?.keyMark.description == "f.yaml:3:3")
    #expect(b["c"]?.mark.description == "f.yaml:3:6")
    #expect(b["c"]?.items?.map(\.mark.description) == ["f.yaml:3:7", "f.yaml:3:10"])
    #expect(b["d"]?.items?.first?.mark.description == "f.yaml:5:5")
  }

  @Test func columnsCountUnicodeScalars() throws {
    let root = try Self.parse("ключ: 値段\nx: \"👉y\"\nz: 1\n")
    #expect(root["ключ"]?.mark.description == "f.yaml:1:7")
    #expect(root["x"]?.stringValue == "👉y")
    #expect(root.pair("z")?.keyMark.description == "f.yaml:3:1")
  }

  @Test func mappingOrderIsKept() throws {
    let root = try Self.parse("zebra: 1\napple: 2\nmango: 3\n")
    #expect(root.pairs?.map(\.key) == ["zebra", "apple", "mango"])
  }

  @Test func quotedNumbersStayStrings() throws {
    let root = try Self.parse("a: \"3128\"\nb: '3128'\nc: 3128\nd: |\n  3128\n")
    #expect(root["a"]?.stringValue == "3128")
    #expect(root["a"]?.intValue == nil)
    #expect(root["b"]?.stringValue == "3128")
    #expect(root["c"]?.intValue == 3128)
    #expect(root["c"]?.stringValue == nil)
    #expect(root["c"]?.text == "3128")
    #expect(root["d"]?.stringValue == "3128\n")
    #expect(root["a"] != root["c"])
  }

  @Test func coreSchemaResolution() throws {
    let root = try Self.parse(
      "t: true\nf: False\nn: null\nt2: ~\ne:\ni: -12\nh: 0x1F\no: 0o17\nx: 1.5\ny: yes\nv: 1.28.4\ninf: .inf\n")
    #expect(root["t"]?.boolValue == true)
    #expect(root["f"]?.boolValue == false)
    #expect(root["n"]?.isNull == true)
    #expect(root["t2"]?.isNull == true)
    #expect(root["e"]?.isNull == true)
    #expect(root["i"]?.intValue == -12)
    #expect(root["h"]?.intValue == 31)
    #expect(root["o"]?.intValue == 15)
    #expect(root["x"]?.scalarValue == .float(1.5))
    #expect(root["y"]?.stringValue == "yes")  // YAML 1.2: not a boolean; the validator flags it
    #expect(root["v"]?.stringValue == "1.28.4")
    #expect(root["inf"]?.scalarValue == .float(.infinity))
  }

  @Test func explicitTags() throws {
    let root = try Self.parse("a: !!str 123\nb: !!int \"42\"\nc: !!bool true\nd: !custom value\ne: !!null ''\n")
    #expect(root["a"]?.stringValue == "123")
    #expect(root["a"]?.scalar?.tag == "tag:yaml.org,2002:str")
    #expect(root["b"]?.intValue == 42)
    #expect(root["c"]?.boolValue == true)
    #expect(root["d"]?.scalar?.tag == "!custom")
    #expect(root["d"]?.stringValue == "value")
    #expect(root["e"]?.isNull == true)
  }

  @Test func scalarStyles() throws {
    let root = try Self.parse("p: plain\ns: 'single'\nd: \"double\"\nl: |\n  lit\nf: >\n  fold\n  ed\n")
    #expect(root["p"]?.scalar?.style == .plain)
    #expect(root["s"]?.scalar?.style == .singleQuoted)
    #expect(root["d"]?.scalar?.style == .doubleQuoted)
    #expect(root["l"]?.scalar?.style == .literal)
    #expect(root["f"]?.scalar?.style == .folded)
    #expect(root["f"]?.stringValue == "fold ed\n")
  }

  @Test func multipleDocumentsAndEmptyOnes() throws {
    let docs = try YAMLParser.parse("a: 1\n---\n---\nb: 2\n", file: "f.yaml")
    #expect(docs.count == 3)
    #expect(docs[1].isNull)
    #expect(docs[2]["b"]?.intValue == 2)
    #expect(try YAMLParser.parse("", file: "f.yaml").isEmpty)
  }

  @Test func aliasesCopyTheAnchoredNodeWithTheAliasMark() throws {
    let root = try Self.parse("base: &b {x: 1, y: [2]}\ncopy: *b\n")
    #expect(root["copy"] == root["base"])
    #expect(root["copy"]?.mark.description == "f.yaml:2:7")
  }

  @Test func duplicateKeyIsRefusedAtTheSecondKey() {
    let d = Self.failure("spec:\n  a: 1\n  b: 2\n  a: 3\n")
    #expect(d.first?.rule == "yaml-duplicate-key")
    #expect(d.first?.location == Diagnostic.Location(file: "f.yaml", line: 4, column: 3))
    #expect(d.first?.message.contains("first at line 2, column 3") == true)
  }

  @Test func duplicateKeyInALargeMapping() {
    let text = (0..<40).map { "k\($0): \($0)" }.joined(separator: "\n") + "\nk7: again\n"
    let d = Self.failure(text)
    #expect(d.first?.rule == "yaml-duplicate-key")
    #expect(d.first?.location?.line == 41)
  }

  /// Duplicate checks by key fingerprints (up to 64 keys) and by a set of keys (beyond): the
  /// same refusals on both sides of the limit, keys of nested mappings kept apart, a key spelled
  /// differently (quoted, escaped, an alias) still the same key.
  @Test func duplicateKeysAcrossTheFingerprintLimit() throws {
    for count in [1, 2, 11, 12, 13, 63, 64, 65, 66, 200] {
      let keys = (0..<count).map { "key-\($0)-of-a-rather-long-name" }
      // Each key's value a nested mapping reusing the outer keys: no duplicate across levels.
      let unique = keys.map { "\($0):\n  \($0): 1\n  inner: {\(keys[0]): 2}" }.joined(separator: "\n") + "\n"
      let root = try Self.parse(unique)
      #expect(root.pairs?.map(\.key) == keys)
      for dup in Set([0, count / 2, count - 1]) {
        let d = Self.failure(unique + "\"\(keys[dup])\": again\n")
        #expect(d.first?.rule == "yaml-duplicate-key")
        #expect(d.first?.location?.line == 3 * count + 1)
        #expect(d.first?.message.contains("first at line \(3 * dup + 1), column 1") == true)
      }
    }
    #expect(Self.failure("a: 1\n\"\\x61\": 2\n").first?.rule == "yaml-duplicate-key")
    #expect(Self.failure("&k a: 1\nb: 2\n*k : 3\n").first?.rule == "yaml-duplicate-key")
    #expect(Self.failure("x: {'': 1, \"\": 2}\n").first?.rule == "yaml-duplicate-key")
    #expect(try Self.parse("a: {a: {a: 1}, b: 2}\nb: {a: 1}\n").pairs?.count == 2)
  }

  @Test func complexKeysAreRefused() {
    #expect(Self.failure("? [a, b]\n: c\n").first?.rule == "yaml-complex-key")
    #expect(Self.failure("{a: 1}: c\n").first?.rule == "yaml-complex-key")
  }

  @Test func undefinedAliasIsRefused() {
    let d = Self.failure("a: *nope\n")
    #expect(d.first?.rule == "yaml-alias")
    #expect(d.first?.location == Diagnostic.Location(file: "f.yaml", line: 1, column: 4))
  }

  @Test func limits() {
    let small = YAMLLimits(maxBytes: 10, maxDepth: 3, maxNodes: 20)
    #expect(Self.failure("a: 123456789012\n", limits: small).first?.rule == "yaml-size")
    let shallow = YAMLLimits(maxBytes: 1000, maxDepth: 3, maxNodes: 1000)
    let depth = Self.failure("a: {b: {c: {d: 1}}}\n", limits: shallow)
    #expect(depth.first?.rule == "yaml-depth")
    #expect(depth.first?.location?.column == 12)
    let few = YAMLLimits(maxBytes: 1000, maxDepth: 10, maxNodes: 20)
    #expect(Self.failure("a: &a [1, 2, 3, 4, 5]\nb: [*a, *a, *a]\n", limits: few).first?.rule == "yaml-alias-bomb")
  }

  @Test func syntaxErrorsArePositioned() {
    let d = Self.failure("a: 1\nb: [1, 2\nc: 3\n")
    #expect(d.first?.rule == "yaml-syntax")
    #expect((d.first?.location?.line ?? 0) >= 2)
    #expect(d.first?.message.hasPrefix("YAML syntax:") == true)
    let tab = Self.failure("a:\n\tb: 1\n")
    #expect(tab.first?.rule == "yaml-syntax")
    #expect(tab.first?.location?.line == 2)
  }

  @Test func encodingErrorsArePositioned() {
    let bad: [UInt8] = Array("a: 1\nb: x".utf8) + [0xFF] + Array("\n".utf8)
    do {
      _ = try YAMLParser.parse(bad, file: "f.yaml")
      Issue.record("invalid UTF-8 was accepted")
    } catch {
      #expect(error.diagnostics.first?.rule == "yaml-encoding")
      #expect(error.diagnostics.first?.location == Diagnostic.Location(file: "f.yaml", line: 2, column: 5))
    }
    let nul: [UInt8] = Array("a: ".utf8) + [0] + Array("\n".utf8)
    do {
      _ = try YAMLParser.parse(nul, file: "f.yaml")
      Issue.record("a NUL byte was accepted")
    } catch {
      #expect(error.diagnostics.first?.message.contains("control character") == true)
      #expect(error.diagnostics.first?.location == Diagnostic.Location(file: "f.yaml", line: 1, column: 4))
    }
  }

  @Test func semanticEqualityIgnoresStyleOrderAndMarks() throws {
    let a = try Self.parse("x: 1\ny: 'two'\nz: [1.0, true]\n")
    let b = try Self.parse("{z: [1, true], y: two, x: 0x1}\n")
    #expect(a == b)
    let c = try Self.parse("x: 1\ny: two\nz: [1.0, \"true\"]\n")
    #expect(a != c)
  }
}
