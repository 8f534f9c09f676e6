/// Removes secrets from everything hk prints, stores in saved plans or journals: credentials in
/// URLs (`http://user:pass@proxy`), values under keys named like password/token/secret/key
/// material, and PEM private keys.
///
/// Everything here runs over every string of every plan and over the whole printed output, and
/// almost never finds anything: each entry point answers "unchanged" from one pass over the
/// bytes, without copying or allocating (``redactedText(_:)``, ``redacted(_:)``).
public enum Redaction {
  public static let mask = "(redacted)"

  /// Whether a mapping key names a secret (`password`, `token`, `secret`, `privateKey`, …).
  public static func isSecretKey(_ key: String) -> Bool {
    var key = key  // native strings: no copy (withUTF8 only copies a bridged string)
    return key.withUTF8 { isSecretKey(bytes: $0) }
  }

  /// ``isSecretKey(_:)`` on bytes: whether `k`, ASCII letters folded to lower case, contains one of
  /// ``secretKeyNeedles``. One pass: only the bytes a needle starts with look further.
  static func isSecretKey(bytes k: UnsafeBufferPointer<UInt8>) -> Bool {
    let n = k.count
    var i = 0
    while i + 5 <= n {  // no needle is shorter than 5 bytes
      // `c | 0x20 == x` for a lower-case letter x holds exactly for x and its upper case.
      switch k[i] | 0x20 {
      case 0x70:  // p
        if folded(k, i, "password") || folded(k, i, "passwd") || folded(k, i, "privatekey") || folded(k, i, "private_key") {
          return true
        }
      case 0x74: if folded(k, i, "token") { return true }  // t
      case 0x73: if folded(k, i, "secret") || folded(k, i, "sessionkey") { return true }  // s
      case 0x61:  // a
        if folded(k, i, "apikey") || folded(k, i, "api_key") || folded(k, i, "accesskey") || folded(k, i, "access_key") {
          return true
        }
      case 0x63: if folded(k, i, "credential") { return true }  // c
      default: break
      }
      i += 1
    }
    return false
  }

  /// The needles ``isSecretKey(bytes:)`` looks for (its `switch` spells them out by first letter).
  static let secretKeyNeedles: [String] = [
    "password", "passwd", "token", "secret", "privatekey", "private_key", "apikey", "api_key", "accesskey",
    "access_key", "credential", "sessionkey",
  ]

  /// Whether `b[i...]`, ASCII letters folded to lower case, starts with `needle` (lower case).
  @inline(__always)
  static func folded(_ b: UnsafeBufferPointer<UInt8>, _ i: Int, _ needle: StaticString) -> Bool {
    let m = needle.utf8CodeUnitCount
    guard i >= 0, m <= b.count - i else { return false }
    let p = needle.utf8Start
    for j in 0..<m {
      let c = b[i + j]
      if (c >= 0x41 && c <= 0x5A ? c | 0x20 : c) != p[j] { return false }
    }
    return true
  }

  /// Whether `b[i...]` starts with `needle` (exact bytes).
  @inline(__always)
  static func matches(_ b: UnsafeBufferPointer<UInt8>, _ i: Int, _ needle: StaticString) -> Bool {
    let m = needle.utf8CodeUnitCount
    guard i >= 0, m <= b.count - i else { return false }
    let p = needle.utf8Start
    for j in 0..<m where b[i + j] != p[j] { return false }
    return true
  }

  /// Redacts URL userinfo (`scheme://user:pass@host` → `scheme://(redacted)@host`), PEM
  /// private-key blocks, tokens of well-known formats (``tokenShapes``) and the free-text forms of
  /// Redaction+Text.swift. Returns `text` itself (no copy) when nothing is to be masked.
  public static func redact(text: String) -> String {
    redactedText(text) ?? text
  }

  /// ``redact(text:)``, nil when nothing changes. The stages run in order, each on what the one
  /// before left: URL userinfo, PEM blocks, tokens, free text. One ``scan(_:)`` of the bytes finds
  /// what each stage would do; a text that only the last stage changes (or none) is read once.
  static func redactedText(_ text: String) -> String? {
    switch redactStages(text, refusingPEM: false) {
    case .changed(let s): return s
    case .unchanged, .refused: return nil
    }
  }

