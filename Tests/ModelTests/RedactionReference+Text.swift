@testable import Model

// The reference redaction (RedactionReference.swift), continued: free text and contents.
/// Secrets in free text that have no `scheme://` and no secret-named key around them
/// (docs/SECURITY.md): kops's own proxy form `user:pass@host`, a URL password holding `/`,
/// `Authorization: Basic …`/`Bearer …`, `NAME=value` where NAME looks secret
/// (`AWS_SECRET_ACCESS_KEY=…`), and `curl -u user:pass` / `--user user:pass`.
extension RedactionReference {
  /// `text` with those secrets masked; nil when it holds none.
  static func redactFreeText(_ text: String) -> String? {
    let b = Array(text.utf8)
    var ranges: [Range<Int>] = []
    var hasAt = false
    var hasEq = false
    var hasDash = false
    var hasAuth = false
    for (i, c) in b.enumerated() {
      switch c {
      case 0x40: hasAt = true
      case 0x3D: hasEq = true
      case 0x2D: hasDash = true
      // `b[i + 1] | 0x20 == u` holds exactly for `u` and `U`: most `a`s are ruled out there.
      case 0x61, 0x41:
        if !hasAuth && i + 13 <= b.count && b[i + 1] | 0x20 == 0x75 && folded(b, at: i, "authorization") { hasAuth = true }
      default: break
      }
    }
    if hasAt { userinfo(b, into: &ranges) }
    if hasEq { assignments(b, into: &ranges) }
    if hasDash { userFlags(b, into: &ranges) }
    if hasAuth { authorization(b, into: &ranges) }
    guard !ranges.isEmpty else { return nil }
    ranges.sort { $0.lowerBound < $1.lowerBound }
    var out: [UInt8] = []
    out.reserveCapacity(b.count)
    var i = 0
    for r in ranges where r.upperBound > i {
      // An overlapping range continues the mask already written.
      if r.lowerBound >= i {
        out.append(contentsOf: b[i..<r.lowerBound])
        out.append(contentsOf: mask.utf8)
      }
      i = r.upperBound
    }
    out.append(contentsOf: b[i...])
    return String(decoding: out, as: UTF8.self)
  }

  static func folded(_ b: [UInt8], at i: Int, _ needle: String) -> Bool {
    var j = i
    for n in needle.utf8 {
      guard j < b.count else { return false }
      let c = b[j] >= 0x41 && b[j] <= 0x5A ? b[j] | 0x20 : b[j]
      if c != n { return false }
      j += 1
    }
    return true
  }

  /// Bytes that end a word of free text (whitespace, quotes, brackets, separators).
  static func isBreak(_ c: UInt8) -> Bool {
    c <= 0x20 || c == 0x22 || c == 0x27 || c == 0x60 || c == 0x2C || c == 0x3B || c == 0x28 || c == 0x29 || c == 0x3C
      || c == 0x3E || c == 0x5B || c == 0x5D || c == 0x7B || c == 0x7D || c == 0x7F
  }

  /// `user:pass@host` in a word (after `scheme://` if any, so a password may hold `/`): the
  /// part before the last `@` is masked when it holds a `:`. A word that is already masked, an
  /// e-mail address (no `:`) and `host/path?u=a@b` (no `:` before the `@`) stay.
  static func userinfo(_ b: [UInt8], into ranges: inout [Range<Int>]) {
    var i = 0
    while i < b.count {
      while i < b.count && (isBreak(b[i]) || b[i] == 0x3D) { i += 1 }
      var end = i
      while end < b.count && !isBreak(b[end]) && b[end] != 0x3D { end += 1 }
      // The word is b[i..<end]; its userinfo starts after "scheme://" when there is one.
      var start = i
      var k = i
      while k + 2 < end {
        if b[k] == 0x3A && b[k + 1] == 0x2F && b[k + 2] == 0x2F {
          start = k + 3
          break
        }
        k += 1
      }
      if let at = b[start..<end].lastIndex(of: 0x40), at > start, at + 1 < end {
        let info = b[start..<at]
        // Userinfo after a scheme is masked as before (token@host); without a scheme it must
        // hold a ':' (user:pass), and no '/' before that ':' (a path is no user name).
        if start > i {
          if !info.elementsEqual(mask.utf8) && !isAlreadyRedacted(info) && (info.contains(0x3A) || !info.contains(0x2F)) {
            ranges.append(start..<at)
          }
        } else if let colon = info.firstIndex(of: 0x3A), colon > start, !b[start..<colon].contains(0x2F), !isAlreadyRedacted(info) {
          ranges.append(start..<at)
        }
      }
      i = max(end, i + 1)
    }
  }

