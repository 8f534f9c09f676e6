import Config
import HKTestSupport
import Testing

@testable import Model

@Suite struct YAMLEmitterTests {
  static let policy = """
    [
      {
        "Effect": "Allow",
        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": ["arn:aws:logs:*:*:log-group:/k8s/*"]
      }
    ]

    """

  /// Strings a naive emitter would change: YAML 1.1 booleans, numbers, indicators, comments,
  /// whitespace, line breaks, unicode.
  static let tricky: [String] = [
    "yes", "no", "on", "off", "y", "n", "Yes", "NO", "Off", "true", "False", "null", "Null", "~", "", " ", "  ",
    "0.0.0.0/0", "3128", "-3128", "+1", "0", "-0", "012", "0x1F", "0o17", "0b101", "1_000", "1:20", "1e3", "1.30", ".5",
    "1.", ".inf", "-.inf", ".nan", "1.28.4", "v1.28.4", "-", "- a", "-foo", "--", "---", "--- a", "...", "... x", "?", "? a",
    ":", "a:", ":a", "a: b", "a:b", "http://proxy:3128", "a #b", "a#b", "#c", "key: value # comment", "a, b", ",", "[", "]",
    "{", "}", "[a]", "{a: b}", "&a", "*a", "!tag", "!!str", "|", ">", "'", "\"", "''", "%", "@", "`", "<<", "=", "a'b",
    "a\"b", "back\\slash", "tab\there", "\ttab", "trailing ", " leading", "trailing\t", "\n", "a\n", "a\n\n", "\na",
    "a\n\n\n", "line1\nline2", "line1\n  indented\nline3\n", " lead\nline", "trail \nline", "cr\r\nlf", "multi\nline ",
    Self.policy, "{\"json\": [1, 2], \"s\": \"x: y\"}", "ünïcödé", "日本語", "emoji 👉 here", "a\u{2028}b", "a\u{2029}b",
    "a\u{85}b", "\u{FEFF}bom", "nul\u{0}byte", "bell\u{7}", "del\u{7F}", "c1\u{9B}", "é: é",
    String(repeating: "long ", count: 300),
  ]

  static func roundTrip(_ node: YAMLNode) throws -> YAMLNode {
    let text = YAMLEmitter.emit(node)
    let docs = try YAMLParser.parse(text, file: "emitted.yaml")
    #expect(docs.count == 1, "\(text)")
    return try #require(docs.first)
  }

  @Test(arguments: tricky)
  func trickyStringsRoundTrip(value: String) throws {
    let node = YAMLNode.mapping([
      YAMLPair(key: "value", value: .string(value)),
      YAMLPair(key: "list", value: .sequence([.string(value), .mapping([YAMLPair(key: "k", value: .string(value))])])),
    ])
    let back = try Self.roundTrip(node)
    #expect(back == node, "\(YAMLEmitter.emit(node))")
    #expect(back["value"]?.stringValue == value)
    #expect(back["list"]?.items?.first?.stringValue == value)
  }

  @Test(arguments: tricky.filter { !$0.isEmpty && $0.count < 1000 })
  func trickyKeysRoundTrip(key: String) throws {
    let node = YAMLNode.mapping([YAMLPair(key: key, value: .int(1)), YAMLPair(key: "other", value: .bool(true))])
    let back = try Self.roundTrip(node)
    #expect(back.pairs?.map(\.key) == [key, "other"], "\(YAMLEmitter.emit(node))")
  }

  @Test(arguments: tricky)
  func trickyDocumentScalarsRoundTrip(value: String) throws {
    let node = YAMLNode.string(value)
    let back = try Self.roundTrip(node)
    #expect(back.stringValue == value, "\(YAMLEmitter.emit(node))")
  }