  enum StagesResult {
    case unchanged
    case changed(String)
    /// The text holds `PRIVATE KEY-----` and the caller asked not to redact it then.
    case refused
  }

  static func redactStages(_ text: String, refusingPEM: Bool) -> StagesResult {
    var s = text
    var found = s.withUTF8 { scan($0) }
    if refusingPEM && found.pem { return .refused }
    var changed = false
    if found.urlCredentials || found.pem {
      // Rare: these two stages work on Characters, as they always did; the text is scanned again.
      if found.urlCredentials { s = redactURLCredentials(s) }
      if found.pem { s = redactPEM(s) }
      changed = true
      found = s.withUTF8 { scan($0) }
    }
    if !found.tokens.isEmpty {
      // Free text is looked for in the text with its tokens masked (so scanned again).
      s = s.withUTF8 { masked($0, found.tokens) }
      changed = true
      found = s.withUTF8 { scan($0) }
    }
    if !found.freeText.isEmpty {
      found.freeText.sort { $0.lowerBound < $1.lowerBound }
      s = s.withUTF8 { masked($0, found.freeText) }
      changed = true
    }
    return changed ? .changed(s) : .unchanged
  }

  /// ``redact(text:)`` of one part of a text redacted part by part (the parts of a plan, in
  /// parallel); nil when this part cannot be redacted alone, and the caller redacts the whole.
  ///
  /// Redacting each part alone and joining the results is exactly `redact(text:)` of the joined
  /// parts when every part but the last (`last`) ends its last line with `\n` (not `\r\n`, which
  /// is one Character) and no part holds `PRIVATE KEY-----`. Only the PEM rule spans lines; every
  /// other one stops at a `\n` byte (the byte rules) or a `\n` Character (the URL rule), never
  /// reaches back before a line's start, and treats a line's start like the start of the text;
  /// the URL stage, which runs only when the text holds both `://` and `@`, masks nothing in a
  /// part without both.
  public static func redact(part: String, last: Bool) -> String? {
    if !last {
      let endsLine = part.utf8.last == 0x0A && part.utf8.dropLast().last != 0x0D
      guard endsLine else { return nil }
    }
    switch redactStages(part, refusingPEM: true) {
    case .unchanged: return part
    case .changed(let s): return s
    case .refused: return nil
    }
  }

  /// ``redact(part:last:)`` of a part held as UTF-8 (a plan's section as the renderer wrote it):
  /// `part` itself when nothing is masked, so the section is neither decoded into a `String` nor
  /// copied; nil when the part cannot be redacted alone. `part` must be valid UTF-8 (every
  /// section is: it is made of `String`s' bytes cut at line feeds only).
  public static func redact(part: [UInt8], last: Bool) -> [UInt8]? {
    if !last {
      let n = part.count
      guard n > 0, part[n - 1] == 0x0A, n < 2 || part[n - 2] != 0x0D else { return nil }
    }
    let found = part.withUnsafeBufferPointer { scan($0) }
    if found.pem { return nil }
    if !found.urlCredentials && found.tokens.isEmpty && found.freeText.isEmpty { return part }
    // Something to mask (rare): the text's stages, as for a `String` part.
    switch redactStages(String(decoding: part, as: UTF8.self), refusingPEM: true) {
    case .unchanged: return part
    case .changed(let s): return Array(s.utf8)
    case .refused: return nil
    }
  }

  /// `b` with each range (sorted by lower bound) replaced by the mask; ranges that overlap the
  /// one before continue its mask, and adjacent ones get a mask each.
  static func masked(_ b: UnsafeBufferPointer<UInt8>, _ ranges: [Range<Int>]) -> String {
    var out: [UInt8] = []
    out.reserveCapacity(b.count + 16)
    var i = 0
    for r in ranges where r.upperBound > i {
      if r.lowerBound >= i {
        out.append(contentsOf: UnsafeBufferPointer(rebasing: b[i..<r.lowerBound]))
        out.append(contentsOf: mask.utf8)
      }
      i = r.upperBound
    }
    out.append(contentsOf: UnsafeBufferPointer(rebasing: b[i..<b.count]))
    return String(decoding: out, as: UTF8.self)
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
}
