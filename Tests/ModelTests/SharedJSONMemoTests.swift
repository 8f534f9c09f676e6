import HKTestSupport
import Testing

@testable import Model

/// The planned JSON of created objects (`Redaction.plannedJSON`, one walk over the YAML tree,
/// a shared base's subtrees remembered for the run) against what it replaced: the tree's JSON
/// redacted afterwards; and the YAML and compact JSON of the remembered subtrees (written once,
/// copied after) against the reference writers, on generated trees whose shared subtrees come
/// back in many documents.
@Suite struct SharedJSONMemoTests {
  /// Keys that reach every rule: secret names (any case, inside a longer name), content keys
  /// (exact only), names that only look like either.
  static let keys = [
    "name", "spec", "password", "dbPassword", "authenticationTokenWebhook", "token", "tokens", "content", "Content", "contents",
    "conte\u{301}nt", "\u{212A}ey", "apiKey", "authorization", "url", "policy", "master", "", "a b", "3128",
  ]

  /// Scalar texts: every kind a YAML scalar resolves to, the tricky strings, secrets in text and
  /// JSON in strings (an IAM policy; one with a secret).
  static let texts = [
    "~", "null", "", "true", "yes", "3128", "-1", "1.5", ".inf", ".nan", "0x1F", "1e3", "http://u:p@proxy:3128",
    "AWS_SECRET_ACCESS_KEY=abc", "ghp_aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1", "curl -u a:b x", "multi\nline\n",
    #"[{"Effect":"Allow","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::b/*"]}]"#, #"{"password":"x"}"#,
    "-----BEGIN RSA PRIVATE KEY-----\nx\n-----END RSA PRIVATE KEY-----\n",
  ]

  struct Trees {
    var g: TrickyValues.Generator
    let base = FileID("base/cluster.yaml")
    let env = FileID("env/cluster.yaml")
    /// Subtrees of the shared file: documents pick them whole (one storage each).
    var pool: [YAMLNode] = []

    init(seed: UInt64) {
      g = TrickyValues.Generator(seed: seed)
      for _ in 0..<24 { pool.append(node(depth: 3, file: base)) }
      // A shared subtree holding another shared one.
      for i in 0..<8 { pool.append(.mapping([YAMLPair(key: pick(SharedJSONMemoTests.keys), value: pool[i])], mark: mark(base))) }
    }

    func mark(_ file: FileID) -> Mark { Mark(fileID: file, line: 1, column: 1) }

    mutating func pick<T>(_ xs: [T]) -> T { xs[g.below(xs.count)] }

    mutating func scalar(file: FileID) -> YAMLNode {
      let text = g.below(2) == 0 ? pick(SharedJSONMemoTests.texts) : g.string()
      let styles: [ScalarStyle] = [.plain, .plain, .doubleQuoted, .singleQuoted, .literal]
      return YAMLNode(.scalar(YAMLScalar(text, style: pick(styles))), mark: mark(file))
    }

    mutating func node(depth: Int, file: FileID) -> YAMLNode {
      switch g.below(depth > 0 ? 7 : 3) {
      case 0, 1, 2: return scalar(file: file)
      case 3, 4: return .sequence((0..<g.below(4)).map { _ in node(depth: depth - 1, file: file) }, mark: mark(file))
      default:
        return .mapping(
          (0..<g.below(5)).map { _ in YAMLPair(key: pick(SharedJSONMemoTests.keys), value: node(depth: depth - 1, file: file)) },
          mark: mark(file))
      }
    }

    /// A document of `env`: its own pairs and the base's subtrees, at any depth.
    mutating func document() -> YAMLNode {
      var pairs: [YAMLPair] = []
      for _ in 0..<(1 + g.below(6)) {
        let value: YAMLNode
        switch g.below(4) {
        case 0: value = pick(pool)
        case 1: value = .sequence([pick(pool), node(depth: 1, file: env)], mark: mark(env))
        case 2: value = .mapping([YAMLPair(key: pick(SharedJSONMemoTests.keys), value: pick(pool))], mark: mark(env))
        default: value = node(depth: 2, file: env)
        }
        pairs.append(YAMLPair(key: pick(SharedJSONMemoTests.keys), value: value))
      }
      return .mapping(pairs, mark: mark(env))
    }
  }

  /// What the planner made before: the JSON, redacted as a created object's `after`.
  static func reference(_ node: YAMLNode, concealing: Bool) -> JSONValue {
    concealing ? Redaction.redact(node.json, concealingContentAt: "cluster[a.content]") : Redaction.redact(node.json)
  }

  static func yaml(_ v: JSONValue) -> [UInt8] {
    var out: [UInt8] = Array("x\n".utf8)
    YAMLEmitter.appendYAML(json: v, to: &out)
    return out
  }