  /// A YAML double-quoted scalar escaping everything outside printable ASCII.
  static func escaped(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
      switch u {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case " "..."~": out.unicodeScalars.append(u)
      default:
        let hex = String(u.value, radix: 16)
        out +=
          u.value > 0xFFFF
          ? "\\U" + String(repeating: "0", count: 8 - hex.count) + hex : "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
      }
    }
    return out + "\""
  }

  @Test(arguments: tricky)
  func parsedTrickyStringsRoundTrip(value: String) throws {
    let source = "a: \(Self.escaped(value))\nb:\n- \(Self.escaped(value))\n- k: \(Self.escaped(value))\n"
    let parsed = try #require(try YAMLParser.parse(source, file: "source.yaml").first)
    #expect(parsed["a"]?.stringValue == value)
    let back = try Self.roundTrip(parsed)
    #expect(back == parsed, "\(YAMLEmitter.emit(parsed))")
    #expect(back["a"]?.stringValue == value)
  }

  @Test func builtStringsThatLookLikeOtherTypesAreQuoted() {
    for s in ["yes", "off", "3128", "", "1.30", "null", "a: b"] {
      #expect(YAMLNode.string(s).scalar?.style == .doubleQuoted, "\(s)")
      #expect(YAMLNode.string(s).stringValue == s)
    }
    #expect(YAMLNode.string("proxy.corp.local").scalar?.style == .plain)
  }

  @Test func quotedNumberStaysAString() throws {
    let root = try #require(try YAMLParser.parse("port: \"3128\"\nnum: 3128\n", file: "f.yaml").first)
    let text = YAMLEmitter.emit(root)
    #expect(text == "port: \"3128\"\nnum: 3128\n")
    #expect(try Self.roundTrip(root) == root)
  }

  @Test func kopsBlockStyle() throws {
    let root = try #require(
      try YAMLParser.parse(
        "spec:\n  subnets: [{name: a, cidr: 10.0.0.0/19}, {name: b}]\n  empty: {}\n  none: []\n  networking: {cilium: {}}\n",
        file: "f.yaml"
      ).first)
    let expected = """
      spec:
        subnets:
        - name: a
          cidr: 10.0.0.0/19
        - name: b
        empty: {}
        none: []
        networking:
          cilium: {}

      """
    #expect(YAMLEmitter.emit(root) == expected)
  }

  @Test func nestedSequences() throws {
    let root = try #require(try YAMLParser.parse("a:\n- - 1\n  - 2\n- []\n- - x: 1\n    y: 2\n", file: "f.yaml").first)
    #expect(try Self.roundTrip(root) == root)
  }

  @Test func multiLineJSONBecomesALiteralBlock() throws {
    let node = YAMLNode.mapping([
      YAMLPair(key: "additionalPolicies", value: .mapping([YAMLPair(key: "node", value: .string(Self.policy))]))
    ])
    let text = YAMLEmitter.emit(node)
    #expect(text.hasPrefix("additionalPolicies:\n  node: |\n    [\n      {\n"))
    #expect(try Self.roundTrip(node) == node)
  }

  /// Multi-line text that starts with a tab is no literal block: its first line would set the
  /// block's indentation, where libyaml refuses a tab, so an apply would have recorded an object
  /// the next plan cannot read back (a "damaged" state database). It is double quoted.
  @Test func multiLineTextStartingWithATabIsQuotedAndReadsBack() throws {
    for text in ["\tx\ny\n", "\t\n", "\ta\n\tb", "\t{\n  \"a\": 1\n}\n", "\tnon-ascii é\nline\n"] {
      let node = YAMLNode.mapping([
        YAMLPair(key: "a", value: .string(text)),
        YAMLPair(key: "b", value: .mapping([YAMLPair(key: "c", value: .sequence([.string(text)]))])),
      ])
      let emitted = YAMLEmitter.emit(node)
      #expect(!emitted.contains("|"), "\(emitted)")
      let back = try Self.roundTrip(node)
      #expect(back["a"]?.stringValue == text)
      #expect(back["b"]?["c"]?.items?.first?.stringValue == text)
      #expect(YAMLEmitter.emit(json: node.json) == emitted)
    }
    // A tab after the first line stays in a block (the indentation is set by then).
    let later = YAMLNode.mapping([YAMLPair(key: "a", value: .string("x\n\ty\n"))])
    #expect(YAMLEmitter.emit(later) == "a: |\n  x\n  \ty\n")
    #expect(try Self.roundTrip(later) == later)
  }

  @Test func documentsAreSeparated() throws {
    let docs: [YAMLNode] = [
      .mapping([YAMLPair(key: "kind", value: .string("Cluster"))]),
      .mapping([YAMLPair(key: "kind", value: .string("InstanceGroup"))]),
    ]
    let text = YAMLEmitter.emit(documents: docs)
    #expect(text == "kind: Cluster\n---\nkind: InstanceGroup\n")
    #expect(try YAMLParser.parse(text, file: "f.yaml") == docs)
  }

  @Test func explicitTagsAndFloatsRoundTrip() throws {
    let root = try #require(try YAMLParser.parse("a: !!str 123\nb: 1.50\nc: -.inf\nd: 1e3\ne: !!int \"7\"\n", file: "f.yaml").first)
    let back = try Self.roundTrip(root)
    #expect(back == root)
    #expect(back["a"]?.stringValue == "123")
    #expect(back["e"]?.intValue == 7)
  }

  @Test func sampleEnvironmentsRoundTrip() throws {
    let repo = Repository(root: packageRoot())
    for name in try repo.environmentNames() {
      let env = try repo.load(name)
      let docs = [env.cluster] + env.instanceGroups + env.kubernetesManifests
      let text = YAMLEmitter.emit(documents: docs)
      let back = try YAMLParser.parse(text, file: "emitted.yaml")
      #expect(back == docs, "\(name)")
      #expect(YAMLEmitter.emit(documents: back) == text, "\(name): emitting twice differs")
    }
  }

  /// The byte-level check for printable ASCII decides as the general one does.
  @Test func asciiPlainSafetyAgreesWithTheGeneralCheck() {
    let alphabet = [" ", "-", ":", ".", "#", "0", "1", "a", "e", "N", "y", "~", "\"", "'", "!", ",", "+", "x", "\t"]
    var samples = Self.tricky
    for a in alphabet {
      for b in alphabet {
        samples.append(a + b)
        for c in alphabet { samples.append(a + b + c) }
      }
    }
    for s in samples {
      let fast = YAMLEmitter.isPlainSafeASCII(s)
      if s.utf8.allSatisfy({ $0 < 0x80 }) {
        #expect(fast == YAMLEmitter.isPlainSafeScalars(s), "\(s.debugDescription)")
      } else {
        #expect(fast == nil, "\(s.debugDescription)")
      }
      #expect(YAMLEmitter.isPlainSafe(s) == YAMLEmitter.isPlainSafeScalars(s), "\(s.debugDescription)")
    }
  }

  /// A plan's created objects are emitted straight from JSON: the same text as through a YAML tree.
  @Test func emittingJSONEqualsEmittingItsYAMLTree() {
    let scalars: [JSONValue] =
      Self.tricky.map(JSONValue.string) + [
        .null, .bool(true), .bool(false), .int(0), .int(-7), .int(Int64.min), .double(1.5), .double(2), .double(-.infinity),
        .double(.nan), .double(1e300),
      ]
    let nested: JSONValue = .array([.array([.string("a"), .array([])]), .object([]), .obj([("k", .array([.int(1)]))])])
    var members = Self.tricky.enumerated().map { ($0.element, scalars[$0.offset]) }
    members += [("list", .array(scalars)), ("empty", .object([])), ("none", .array([])), ("nested", nested)]
    let values: [JSONValue] = scalars + [.obj(members), .array([.obj(members), nested]), nested, .obj([("a", .obj(members))])]
    for v in values {
      #expect(YAMLEmitter.emit(json: v) == YAMLEmitter.emit(YAMLNode(json: v)), "\(v.serialized())")
    }
  }
}

