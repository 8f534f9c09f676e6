import Config
import Model
import Testing

@Suite struct RedactionTests {
  @Test(arguments: [
    ("http://user:pass@proxy.corp:3128", "http://(redacted)@proxy.corp:3128"),
    ("https://token@host/path", "https://(redacted)@host/path"),
    ("see http://a:b@x and https://c:d@y/z", "see http://(redacted)@x and https://(redacted)@y/z"),
    ("http://proxy.corp:3128", "http://proxy.corp:3128"),
    ("mail me@example.com", "mail me@example.com"),
    ("http://host/path?u=a@b", "http://host/path?u=a@b"),
    // Already redacted by the store (`user:***@`): the user name stays, nothing is masked twice.
    ("postgresql://hk:***@db.corp:5432/hk", "postgresql://hk:***@db.corp:5432/hk"),
    ("postgresql://hk:***x@db.corp/hk", "postgresql://(redacted)@db.corp/hk"),
    ("postgresql://:***@db.corp/hk", "postgresql://(redacted)@db.corp/hk"),
  ])
  func urlCredentials(input: String, expected: String) {
    #expect(Redaction.redact(text: input) == expected)
  }

  @Test func pemPrivateKeys() {
    let text = "before\n-----BEGIN RSA PRIVATE KEY-----\nMIIEabc\n-----END RSA PRIVATE KEY-----\nafter"
    let r = Redaction.redact(text: text)
    #expect(r == "before\n(redacted)\nafter")
    #expect(!r.contains("MIIE"))
    let cert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"
    #expect(Redaction.redact(text: cert) == cert)
  }

  @Test(arguments: [
    ("password", true), ("dbPassword", true), ("api_key", true), ("SECRET", true), ("sessionToken", true),
    ("privateKey", true), ("awsAccessKeyId", true), ("name", false), ("keyName", false),
    ("host", false),
  ])
  func secretKeys(key: String, secret: Bool) {
    #expect(Redaction.isSecretKey(key) == secret)
  }

  @Test func yamlTrees() throws {
    let root = try #require(
      try YAMLParser.parse(
        "spec:\n  egressProxy:\n    httpProxy: {host: \"http://u:p@proxy\", port: 3128}\n  secrets:\n    password: hunter2\n    token: 42\n    list: [a]\n  name: ok\n",
        file: "f.yaml"
      ).first)
    let r = Redaction.redact(root)
    #expect(r[path: "spec", "egressProxy", "httpProxy", "host"]?.stringValue == "http://(redacted)@proxy")
    #expect(r[path: "spec", "egressProxy", "httpProxy", "port"]?.intValue == 3128)
    // A subtree under a secret-named key is hidden whole (issue 17 item 5), keeping its position.
    #expect(r[path: "spec", "secrets"]?.stringValue == Redaction.mask)
    #expect(r[path: "spec", "name"]?.stringValue == "ok")
    #expect(r[path: "spec", "secrets"]?.mark == root[path: "spec", "secrets"]?.mark)
  }

  @Test func jsonValuesAndEmbeddedJSON() {
    let v = JSONValue.obj([
      ("clientSecret", .string("s3cr3t")), ("nested", .obj([("apiKey", .int(5))])),
      ("policy", .string(#"{"password":"x","url":"http://a:b@h"}"#)), ("plain", .string("fine")),
      ("tokens", .array([.string("t")])),
    ])
    let r = Redaction.redact(v)
    #expect(r["clientSecret"] == .string(Redaction.mask))
    #expect(r["nested"]?["apiKey"] == .string(Redaction.mask))
    #expect(r["policy"] == .string(#"{"password":"(redacted)","url":"http://(redacted)@h"}"#))
    #expect(r["plain"] == .string("fine"))
    #expect(r["tokens"] == .string(Redaction.mask))
  }
}

/// Issue 17 item 5: free-text secret forms without a scheme or a secret-named key around them.
@Suite struct FreeTextRedactionTests {
  @Test(arguments: [
    ("squid-user:Pr0xyPa55@proxy.corp:3128", "(redacted)@proxy.corp:3128"),
    ("HTTP_PROXY=u:p@proxy:3128", "HTTP_PROXY=(redacted)@proxy:3128"),
    ("http://user:Sl/ash/Pass@mirror.corp", "http://(redacted)@mirror.corp"),
    ("Authorization: Basic dXNlcjpwYXNz", "Authorization: Basic (redacted)"),
    ("-H 'authorization: Bearer abc.def'", "-H 'authorization: Bearer (redacted)'"),
    ("export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG", "export AWS_SECRET_ACCESS_KEY=(redacted)"),
    ("DB_PASSWORD=\"hunter 2\" next", "DB_PASSWORD=\"(redacted)\" next"),
    ("curl -u hookuser:HookPass99 http://x", "curl -u (redacted) http://x"),
    ("wget --user=alice:pw http://x", "wget --user=(redacted) http://x"),
    // Not secrets: left alone.
    ("held by hk:***@db.corp", "held by hk:***@db.corp"), ("u:p***@proxy:3128", "(redacted)@proxy:3128"),
    ("mail me@example.com", "mail me@example.com"), ("git@github.com:org/repo", "git@github.com:org/repo"),
    ("image@sha256:0123", "image@sha256:0123"), ("http://host/path?u=a@b", "http://host/path?u=a@b"),
    ("--create-kube-config=false", "--create-kube-config=false"), ("fd00::/8 10.0.0.0/8", "fd00::/8 10.0.0.0/8"),
    ("\"authorization\": {\"rbac\": {}}", "\"authorization\": {\"rbac\": {}}"),
    ("authorization:\n  rbac: {}", "authorization:\n  rbac: {}"),
  ])
  func freeText(input: String, expected: String) {
    #expect(Redaction.redact(text: input) == expected)
  }

  @Test func contentsAreDigests() {
    let v = JSONValue.obj([("name", .string("setup.sh")), ("content", .string("export TOKEN=abc\n"))])
    let c = Redaction.concealContent(.array([v]), path: "spec.additionalUserData")
    #expect(c.arrayValue?.first?["content"]?.stringValue?.hasPrefix("(content: 17 bytes, sha256:") == true)
    #expect(c.arrayValue?.first?["name"] == .string("setup.sh"))
    #expect(Redaction.concealContent(.string("x"), path: "spec.fileAssets[name=a].content") == .string(Redaction.contentSummary("x")))
  }
}

/// The scans' fast paths (a token-start table before the word-boundary test, `authorization`'s
/// second byte before the whole word) leave what is masked as it was.
@Suite struct RedactionScanTests {
  static let token: String = "ghp_" + String(repeating: "a1B2", count: 9)
  static let cases: [(String, String)] = [
    (token, "(redacted)"),
    ("x \(token)", "x (redacted)"),
    ("(\(token))", "((redacted))"),
    ("x\(token)", "x\(token)"),
    ("_\(token)", "_\(token)"),
    ("\(token)_", "\(token)_"),
    ("AUTHORIZATION: Basic dXNlcjpwYXNz", "AUTHORIZATION: Basic (redacted)"),
    ("aUthorization: Bearer abc", "aUthorization: Bearer (redacted)"),
    ("an authorisation: Bearer abc", "an authorisation: Bearer abc"),
  ]

  @Test(arguments: cases)
  func scans(input: String, expected: String) {
    #expect(Redaction.redact(text: input) == expected)
  }
}
