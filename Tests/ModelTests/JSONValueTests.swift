import HKTestSupport
import Model
import Testing

@Suite struct JSONValueTests {
  @Test func parsesAndKeepsMemberOrder() throws {
    let v = try JSONValue.parse(#"{"z": 1, "a": [true, false, null], "m": {"x": -2.5, "y": "s"}}"#)
    #expect(v.members?.map(\.key) == ["z", "a", "m"])
    #expect(v["z"] == .int(1))
    #expect(v["a"] == .array([.bool(true), .bool(false), .null]))
    #expect(v["m"]?["x"] == .double(-2.5))
    #expect(v["m"]?["y"]?.stringValue == "s")
    #expect(v.serialized() == #"{"z":1,"a":[true,false,null],"m":{"x":-2.5,"y":"s"}}"#)
  }

  @Test func numbers() throws {
    #expect(try JSONValue.parse("0") == .int(0))
    #expect(try JSONValue.parse("-12") == .int(-12))
    #expect(try JSONValue.parse("9223372036854775807") == .int(Int64.max))
    #expect(try JSONValue.parse("1e3") == .double(1000))
    #expect(try JSONValue.parse("1.5E-2") == .double(0.015))
    #expect(try JSONValue.parse("-0.5") == .double(-0.5))
    #expect(try JSONValue.parse("100000000000000000000") == .double(1e20))
  }

  @Test(arguments: ["01", ".5", "1.", "-", "+1", "1e", "1e+", "--1", "1.2.3", "0x10", "- 1", "1-2"])
  func refusesInvalidNumbers(text: String) {
    #expect(throws: JSONParseError.self) { try JSONValue.parse(text) }
  }

  @Test func stringEscapes() throws {
    let v = try JSONValue.parse(#""a\"b\\c\/d\n\t\u00e9\ud83d\udc49""#)
    #expect(v == .string("a\"b\\c/d\n\té👉"))
    #expect(JSONValue.string("q\"\\\n\u{1}\u{2028}").serialized() == #""q\"\\\n\u0001\u2028""#)
  }

  @Test func serializeParseRoundTrip() throws {
    let v = JSONValue.obj([
      ("name", .string("nodes-a")), ("count", .int(3)), ("ratio", .double(0.25)), ("on", .bool(true)), ("none", .null),
      ("list", .array([.string("x"), .array([]), .object([])])), ("unicode", .string("日本 👉 \u{0}")),
    ])
    #expect(try JSONValue.parse(v.serialized()) == v)
    #expect(try JSONValue.parse(v.serialized(pretty: true)) == v)
  }

  @Test func prettyFormat() {
    let v = JSONValue.obj([("a", .array([.int(1), .int(2)])), ("b", .object([])), ("c", .array([]))])
    #expect(v.serialized(pretty: true) == "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": {},\n  \"c\": []\n}")
  }

  @Test func errorsCarryLineAndColumn() {
    do {
      _ = try JSONValue.parse("[\n  {\"Effect\": \"Allow\"\n]")
      Issue.record("accepted invalid JSON")
    } catch {
      #expect(error.line == 3)
      #expect(error.column == 1)
      #expect(error.description.hasSuffix("at line 3, column 1"))
    }
    #expect(throws: JSONParseError.self) { try JSONValue.parse("[1] x") }
    #expect(throws: JSONParseError.self) { try JSONValue.parse("\"unterminated") }
    #expect(throws: JSONParseError.self) { try JSONValue.parse("{\"a\" 1}") }
    #expect(throws: JSONParseError.self) { try JSONValue.parse("") }
    #expect(throws: JSONParseError.self) { try JSONValue.parse("tru") }
  }

  @Test func depthLimit() {
    #expect(throws: JSONParseError.self) { try JSONValue.parse(String(repeating: "[", count: 600) + String(repeating: "]", count: 600)) }
    #expect((try? JSONValue.parse(String(repeating: "[", count: 100) + String(repeating: "]", count: 100))) != nil)
  }

  @Test func yamlConversion() throws {
    let v = JSONValue.obj([("port", .string("3128")), ("n", .int(3)), ("f", .double(1.5)), ("b", .bool(false)), ("x", .null)])
    let node = YAMLNode(json: v)
    #expect(node["port"]?.stringValue == "3128")
    #expect(node["n"]?.intValue == 3)
    #expect(node.json == v)
  }

  @Test func iamPolicyStatementsCompareAsSets() throws {
    let a = try IAMPolicyDocument.parse(#"[{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":"*"}]"#)
    let b = try IAMPolicyDocument.parse(#"{"Statement":[{"Resource":["*"],"Action":["s3:ListBucket","s3:GetObject"],"Effect":"Allow"}]}"#)
    #expect(a.statements == b.statements)
    #expect(a.statements.first?.hasWildcard == true)
  }

  /// The remembered parse gives what a fresh parse gives, the second time too, errors included
  /// (a cached failure must not turn into a success, nor the reverse).
  @Test(arguments: [
    #"[{"Effect":"Allow","Action":["logs:PutLogEvents"],"Resource":["*"]}]"#, #"{"a": [1, 2.5, true, null]}"#,
    #"[{"Effect":"Allow",}]"#, "{", "",
  ])
  func rememberedParseEqualsParse(text: String) {
    let fresh = Result { () throws(JSONParseError) -> JSONValue in try JSONValue.parse(text) }
    for _ in 0..<2 {
      let remembered = Result { () throws(JSONParseError) -> JSONValue in try JSONValue.parseRemembered(text) }
      switch (fresh, remembered) {
      case (.success(let a), .success(let b)): #expect(a == b)
      case (.failure(let a), .failure(let b)): #expect(a == b)
      default: Issue.record("parse and parseRemembered disagree on \(text)")
      }
    }
  }

  /// The bytes a digest hashes are the compact serialisation's.
  @Test func compactBytesAreTheCompactSerialisation() {
    let controls = String((0..<0x20 as Range<UInt8>).map { Character(Unicode.Scalar($0)) })
    // U+2028 and U+2029 are escaped; their neighbours sharing the bytes E2 80 are not
    let separators = "\u{2027}\u{2028}\u{2029}\u{202A} † ₂ \u{2029}"
    let strings = [
      "", "plain", "quote\" and \\", "line\nbreak\t", "ünï 日本 👉", "c0\u{1}\u{7F}\u{85}\u{2028}", "</script>", controls,
      separators, "\r\u{8}\u{C}\\\"",
    ]
    let scalars: [JSONValue] =
      strings.map(JSONValue.string) + [
        .null, .bool(true), .bool(false), .int(-42), .int(Int64.max), .double(0.1), .double(3), .double(.infinity),
      ]
    let value: JSONValue = .obj([
      ("list", .array(scalars)), ("empty", .object([])), ("none", .array([])),
      ("nested", .obj(strings.map { ($0, .array([.obj([($0, .string($0))])])) })),
    ])
    for v in scalars + [value] {
      #expect(v.compactUTF8() == Array(v.serialized().utf8), "\(v.serialized())")
    }
  }

  /// Strings copied eight bytes at a time: a byte that needs a look (an escape, a control,
  /// DEL, a multi-byte character, U+2028) at every offset of runs of every length up to 24.
  @Test func compactStringsWithASpecialByteAnywhere() {
    for special in ["\"", "\\", "\n", "\u{1}", "\u{1F}", "\u{7F}", "é", "\u{2028}", "\u{2029}", "\u{2027}", "👉", " ", "~"] {
      for n in 0...24 {
        for k in 0...n {
          let v = JSONValue.string(String(repeating: "a", count: k) + special + String(repeating: "b", count: n - k))
          #expect(v.compactUTF8() == ReferenceCompactJSON.bytes(v), "\(v.serialized())")
        }
      }
    }
  }

  /// The byte writer and the hashing writer against the writer they replaced
  /// (``ReferenceCompactJSON``) and against `serialized()`, on generated values (and strings
  /// longer than the writer's buffer), with buffer sizes from 1 byte up: strings from an alphabet of escapes, controls, DEL,
  /// U+2028/2029 and their E2 80 neighbours, multi-byte text; extreme integers; doubles; nesting.
  @Test func compactBytesEqualTheReferenceWriter() {
    var rng = SplitMix64(seed: 0xC0_4AC7)
    let pieces: [String] = [
      "a", "Z", "0", " ", "\"", "\\", "/", "\n", "\r", "\t", "\u{8}", "\u{C}", "\u{0}", "\u{1F}", "\u{7F}", "\u{80}",
      "\u{85}", "\u{2027}", "\u{2028}", "\u{2029}", "\u{202A}", "\u{20AC}", "\u{FEFF}", "ü", "日本", "👉", "e\u{301}", "†",
      "abcdefghijklmnopqrstuvwxyz", "sha256:0123", "{\"k\":[1]}",
    ]
    func string() -> String {
      (0..<Int(rng.next() % 12)).map { _ in pieces[Int(rng.next() % UInt64(pieces.count))] }.joined()
    }
    func value(_ depth: Int) -> JSONValue {
      switch rng.next() % (depth > 4 ? 6 : 9) {
      case 0: return .null
      case 1: return .bool(rng.next() % 2 == 0)
      case 2:
        let extremes: [Int64] = [0, -1, 1, 9, 10, -10, 99, 100, Int64.max, Int64.min, Int64.min + 1, 1_000_000_007]
        return .int(rng.next() % 3 == 0 ? extremes[Int(rng.next() % UInt64(extremes.count))] : Int64(bitPattern: rng.next()))
      case 3:
        let doubles: [Double] = [0, -0.0, 0.5, 3, -2.5e-7, 1e15, 1e16, 123_456.789, .infinity, -.infinity, .nan, .pi]
        return .double(doubles[Int(rng.next() % UInt64(doubles.count))])
      case 4, 5: return .string(string())
      case 6: return .array((0..<Int(rng.next() % 5)).map { _ in value(depth + 1) })
      default: return .obj((0..<Int(rng.next() % 5)).map { _ in (string(), value(depth + 1)) })
      }
    }
    let long = JSONValue.obj([
      ("long", .string(String(repeating: "plain text, \"quoted\" and \u{2028}\n ", count: 2000))),
      (String(repeating: "k", count: 20_000), .array(Array(repeating: .string(String(repeating: "x", count: 5000)), count: 5))),
    ])
    for round in 0..<3001 {
      let v = round == 0 ? long : value(0)
      let expected = ReferenceCompactJSON.bytes(v)
      #expect(expected == Array(v.serialized().utf8))
      // Every buffer size gives the same bytes: tiny ones cross a flush inside every run.
      let chunk = [16_384, 1, 2, 3, 7, 64, 4096][round % 7]
      #expect(v.compactUTF8(chunkSize: chunk) == expected, "chunk \(chunk): \(v.serialized())")
      #expect(v.compactSHA256(chunkSize: chunk) == SHA256.digest(bytes: expected), "chunk \(chunk): \(v.serialized())")
    }
    #expect(long.compactUTF8() == ReferenceCompactJSON.bytes(long))
    #expect(long.compactSHA256() == SHA256.digest(bytes: ReferenceCompactJSON.bytes(long)))
  }
}