/// The package root (the directory holding Package.swift), from this file's path.
func packageRoot(_ filePath: String = #filePath) -> String {
  var parts = filePath.split(separator: "/", omittingEmptySubsequences: false)
  parts.removeLast(3)
  return parts.joined(separator: "/")
}

/// ``YAMLEmitter/isReservedWordASCII(_:)`` (the words a YAML 1.1 or 1.2 reader takes for null,
/// a bool or a special number, in any case) against the reference emitter's byte-by-byte check.
struct ReservedWordTests {
  static let words = ReferenceYAMLEmitter.reservedWords.map { String(decoding: $0, as: UTF8.self) }

  static func reference(_ text: String) -> Bool {
    Array(text.utf8).withUnsafeBufferPointer { ReferenceYAMLEmitter.isReservedWord($0) }
  }

  static func check(_ text: String) -> Bool {
    Array(text.utf8).withUnsafeBufferPointer { YAMLEmitter.isReservedWordASCII($0) }
  }

  @Test func everyReservedWordInEveryCaseIsFound() {
    for word in Self.words {
      let upper = word.uppercased()
      let mixed = String(word.enumerated().map { $0.offset % 2 == 0 ? Character($0.element.uppercased()) : $0.element })
      for form in [word, upper, mixed] { #expect(Self.check(form), "\(form)") }
    }
  }

  @Test func otherTextsAreNot() {
    let near = [
      "", "yess", "nul", "nulll", "tru", "offf", "o", "inf", ".in", "-inf", "+.inff", "~~", "ye", "spec", "name", "y ", " y", "NaN",
      ".NaN",
    ]
    for text in near {
      #expect(Self.check(text) == Self.reference(text), "\(text)")
    }
    // every text of up to three bytes over an alphabet holding the words' bytes
    let alphabet = Array("ynoftrueaslNOYF~.+-i".utf8)
    var level: [[UInt8]] = [[]]
    var texts = level
    for _ in 0..<3 {
      level = level.flatMap { t in alphabet.map { t + [$0] } }
      texts += level
    }
    #expect(texts.count == 1 + 20 + 400 + 8_000)
    for bytes in texts {
      let text = String(decoding: bytes, as: UTF8.self)
      #expect(Self.check(text) == Self.reference(text), "\(text)")
    }
  }
}
