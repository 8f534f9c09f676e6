import Foundation
import HKTestSupport
import Testing

@testable import Model

/// The byte-scan redaction (one pass, no copy when nothing matches) against the implementation it
/// replaced (RedactionReference.swift): the same bytes out for every text of a corpus of each
/// rule's boundary cases and of thousands of strings generated from the rules' trigger pieces.
@Suite struct RedactionDifferentialTests {
  /// A deterministic generator, so a failure reproduces.
  typealias Generator = SplitMix64

  /// Pieces that start, end or break a rule, and a few that are none.
  static let pieces: [String] = [
    "://", "http://", "s3://", ":", "/", "//", "@", "@host", "=", "==", "-", "--", "-u", "-u ", "--user", "--user=", "--USER ",
    "--proxy-user", " --proxy-user ", "-uuser:pw", " ", "  ", "\n", "\r", "\r\n", "\t", "\"", "'", "`", ",", ";", "&", "?", "(", ")",
    "<", ">", "[", "]", "{", "}", "{}", "\u{7F}", "authorization", "AUTHORIZATION", "Authorization:", "authorization=", "auth",
    "orization", "aUthorization", "Basic ", "bearer ", "TOKEN ", "Digest", "aws4-hmac-sha256 ", "to\u{212A}en ", "\u{212A}",
    "ghp_", "gho_", "github_pat_", "glpat-", "xoxb-", "xoxs-", "AKIA", "ASIA", "sk_live_", "rk_live_", "npm_", "hvs.", "eyJ",
    "eyJhbGciOiJIUzI1NiJ9", ".", "_", "a", "e", "g", "x", "A", "Z", "z", "Y", "0", "AB12CD34EF56GH78", "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1",
    "0123456789abcdefghijklmnopqrstuvwxyz", "(redacted)", "***", ":***", "hk:***", "user:pass", "u:p", "me@example.com",
    "-----BEGIN RSA ", "-----BEGIN ", "PRIVATE KEY-----", "PRIVATE KEY", "-----END RSA ", "-----END", "-----", "MIIE",
    "password", "PASSWORD", "passwd", "token", "Secret", "api_key", "apiKey", "accessKey", "credential", "sessionKey",
    "privateKey", "private_key", "AWS_SECRET_ACCESS_KEY", "DB_PASSWORD", "name", "é", "\u{301}", "日本", "🙂", "\0",
  ]

  static func generated(count: Int, seed: UInt64, maxPieces: Int) -> [String] {
    var g = Generator(seed: seed)
    return (0..<count).map { _ in
      (0..<(1 + g.below(maxPieces))).map { _ in g.pick(pieces) }.joined()
    }
  }

  /// Each rule's boundary cases (and the existing tests' inputs).
  static let boundaries: [String] = [
    "", "@", "=", "-", "://", "a@b", ":@b", "u:p@h", "u:p@", "@h", "x://u:p@h", "x://@h", "x://u@h/p", "x://u/p@h", "x://(redacted)@h",
    "x://a:***@h", "a:***@h", "a/b:c@d", "a:b/c@d", "a=b:c@d", "'u:p@h'", "u:p@h@i", "https://token@host/path",
    "see http://a:b@x and https://c:d@y/z", "http://u:p@h\r\nnext", "http://u:p\r\n@h", "http://u:p\u{301}/x@h", "x:/\u{301}/u:p@h",
    "PASSWORD=", "PASSWORD=x", "PASSWORD=\"x", "PASSWORD=\"x\" y", "PASSWORD='x\ny'", "PASSWORD=(redacted)", "a.password-x=1;b",
    "=password", "token==x", "x=token=y", "TOKEN=a&b", "-u", "-u ", "-u a:b", "-u 'a:b c'", "-ua:b", "x-u a:b", "\t-u a:b", "--user",
    "--user a:b", "--user=a:b", "--usera:b", "--proxy-user a:b", "--proxy-usera:b", "- u a:b", "-u a:b -u c:d", "-u -u a:b",
    "authorization", "authorization:", "authorization: ", "authorization: x", "authorization:x\ny", "authorization=\"Basic x\"",
    "authorization: {rbac: {}}", "authorization: [a]", "\"authorization\": \"Bearer x\"", "authorization: Bearer", "authorization: Bearer ",
    "authorization: Bearer (redacted)", "authorizationauthorization: a", "xauthorization: a", "authorizationMode: Webhook",
    "authorization: to\u{212A}en abc", "Authorization: BASİC abc", "authorizatio", "ghp_" + String(repeating: "a", count: 29),
    "ghp_" + String(repeating: "a", count: 30), "ghp_" + String(repeating: "a", count: 30) + "_",
    "xghp_" + String(repeating: "a", count: 30),
    "AKIA" + String(repeating: "A", count: 16), "AKIA" + String(repeating: "A", count: 17), "AKIA" + String(repeating: "A", count: 15),
    "eyJ" + String(repeating: "a", count: 20) + "." + String(repeating: "b", count: 10) + ".c", "eyJ" + String(repeating: "a", count: 40),
    "ghp_" + String(repeating: "ab", count: 20) + " ghp_" + String(repeating: "cd", count: 20),
    "ghp_" + String(repeating: "ab", count: 20) + "ghp_" + String(repeating: "cd", count: 20),
    "PASSWORD=ghp_" + String(repeating: "a", count: 30), "http://u:p@h ghp_" + String(repeating: "a", count: 30) + " TOKEN=x",
    "before\n-----BEGIN RSA PRIVATE KEY-----\nMIIEabc\n-----END RSA PRIVATE KEY-----\nafter",
    "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----", "PRIVATE KEY-----", "-----BEGIN X PRIVATE KEY-----\nA\n-----END",
    "-----BEGIN A PRIVATE KEY-----\nu:p@h\n-----END A PRIVATE KEY----- TOKEN=x -u a:b",
    "squid-user:Pr0xyPa55@proxy.corp:3128", "HTTP_PROXY=u:p@proxy:3128", "http://user:Sl/ash/Pass@mirror.corp",
    "Authorization: Basic dXNlcjpwYXNz", "-H 'authorization: Bearer abc.def'", "export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG",
    "DB_PASSWORD=\"hunter 2\" next", "curl -u hookuser:HookPass99 http://x", "wget --user=alice:pw http://x", "held by hk:***@db.corp",
    "u:p***@proxy:3128", "git@github.com:org/repo", "image@sha256:0123", "--create-kube-config=false", "fd00::/8 10.0.0.0/8",
    "postgresql://hk:***@db.corp:5432/hk", "postgresql://hk:***x@db.corp/hk", "postgresql://:***@db.corp/hk",
  ]

