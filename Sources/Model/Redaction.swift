/// Removes secrets from everything hk prints, stores in saved plans or journals: credentials in
/// URLs (`http://user:pass@proxy`), values under keys named like password/token/secret/key
/// material, and PEM private keys.
public enum Redaction {
  public static let mask = "(redacted)"

  /// Whether a mapping key names a secret (`password`, `token`, `secret`, `privateKey`, …).
  public static func isSecretKey(_ key: String) -> Bool {
    let k = key.lowercased()
    for needle in ["password", "passwd", "token", "secret", "privatekey", "private_key", "apikey", "api_key",
      "accesskey", "access_key", "credential", "sessionkey"]
    where k.contains(needle) {
      return true
    }
    return false
  }

  /// Redacts URL userinfo (`scheme://user:pass@host` → `scheme://(redacted)@host`), PEM
  /// private-key blocks and AWS-style secret tokens inside free text.
  public static func redact(text: String) -> String {
    var s = text
    if s.contains("://") && s.contains("@") { s = redactURLCredentials(s) }
    if s.contains("PRIVATE KEY-----") { s = redactPEM(s) }
    return s
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
      if let at {
        out += mask
        rest = rest[at...]
      }
    }
    return out + rest
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

  /// Redacts a YAML tree: secret-named keys' values become the mask; strings lose URL credentials.
  public static func redact(_ node: YAMLNode) -> YAMLNode {
    switch node.content {
    case .scalar(let s):
      guard s.value.string != nil else { return node }
      let r = redact(text: s.text)
      return r == s.text ? node : YAMLNode(.scalar(YAMLScalar(r, style: .doubleQuoted)), mark: node.mark)
    case .sequence(let items):
      return YAMLNode(.sequence(items.map(redact)), mark: node.mark)
    case .mapping(let pairs):
      return YAMLNode(
        .mapping(
          pairs.map { p in
            if isSecretKey(p.key), p.value.scalar != nil, !p.value.isNull {
              return YAMLPair(key: p.key, keyMark: p.keyMark, value: .string(mask, mark: p.value.mark))
            }
            return YAMLPair(key: p.key, keyMark: p.keyMark, value: redact(p.value))
          }), mark: node.mark)
    }
  }

  /// Redacts a JSON value the same way (also JSON embedded in strings, such as IAM policies).
  public static func redact(_ value: JSONValue) -> JSONValue {
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
            switch mem.value {
            case .object, .array, .null: return JSONValue.Member(mem.key, redact(mem.value))
            default: return JSONValue.Member(mem.key, .string(mask))
            }
          }
          return JSONValue.Member(mem.key, redact(mem.value))
        })
    default: return value
    }
  }
}