  /// `NAME=value` and `NAME="value"` where NAME looks secret (``isSecretKey(_:)``).
  static func assignments(_ b: [UInt8], into ranges: inout [Range<Int>]) {
    func isName(_ c: UInt8) -> Bool {
      (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F || c == 0x2D || c == 0x2E
    }
    for (eq, c) in b.enumerated() where c == 0x3D {
      var s = eq
      while s > 0 && isName(b[s - 1]) { s -= 1 }
      guard s < eq, isSecretKey(String(decoding: b[s..<eq], as: UTF8.self)) else { continue }
      var v = eq + 1
      guard v < b.count else { continue }
      var end = v
      if b[v] == 0x22 || b[v] == 0x27 {
        let quote = b[v]
        v += 1
        end = v
        while end < b.count && b[end] != quote && b[end] != 0x0A { end += 1 }
      } else {
        while end < b.count && !(b[end] <= 0x20 || b[end] == 0x22 || b[end] == 0x27 || b[end] == 0x3B || b[end] == 0x26) { end += 1 }
      }
      if end > v && !b[v..<end].elementsEqual(mask.utf8) { ranges.append(v..<end) }
    }
  }

  /// `-u user:pass`, `--user user:pass`, `--user=user:pass`, `-uuser:pass` (curl, wget).
  static func userFlags(_ b: [UInt8], into ranges: inout [Range<Int>]) {
    var i = 0
    while i < b.count {
      guard b[i] == 0x2D, i == 0 || b[i - 1] <= 0x20 else {
        i += 1
        continue
      }
      var v: Int? = nil
      if i + 2 <= b.count && b[i + 1] == 0x75 {  // -u
        v = i + 2
      } else if i + 1 < b.count && b[i + 1] != 0x2D {
        v = nil  // neither `--user` nor `--proxy-user`
      } else if folded(b, at: i, "--user") && i + 6 <= b.count && (i + 6 == b.count || b[i + 6] == 0x20 || b[i + 6] == 0x3D) {
        v = i + 6
      } else if folded(b, at: i, "--proxy-user") {
        v = i + 12
      }
      guard var start = v else {
        i += 1
        continue
      }
      while start < b.count && (b[start] == 0x20 || b[start] == 0x3D) { start += 1 }
      var quote: UInt8? = nil
      if start < b.count && (b[start] == 0x22 || b[start] == 0x27) {
        quote = b[start]
        start += 1
      }
      var end = start
      while end < b.count && (quote.map { b[end] != $0 } ?? !(b[end] <= 0x20)) && b[end] != 0x0A { end += 1 }
      if b[start..<end].contains(0x3A) { ranges.append(start..<end) }
      i = max(end, i + 1)
    }
  }

  /// The credentials after `Authorization:` / `Authorization=` (to the end of the line or quote),
  /// keeping the scheme word (`Basic`, `Bearer`).
  static func authorization(_ b: [UInt8], into ranges: inout [Range<Int>]) {
    var i = 0
    while i + 13 <= b.count {
      guard b[i] | 0x20 == 0x61, folded(b, at: i, "authorization") else {
        i += 1
        continue
      }
      var j = i + 13
      while j < b.count && (b[j] == 0x22 || b[j] == 0x27) { j += 1 }
      guard j < b.count, b[j] == 0x3A || b[j] == 0x3D else {
        i = j
        continue
      }
      j += 1
      while j < b.count && (b[j] == 0x20 || b[j] == 0x22 || b[j] == 0x27) { j += 1 }
      // A structure (kops's `authorization: {rbac: {}}`, in JSON or YAML) is no credential.
      if j < b.count && (b[j] == 0x7B || b[j] == 0x5B) {
        i = j
        continue
      }
      var word = j
      while word < b.count && b[word] > 0x20 && b[word] != 0x22 && b[word] != 0x27 { word += 1 }
      let scheme = String(decoding: b[j..<word], as: UTF8.self).lowercased()
      var start = j
      if ["basic", "bearer", "token", "digest", "aws4-hmac-sha256"].contains(scheme) {
        start = word
        while start < b.count && b[start] == 0x20 { start += 1 }
      }
      var end = start
      while end < b.count && b[end] != 0x0A && b[end] != 0x0D && b[end] != 0x22 && b[end] != 0x27 { end += 1 }
      if end > start && !b[start..<end].elementsEqual(mask.utf8) { ranges.append(start..<end) }
      i = max(end, i + 1)
    }
  }
}
/// File and script contents in kops objects (`spec.fileAssets[].content`, an instance group's
/// `spec.additionalUserData[].content`) are shown as a digest and a length: they are where
/// credentials hide in free form (`export AWS_SECRET_ACCESS_KEY=…`). `hk plan --show-content`
/// and `hk state show --show-content` show them (still redacted) (docs/SECURITY.md).
extension RedactionReference {
  /// Keys whose string values are file or script contents.
  static let contentKeys: Set<String> = ["content"]

  static func contentSummary(_ s: String) -> String { Redaction.contentSummary(s) }

  /// `value` with every string under a content key replaced by ``contentSummary(_:)``;
  /// `path` is where the value sits (its last component decides for a bare string).
  static func concealContent(_ value: JSONValue, path: String) -> JSONValue {
    if case .string(let s) = value {
      let last = path.split(separator: ".").last.map(String.init) ?? path
      return contentKeys.contains(last) ? .string(contentSummary(s)) : value
    }
    return concealContent(value)
  }

  static func concealContent(_ value: JSONValue) -> JSONValue {
    switch value {
    case .array(let items): return .array(items.map(concealContent))
    case .object(let members):
      return .object(
        members.map { m in
          if contentKeys.contains(m.key), case .string(let s) = m.value { return JSONValue.Member(m.key, .string(contentSummary(s))) }
          return JSONValue.Member(m.key, concealContent(m.value))
        })
    default: return value
    }
  }
}
