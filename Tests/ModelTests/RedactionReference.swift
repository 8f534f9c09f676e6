@testable import Model

// The redaction as it was before the byte-scan rewrite (f5e373f), kept as the reference the
// differential tests compare the new implementation with. Do not optimise this file.

/// Removes secrets from everything hk prints, stores in saved plans or journals: credentials in
/// URLs (`http://user:pass@proxy`), values under keys named like password/token/secret/key
/// material, and PEM private keys.
enum RedactionReference {
  static let mask = "(redacted)"

  /// Whether a mapping key names a secret (`password`, `token`, `secret`, `privateKey`, …).
  static func isSecretKey(_ key: String) -> Bool {
    // Byte-level, case-folded search in place: `String.contains` builds a searcher per call,
    // and this runs on every key of every plan value (no copy of the key either).
    var key = key
    return key.withUTF8 { k in
      for needle in secretKeyNeedles where containsFolded(k, needle) { return true }
      return false
    }
  }

  /// Whether `h`, ASCII letters folded to lower case, contains `n` (lower case).
  static func containsFolded(_ h: UnsafeBufferPointer<UInt8>, _ n: [UInt8]) -> Bool {
    guard n.count <= h.count, let first = n.first else { return n.isEmpty }
    @inline(__always) func fold(_ c: UInt8) -> UInt8 { c >= 0x41 && c <= 0x5A ? c | 0x20 : c }
    var i = 0
    while i + n.count <= h.count {
      if fold(h[i]) == first {
        var j = 1
        while j < n.count && fold(h[i + j]) == n[j] { j += 1 }
        if j == n.count { return true }
      }
      i += 1
    }
    return false
  }

  static let secretKeyNeedles: [[UInt8]] = [
    "password", "passwd", "token", "secret", "privatekey", "private_key", "apikey", "api_key", "accesskey",
    "access_key", "credential", "sessionkey",
  ].map { Array($0.utf8) }

  static let privateKeyMarker = Array("PRIVATE KEY-----".utf8)

  static func matches(_ b: UnsafeBufferPointer<UInt8>, at i: Int, _ needle: [UInt8]) -> Bool {
    guard i + needle.count <= b.count else { return false }
    for j in 0..<needle.count where b[i + j] != needle[j] { return false }
    return true
  }

  /// Redacts URL userinfo (`scheme://user:pass@host` → `scheme://(redacted)@host`), PEM
  /// private-key blocks and tokens of well-known formats (``tokenShapes``) inside free text.
  static func redact(text: String) -> String {
    var s = text
    // One byte-level pass decides which (rare) rewrites are needed: `String.contains` would
    // build a searcher per call, and this runs on every value and command line hk prints.
    let (url, pem) =
      text.utf8.withContiguousStorageIfAvailable { b -> (Bool, Bool) in
        var url = false
        var pem = false
        var i = 0
        while i < b.count {
          if b[i] == 0x3A, i + 2 < b.count, b[i + 1] == 0x2F, b[i + 2] == 0x2F { url = true }  // "://"
          if b[i] == 0x50, !pem, matches(b, at: i, privateKeyMarker) { pem = true }  // "PRIVATE KEY-----"
          i += 1
        }
        return (url, pem)
      } ?? (text.contains("://"), text.contains("PRIVATE KEY-----"))
    if url && text.utf8.contains(0x40) { s = redactURLCredentials(s) }
    if pem { s = redactPEM(s) }
    if let r = redactTokens(s) { s = r }
    if let r = redactFreeText(s) { s = r }
    return s
  }

  /// The characters a token's body may hold.
  enum TokenAlphabet: Sendable {
    case alphanumeric, alphanumericUnderscore, alphanumericDash, alphanumericDashUnderscore, upperDigit, jwt