  static func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

  @Test func boundaryCases() {
    for s in Self.boundaries {
      #expect(Self.bytes(Redaction.redact(text: s)) == Self.bytes(RedactionReference.redact(text: s)), "\(s.debugDescription)")
    }
  }

  @Test func generatedTexts() {
    var differences = 0
    var masked = 0
    for s in Self.generated(count: 20000, seed: 15, maxPieces: 12) {
      let new = Self.bytes(Redaction.redact(text: s))
      let old = Self.bytes(RedactionReference.redact(text: s))
      if old != Self.bytes(s) { masked += 1 }
      if new != old {
        differences += 1
        if differences <= 10 { Issue.record("\(s.debugDescription): \(String(decoding: new, as: UTF8.self).debugDescription)") }
      }
    }
    #expect(differences == 0)
    // The corpus exercises the rules: a good share of it is masked, and most of it is not.
    #expect(masked > 2000 && masked < 18000, "\(masked) of 20000 masked")
  }

  /// Long texts with many matches: each rule's skip over what it consumed, across the whole text.
  @Test func longTexts() {
    var g = Generator(seed: 42)
    let all = Self.boundaries + Self.generated(count: 2000, seed: 7, maxPieces: 8)
    for _ in 0..<200 {
      let text = (0..<(1 + g.below(60))).map { _ in g.pick(all) }.joined(separator: g.pick(["\n", " ", "", "\r\n"]))
      #expect(Self.bytes(Redaction.redact(text: text)) == Self.bytes(RedactionReference.redact(text: text)), "\(text.debugDescription)")
    }
  }

  /// Redacting a text part by part (``Redaction/redact(part:last:)``, as `hk plan` does its
  /// sections in parallel) gives the whole text's redaction whenever every part is taken; a part
  /// is refused only when it holds a PEM marker or (but the last) does not end with `\n`.
  @Test func partsAreTheWhole() {
    func has(_ s: String, _ needle: String) -> Bool {
      let b = Array(s.utf8)
      let n = Array(needle.utf8)
      return b.count >= n.count && (0...(b.count - n.count)).contains { Array(b[$0..<($0 + n.count)]) == n }
    }
    var g = Generator(seed: 2026)
    let all = Self.boundaries + Self.generated(count: 3000, seed: 11, maxPieces: 10)
    var taken = 0
    for _ in 0..<2000 {
      let parts = (0..<(1 + g.below(6))).map { _ in
        (0..<(1 + g.below(4))).map { _ in g.pick(all) }.joined(separator: "\n") + g.pick(["\n", "\n", "\n", "\r\n", "", " "])
      }
      let redacted = parts.indices.map { Redaction.redact(part: parts[$0], last: $0 == parts.count - 1) }
      // The same part held as UTF-8 bytes (a plan's section) gives the same answer.
      for (i, p) in parts.enumerated() {
        let bytes = Redaction.redact(part: Array(p.utf8), last: i == parts.count - 1)
        #expect(bytes == redacted[i].map { Array($0.utf8) }, "\(p.debugDescription)")
      }
      let whole = Self.bytes(RedactionReference.redact(text: parts.joined()))
      for (i, p) in parts.enumerated() {
        let endsLine = p.utf8.last == 0x0A && p.utf8.dropLast().last != 0x0D
        #expect((redacted[i] == nil) == (has(p, "PRIVATE KEY-----") || (i < parts.count - 1 && !endsLine)), "\(p.debugDescription)")
      }
      guard redacted.allSatisfy({ $0 != nil }) else { continue }
      taken += 1
      #expect(Self.bytes(redacted.compactMap { $0 }.joined()) == whole, "\(parts)")
    }
    #expect(taken > 300, "\(taken) of 2000 taken")
  }

  @Test func unchangedTextIsReturnedAsIs() {
    let s = String(repeating: "    - name: a-b-c\n      key: value # x=y\n", count: 10)
    #expect(Redaction.redactedText(s) == nil)
    #expect(Redaction.redactedText("PASSWORD=x") == "PASSWORD=(redacted)")
  }

  @Test func secretKeys() {
    let keys =
      Self.generated(count: 5000, seed: 3, maxPieces: 4) + RedactionReference.secretKeyNeedles.map { String(decoding: $0, as: UTF8.self) }
    for k in keys + keys.map({ $0.uppercased() }) {
      #expect(Redaction.isSecretKey(k) == RedactionReference.isSecretKey(k), "\(k.debugDescription)")
    }
    #expect(Set(Redaction.secretKeyNeedles.map { Array($0.utf8) }) == Set(RedactionReference.secretKeyNeedles))
  }
}