  @Test(arguments: 0..<6)
  func generatedDocuments(seed: UInt64) {
    var trees = Trees(seed: 0xC4E7_0000 + seed)
    for n in 0..<500 {
      let doc = trees.document()
      let concealing = n % 3 != 0
      let expected = Self.reference(doc, concealing: concealing)
      let expectedJSON = ReferenceCompactJSON.bytes(expected)
      let expectedYAML = Array(("x\n" + ReferenceYAMLEmitter.emit(json: expected)).utf8)
      // Twice: the second time the shared subtrees come from the memo (and their bytes too).
      for _ in 0..<2 {
        let planned = Redaction.plannedJSON(doc, concealing: concealing)
        #expect(ReferenceCompactJSON.bytes(planned) == expectedJSON, "\(expected.serialized())")
        #expect(planned.compactUTF8() == expectedJSON)
        #expect(planned.compactUTF8(chunkSize: 3) == expectedJSON)
        #expect(planned.compactSHA256() == expected.compactSHA256())
        #expect(Self.yaml(planned) == expectedYAML)
      }
      let unremembered = Redaction.plannedJSON(doc, concealing: concealing, document: trees.env, memo: nil)
      #expect(ReferenceCompactJSON.bytes(unremembered) == expectedJSON)
    }
    #expect(SharedJSONMemo.shared.count > 0)
  }

  /// Each rule at its boundary, alone and inside a shared subtree.
  @Test func rules() {
    let base = FileID("rules/base.yaml")
    func m(_ file: FileID) -> Mark { Mark(fileID: file, line: 2, column: 3) }
    func s(_ t: String, _ style: ScalarStyle = .plain) -> YAMLNode { YAMLNode(.scalar(YAMLScalar(t, style: style)), mark: m(base)) }
    let pairs: [(String, YAMLNode)] = [
      ("password", s("~")), ("password", s("null")), ("password", s("")), ("password", s("null", .doubleQuoted)),
      ("password", .mapping([YAMLPair(key: "a", value: s("b"))], mark: m(base))), ("Password", .sequence([], mark: m(base))),
      ("token", s("3128")), ("content", s("echo hi\n")), ("content", s("3128")), ("content", s("3128", .singleQuoted)),
      ("content", .mapping([YAMLPair(key: "password", value: s("x"))], mark: m(base))), ("content", s("~")),
      ("Content", s("x")), ("contents", s("AWS_SECRET_ACCESS_KEY=abc")), ("conte\u{301}nt", s("x")),
      ("policy", s(#"{"Statement":[{"token":"t"}]}"#)), ("url", s("http://a:b@h")), ("n", s(".nan")),
    ]
    let shared = YAMLNode.mapping(pairs.map { YAMLPair(key: $0.0, value: $0.1) }, mark: m(base))
    let doc = YAMLNode.mapping(
      pairs.map { YAMLPair(key: $0.0, value: $0.1) } + [YAMLPair(key: "spec", value: shared)],
      mark: Mark(file: "rules/env.yaml", line: 1, column: 1))
    for concealing in [true, false] {
      let expected = ReferenceCompactJSON.bytes(Self.reference(doc, concealing: concealing))
      for _ in 0..<2 {
        #expect(ReferenceCompactJSON.bytes(Redaction.plannedJSON(doc, concealing: concealing)) == expected)
      }
    }
  }

  /// A shared subtree's JSON is made once: every document holding it gets that value.
  @Test func sharedSubtreesShareTheirJSON() {
    let base = Mark(file: "share/base.yaml", line: 1, column: 1)
    let shared = YAMLNode.mapping([YAMLPair(key: "a", value: .string("b", mark: base))], mark: base)
    func doc(_ name: String) -> YAMLNode {
      .mapping(
        [YAMLPair(key: "name", value: .string(name)), YAMLPair(key: "spec", value: shared)],
        mark: Mark(file: "share/\(name).yaml", line: 1, column: 1))
    }
    let one = Redaction.plannedJSON(doc("one"), concealing: true)
    let two = Redaction.plannedJSON(doc("two"), concealing: true)
    let a = one["spec"]?.storageIdentity
    #expect(a != nil && a == two["spec"]?.storageIdentity)
    // The other variant is remembered apart.
    #expect(Redaction.plannedJSON(doc("one"), concealing: false)["spec"]?.storageIdentity != a)
    // A document's own collections are not remembered.
    #expect(Redaction.plannedJSON(doc("one"), concealing: true).storageIdentity != one.storageIdentity)
  }

  /// A full memo adds nothing, and the results stay the same.
  @Test func capacity() {
    var trees = Trees(seed: 77)
    let memo = SharedJSONMemo(capacity: 2)
    for _ in 0..<200 {
      let doc = trees.document()
      let expected = ReferenceCompactJSON.bytes(Self.reference(doc, concealing: true))
      let planned = Redaction.plannedJSON(doc, concealing: true, document: trees.env, memo: memo)
      #expect(ReferenceCompactJSON.bytes(planned) == expected)
    }
    #expect(memo.count == 2)
  }
}