    func contains(_ c: UInt8) -> Bool {
      let alnum = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
      switch self {
      case .alphanumeric: return alnum
      case .alphanumericUnderscore: return alnum || c == 0x5F
      case .alphanumericDash: return alnum || c == 0x2D
      case .alphanumericDashUnderscore: return alnum || c == 0x2D || c == 0x5F
      case .upperDigit: return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A)
      case .jwt: return alnum || c == 0x2D || c == 0x5F || c == 0x2E
      }
    }
  }

  /// Token formats recognised by their shape wherever they appear (a value under a key that
  /// does not look secret, free text in kops output): a prefix, the body's alphabet and its
  /// least length (`exact`: exactly that length). A token must start at a word boundary.
  ///
  /// | prefix | what |
  /// | --- | --- |
  /// | `ghp_` `gho_` `ghu_` `ghs_` `ghr_` `github_pat_` | GitHub tokens |
  /// | `glpat-` | GitLab personal access tokens |
  /// | `xoxb-` `xoxp-` `xoxa-` `xoxr-` `xoxs-` | Slack tokens |
  /// | `AKIA` `ASIA` + 16 | AWS access key IDs |
  /// | `sk_live_` `rk_live_` | Stripe secret keys |
  /// | `npm_` | npm tokens |
  /// | `hvs.` | HashiCorp Vault service tokens |
  /// | `eyJ` with two dots | JSON Web Tokens |
  static let tokenShapes: [(prefix: [UInt8], alphabet: TokenAlphabet, minimum: Int, exact: Bool)] = [
    (Array("ghp_".utf8), .alphanumeric, 30, false), (Array("gho_".utf8), .alphanumeric, 30, false),
    (Array("ghu_".utf8), .alphanumeric, 30, false), (Array("ghs_".utf8), .alphanumeric, 30, false),
    (Array("ghr_".utf8), .alphanumeric, 30, false), (Array("github_pat_".utf8), .alphanumericUnderscore, 20, false),
    (Array("glpat-".utf8), .alphanumericDashUnderscore, 20, false),
    (Array("xoxb-".utf8), .alphanumericDash, 10, false), (Array("xoxp-".utf8), .alphanumericDash, 10, false),
    (Array("xoxa-".utf8), .alphanumericDash, 10, false), (Array("xoxr-".utf8), .alphanumericDash, 10, false),
    (Array("xoxs-".utf8), .alphanumericDash, 10, false),
    (Array("AKIA".utf8), .upperDigit, 16, true), (Array("ASIA".utf8), .upperDigit, 16, true),
    (Array("sk_live_".utf8), .alphanumeric, 16, false), (Array("rk_live_".utf8), .alphanumeric, 16, false),
    (Array("npm_".utf8), .alphanumeric, 36, false), (Array("hvs.".utf8), .alphanumericDashUnderscore, 24, false),
    (Array("eyJ".utf8), .jwt, 30, false),
  ]

  /// Which bytes start a token of ``tokenShapes``.
  static let tokenStarts: [Bool] = (0..<256).map { c in tokenShapes.contains { Int($0.prefix[0]) == c } }

  /// `text` with every token of ``tokenShapes`` masked; nil when it holds none.
  static func redactTokens(_ text: String) -> String? {
    func isWord(_ c: UInt8) -> Bool { TokenAlphabet.alphanumericUnderscore.contains(c) }
    func tokenEnd(_ b: UnsafeBufferPointer<UInt8>, _ i: Int) -> Int? {
      for shape in tokenShapes where b[i] == shape.prefix[0] && b.count - i > shape.prefix.count {
        var k = 1
        while k < shape.prefix.count && b[i + k] == shape.prefix[k] { k += 1 }
        guard k == shape.prefix.count else { continue }
        var j = i + k
        var dots = 0
        while j < b.count && shape.alphabet.contains(b[j]) {
          if b[j] == 0x2E { dots += 1 }
          j += 1
        }
        let n = j - i - k
        guard shape.exact ? n == shape.minimum : n >= shape.minimum else { continue }
        if shape.alphabet == .jwt && dots < 2 { continue }
        if j < b.count && isWord(b[j]) { continue }
        return j
      }
      return nil
    }
    var utf8 = text
    let starts = tokenStarts
    return utf8.withUTF8 { b -> String? in
      var out: [UInt8]? = nil
      var copied = 0
      var i = 0
      while i < b.count {
        // Most bytes start no token (one table look-up); a token starts at a word boundary.
        if starts[Int(b[i])], i == 0 || !isWord(b[i - 1]), let end = tokenEnd(b, i) {
          if out == nil { out = [] }
          out?.append(contentsOf: UnsafeBufferPointer(rebasing: b[copied..<i]))
          out?.append(contentsOf: mask.utf8)
          copied = end
          i = end
          continue
        }
        i += 1
      }
      guard var result = out else { return nil }
      result.append(contentsOf: UnsafeBufferPointer(rebasing: b[copied..<b.count]))
      return String(decoding: result, as: UTF8.self)
    }
  }

  static func redactURLCredentials(_ text: String) -> String {
    var out = ""
    var rest = Substring(text)
    while let r = rest.firstRange(of: "://") {
      out += rest[..<r.upperBound]
      rest = rest[r.upperBound...]
      // userinfo ends at '@' before any '/', whitespace, quote or end
      var end = rest.startIndex
      var at: Substring.Index? = nil
      while end < rest.endIndex {
        let c = rest[end]
        if c == "/" || c == " " || c == "\"" || c == "'" || c == "\n" || c == "," || c == "?" { break }
        if c == "@" { at = end }
        end = rest.index(after: end)
      }
      if let at, !isAlreadyRedacted(rest[..<at].utf8) {
        out += mask
        rest = rest[at...]
      }
    }
    return out + rest
  }

  /// Userinfo that an earlier redaction already made safe: `user:***` (how the state store prints
  /// a location, docs/STATE.md). Masking it again would only lose the user name.
  static func isAlreadyRedacted<C: Collection<UInt8>>(_ info: C) -> Bool {
    guard let colon = info.firstIndex(of: 0x3A), colon != info.startIndex else { return false }
    return info[info.index(after: colon)...].elementsEqual("***".utf8)
  }

  static func redactPEM(_ text: String) -> String {
    var out = ""
    var rest = Substring(text)
    while let b = rest.firstRange(of: "-----BEGIN"), let e = rest[b.upperBound...].firstRange(of: "PRIVATE KEY-----"),
      let end = rest[e.upperBound...].firstRange(of: "-----END")
    {
      out += rest[..<b.lowerBound] + mask
      if let close = rest[end.upperBound...].firstRange(of: "-----") {
        rest = rest[close.upperBound...]
      } else {
        rest = rest[end.upperBound...]
      }
    }
    return out + rest
  }

  /// Redacts a JSON value the same way (also JSON embedded in strings, such as IAM policies).
  static func redact(_ value: JSONValue) -> JSONValue {
    switch value {
    case .string(let s):
      var r = redact(text: s)
      if r.hasPrefix("[") || r.hasPrefix("{"), let inner = try? JSONValue.parse(r) {
        let red = redact(inner)
        if red != inner { r = red.serialized() }
      }
      return .string(r)
    case .array(let a): return .array(a.map(redact))
    case .object(let m):
      return .object(
        m.map { mem in
          if isSecretKey(mem.key) {
            // A secret-named key hides its whole value, a subtree included.
            return mem.value == .null ? mem : JSONValue.Member(mem.key, .string(mask))
          }
          return JSONValue.Member(mem.key, redact(mem.value))
        })
    default: return value
    }
  }
}
