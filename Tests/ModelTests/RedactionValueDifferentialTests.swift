import Testing

@testable import Model

/// JSON values and contents: the copy-on-first-change redaction against the reference
/// (RedactionReference.swift) on generated trees.
@Suite struct RedactionValueDifferentialTests {
  typealias Generator = RedactionDifferentialTests.Generator

  static let keys = [
    "name", "password", "dbPassword", "token", "content", "Content", "contents", "spec", "apiKey", "authorization", "url", "policy",
    "\u{212A}ey", "conte\u{301}nt", "tokens", "",
  ]

  /// JSON in strings: each thing the inert-JSON shortcut must see (and policies it may skip).
  static let embedded = [
    #"{"password":"x","url":"http://a:b@h"}"#, #"[{"token":null},{"name":"PASSWORD=x"}]"#, #"{"name":"fine"}"#,
    "[\u{301}" + #"{"password":"x"}]"#, #"{"a":"u:p\u0040h"}"#, #"{"pass\u0077ord":"x"}"#, #"["-u a:b"]"#, #"["--user=a:b"]"#,
    #"{"k":"authorization: Basic abc"}"#, #"{"k":"AUTHORIZATION=abc"}"#, #"["ghp_aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1"]"#,
    #"["xghp_aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1"]"#, #"{"k":"-----BEGIN A PRIVATE KEY-----\nx\n-----END A PRIVATE KEY-----"}"#,
    #"[{"Effect":"Allow","Action":["kms:GenerateDataKey","s3:GetObject"],"Resource":["arn:aws:s3:::b-1/*"]}]"#,
    #"{"Statement":[{"Action":"sts:AssumeRole","Principal":{"Service":"ec2.amazonaws.com"}}]}"#, #"{"k":"[\"PASSWORD=x\"]"}"#,
    #"{"k":"[1,2]","v":{}}"#, #"["a@b"]"#, #"{"apiKey":1}"#, "[1,", "{",
  ]

  static func string(_ g: inout Generator) -> String {
    switch g.below(6) {
    case 0, 1: return g.pick(embedded)
    case 2:
      let inner = (0..<(1 + g.below(5))).map { _ in g.pick(RedactionDifferentialTests.pieces) }.joined()
      return g.below(2) == 0 ? #"{"k":""# + inner + #""}"# : #"[""# + inner + #""]"#
    default:
      return (0..<(1 + g.below(6))).map { _ in g.pick(RedactionDifferentialTests.pieces) }.joined()
    }
  }

  static func value(_ g: inout Generator, depth: Int) -> JSONValue {
    switch depth > 3 ? g.below(4) : g.below(7) {
    case 0: return .null
    case 1: return .int(Int64(g.below(100)))
    case 2, 3: return .string(string(&g))
    case 4: return .bool(g.below(2) == 0)
    case 5: return .array((0..<g.below(4)).map { _ in value(&g, depth: depth + 1) })
    default: return .object((0..<g.below(5)).map { _ in JSONValue.Member(g.pick(keys), value(&g, depth: depth + 1)) })
    }
  }

  static func bytes(_ v: JSONValue) -> [UInt8] { Array(v.serialized().utf8) }

  @Test func jsonValues() {
    var g = Generator(seed: 99)
    for _ in 0..<3000 {
      let v = Self.value(&g, depth: 0)
      let new = Redaction.redact(v)
      let old = RedactionReference.redact(v)
      #expect(new == old && Self.bytes(new) == Self.bytes(old), "\(v.serialized())")
    }
  }

  @Test func embeddedJSON() {
    for e in Self.embedded {
      let v = JSONValue.string(e)
      #expect(Self.bytes(Redaction.redact(v)) == Self.bytes(RedactionReference.redact(v)), "\(e)")
    }
    // The shortcut is taken for a plain policy, and not for JSON with an escape.
    #expect(Redaction.isInertJSON(Self.embedded[13]) && Redaction.isInertJSON(Self.embedded[14]))
    #expect(!Redaction.isInertJSON(Self.embedded[4]) && !Redaction.isInertJSON(Self.embedded[5]))
  }

  @Test func unchangedValuesAreNotCopied() {
    let v = JSONValue.obj([("name", .string("a-b")), ("spec", .array([.obj([("key", .string("x=y")), ("n", .int(1))])]))])
    #expect(Redaction.redacted(v) == nil)
    #expect(Redaction.concealed(v) == nil)
    #expect(Redaction.redacted(.obj([("token", .string("t"))])) == .obj([("token", .string(Redaction.mask))]))
  }

  @Test func concealedContents() {
    var g = Generator(seed: 5)
    let paths = [
      "spec.fileAssets[name=a].content", "content", "", ".", "a..content", "a.content.", "x.content..", "contents", "a.Content",
      "conte\u{301}nt", "a.\u{301}content", "a.content\u{301}", "spec.additionalUserData", "...",
    ]
    #expect(Redaction.contentKeys.allSatisfy { $0.utf8.allSatisfy { $0 < 0x80 } })
    for _ in 0..<3000 {
      let v = Self.value(&g, depth: 0)
      let path = g.pick(paths)
      let new = Redaction.concealContent(v, path: path)
      let old = RedactionReference.concealContent(v, path: path)
      #expect(new == old && Self.bytes(new) == Self.bytes(old), "\(path) \(v.serialized())")
      // The plan's one walk: concealed, then redacted.
      let both = Redaction.redact(v, concealingContentAt: path)
      let reference = RedactionReference.redact(RedactionReference.concealContent(v, path: path))
      #expect(both == reference && Self.bytes(both) == Self.bytes(reference), "\(path) \(v.serialized())")
    }
    for path in paths {
      for v in [
        JSONValue.string("x"), .string("PASSWORD=x"), .null, .obj([("content", .null), ("token", .obj([("content", .string("y"))]))]),
      ] {
        #expect(Redaction.concealContent(v, path: path) == RedactionReference.concealContent(v, path: path), "\(path)")
        let reference = RedactionReference.redact(RedactionReference.concealContent(v, path: path))
        #expect(Redaction.redact(v, concealingContentAt: path) == reference, "\(path)")
      }
    }
  }
}
