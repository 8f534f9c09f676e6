/// Secrets in free text that have no `scheme://` and no secret-named key around them
/// (docs/SECURITY.md): kops's own proxy form `user:pass@host`, a URL password holding `/`,
/// `Authorization: Basic …`/`Bearer …`, `NAME=value` where NAME looks secret
/// (`AWS_SECRET_ACCESS_KEY=…`), and `curl -u user:pass` / `--user user:pass`.
///
/// One pass over the bytes (``scan(_:)``) finds them, the tokens of ``tokenShapes`` and what the
/// URL and PEM stages need: a 256-entry table marks the few bytes where anything can happen, and
/// only those look further. Each rule keeps where it may next match, so a match skips what it
/// consumed exactly as the rule's own pass over the text did.
extension Redaction {
  /// What ``scan(_:)`` finds in a text.
  struct TextScan {
    /// `://` somewhere, `@` somewhere, `PRIVATE KEY-----` somewhere: the URL and PEM stages' gates.
    var url = false
    var at = false
    var pem = false
    /// The tokens to mask (in order, disjoint), and the free-text ranges (any order, may overlap).
    var tokens: [Range<Int>] = []
    var freeText: [Range<Int>] = []
    /// Where the token, userinfo, user-flag and authorization rules may next start.
    var tokenNext = 0
    var userinfoNext = 0
    var flagNext = 0
    var authNext = 0

    var urlCredentials: Bool { url && at }
  }

  /// Per byte: 1 starts a token (a first byte of ``tokenShapes``), 2 may start a rule (`/` of
  /// `://`, `@`, `=`, `-`, `z`/`Z` of `authorization`, `Y` of `PRIVATE KEY`), 4 is a word byte,
  /// 8 is `\`.
  static let scanClasses: [UInt8] = (0..<256).map { c in
    var k: UInt8 = 0
    if tokenShapes.contains(where: { Int($0.prefix[0]) == c }) { k |= 1 }
    if [0x2F, 0x40, 0x3D, 0x2D, 0x7A, 0x5A, 0x59].contains(c) { k |= 2 }
    if isWord(UInt8(c)) { k |= 4 }
    if c == 0x5C { k |= 8 }  // `\`, for ``isInertJSON(_:)``
    return k
  }

  /// Entry `c << 8 | p` (byte `c` after byte `p`) is 1 when `c` needs a look there: it may start
  /// a token (class 1 of ``scanClasses``) and `p` is no word byte (class 4), or it is a rule's
  /// byte (class 2) after the byte its rule needs before it to do anything (``rule(_:_:_:)``'s
  /// first test): `@` always; `/` after `:` (`://`), `-` after whitespace or a control (a flag),
  /// `=` after a name byte (`NAME=`), `z`/`Z` after `i`/`I` (`authoriz`), `Y` after `E`
  /// (`PRIVATE KEY`). A byte's own class and the one before decide it, so ``scan(_:)`` reads
  /// both bytes at once and carries no state from byte to byte.
  static let scanStops: [UInt8] = {
    func isName(_ c: Int) -> Bool {
      (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F || c == 0x2D || c == 0x2E
    }
    var t = [UInt8](repeating: 0, count: 65536)
    for c in 0..<256 {
      let k = scanClasses[c]
      for p in 0..<256 {
        let token = k & 1 != 0 && scanClasses[p] & 4 == 0
        let rule: Bool
        switch c {
        case 0x40: rule = true
        case 0x2F: rule = p == 0x3A
        case 0x2D: rule = p <= 0x20
        case 0x3D: rule = isName(p)
        case 0x7A, 0x5A: rule = p == 0x69 || p == 0x49
        case 0x59: rule = p == 0x45
        default: rule = false
        }
        if token || rule { t[c << 8 | p] = 1 }
      }
    }
    return t
  }()

  /// Finds what each stage of ``redactedText(_:)`` would mask in `b`.
  ///
  /// A byte needs a look where it may start a rule, or a token after a byte that is no word
  /// byte (the text's start counts as none): nearly no byte does, and ``scanStops`` tells which
  /// from the byte and the one before, four bytes a round. The bytes that do are looked at in
  /// order, as one pass byte by byte would.
  static func scan(_ b: UnsafeBufferPointer<UInt8>) -> TextScan {
    var found = TextScan()
    let n = b.count
    guard let base = b.baseAddress, n > 0 else { return found }
    let raw = UnsafeRawPointer(base)
    scanClasses.withUnsafeBufferPointer { classes in
      scanStops.withUnsafeBufferPointer { st in
        tokenPairs.withUnsafeBufferPointer { pairs in
          // Indices are in bounds by construction: a class for each of the 256 bytes, a stop and
          // a pair for each two bytes; `stop(i)` reads bytes `i - 1` and `i`, and is asked only
          // for `1 <= i < n` (four at a time only while `i + 3 < n`).
          guard let stops = st.baseAddress else { return }
          @inline(__always) func stop(_ i: Int) -> UInt8 {
            stops[Int(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: i - 1, as: UInt16.self)))]
          }
          var i = 0
          var k = classes[Int(b[0])]
          if k & 3 == 0 { i = 1 }  // the first byte needs a look when it may start either
          while true {
            if i > 0 {
              while i + 4 <= n {
                if stop(i) | stop(i + 1) | stop(i + 2) | stop(i + 3) != 0 { break }
                i += 4
              }
              while i < n && stop(i) == 0 { i += 1 }
              if i >= n { break }
              k = classes[Int(b[i])]
            }
            if k & 1 != 0 {
              if i + 1 < n, pairs[Int(b[i]) << 8 | Int(b[i + 1])], i >= found.tokenNext, let end = tokenEnd(b, i) {
                found.tokens.append(i..<end)
                found.tokenNext = end
              }
            } else {
              rule(b, i, &found)
            }
            i += 1
            if i >= n { break }
          }
        }
      }
    }
    return found
  }

  /// The byte at `i` may start a rule (class 2 of ``scanClasses``).
  @inline(never)
  static func rule(_ b: UnsafeBufferPointer<UInt8>, _ i: Int, _ found: inout TextScan) {
    let n = b.count
    switch b[i] {
    case 0x2F: if i >= 1 && b[i - 1] == 0x3A && i + 1 < n && b[i + 1] == 0x2F { found.url = true }  // "://"
    case 0x40:
      found.at = true
      if i >= found.userinfoNext { userinfo(b, around: i, &found) }
    case 0x59: if !found.pem && matches(b, i - 10, "PRIVATE KEY-----") { found.pem = true }
    case 0x3D: assignment(b, at: i, into: &found.freeText)
    case 0x2D: if (i == 0 || b[i - 1] <= 0x20) && i >= found.flagNext { userFlag(b, at: i, &found) }
    default:  // z, Z: the 8th byte of "authorization"
      let a = i - 7
      if a >= found.authNext && folded(b, a, "authorization") { authorization(b, at: a, &found) }
    }
  }

  /// Bytes that end a word of free text (whitespace, quotes, brackets, separators).
  @inline(__always)
  static func isBreak(_ c: UInt8) -> Bool {
    c <= 0x20 || c == 0x22 || c == 0x27 || c == 0x60 || c == 0x2C || c == 0x3B || c == 0x28 || c == 0x29 || c == 0x3C
      || c == 0x3E || c == 0x5B || c == 0x5D || c == 0x7B || c == 0x7D || c == 0x7F
  }

  /// `user:pass@host` in a word (after `scheme://` if any, so a password may hold `/`): the
  /// part before the last `@` is masked when it holds a `:`. A word that is already masked, an
  /// e-mail address (no `:`) and `host/path?u=a@b` (no `:` before the `@`) stay. Words are split
  /// at breaks and `=`; `p` is an `@` in the word.
  static func userinfo(_ b: UnsafeBufferPointer<UInt8>, around p: Int, _ found: inout TextScan) {
    let n = b.count
    var i = p
    while i > 0 && !isBreak(b[i - 1]) && b[i - 1] != 0x3D { i -= 1 }
    var end = p
    while end < n && !isBreak(b[end]) && b[end] != 0x3D { end += 1 }
    found.userinfoNext = end
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
    guard let at = b[start..<end].lastIndex(of: 0x40), at > start, at + 1 < end else { return }
    let info = b[start..<at]
    // Userinfo after a scheme is masked as before (token@host); without a scheme it must
    // hold a ':' (user:pass), and no '/' before that ':' (a path is no user name).
    if start > i {
      if !info.elementsEqual(mask.utf8) && !isAlreadyRedacted(info) && (info.contains(0x3A) || !info.contains(0x2F)) {
        found.freeText.append(start..<at)
      }
    } else if let colon = info.firstIndex(of: 0x3A), colon > start, !b[start..<colon].contains(0x2F), !isAlreadyRedacted(info) {
      found.freeText.append(start..<at)
    }
  }

  /// `NAME=value` and `NAME="value"` where NAME looks secret (``isSecretKey(_:)``); `eq` is the `=`.
  static func assignment(_ b: UnsafeBufferPointer<UInt8>, at eq: Int, into ranges: inout [Range<Int>]) {
    @inline(__always) func isName(_ c: UInt8) -> Bool {
      (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F || c == 0x2D || c == 0x2E
    }
    var s = eq
    while s > 0 && isName(b[s - 1]) { s -= 1 }
    guard s < eq, isSecretKey(bytes: UnsafeBufferPointer(rebasing: b[s..<eq])) else { return }
    var v = eq + 1
    guard v < b.count else { return }
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

  /// `-u user:pass`, `--user user:pass`, `--user=user:pass`, `-uuser:pass` (curl, wget); `i` is a
  /// `-` at the start or after whitespace.
  static func userFlag(_ b: UnsafeBufferPointer<UInt8>, at i: Int, _ found: inout TextScan) {
    let n = b.count
    var v: Int? = nil
    if i + 2 <= n && b[i + 1] == 0x75 {  // -u
      v = i + 2
    } else if i + 1 < n && b[i + 1] != 0x2D {
      v = nil  // neither `--user` nor `--proxy-user`
    } else if folded(b, i, "--user") && (i + 6 == n || b[i + 6] == 0x20 || b[i + 6] == 0x3D) {
      v = i + 6
    } else if folded(b, i, "--proxy-user") {
      v = i + 12
    }
    guard var start = v else { return }
    while start < n && (b[start] == 0x20 || b[start] == 0x3D) { start += 1 }
    var quote: UInt8? = nil
    if start < n && (b[start] == 0x22 || b[start] == 0x27) {
      quote = b[start]
      start += 1
    }
    var end = start
    while end < n && (quote.map { b[end] != $0 } ?? !(b[end] <= 0x20)) && b[end] != 0x0A { end += 1 }
    if b[start..<end].contains(0x3A) { found.freeText.append(start..<end) }
    found.flagNext = max(end, i + 1)
  }

  /// The credentials after `Authorization:` / `Authorization=` (to the end of the line or quote),
  /// keeping the scheme word (`Basic`, `Bearer`); `i` starts a (case-folded) `authorization`.
  static func authorization(_ b: UnsafeBufferPointer<UInt8>, at i: Int, _ found: inout TextScan) {
    let n = b.count
    var j = i + 13
    while j < n && (b[j] == 0x22 || b[j] == 0x27) { j += 1 }
    guard j < n, b[j] == 0x3A || b[j] == 0x3D else {
      found.authNext = j
      return
    }
    j += 1
    while j < n && (b[j] == 0x20 || b[j] == 0x22 || b[j] == 0x27) { j += 1 }
    // A structure (kops's `authorization: {rbac: {}}`, in JSON or YAML) is no credential.
    if j < n && (b[j] == 0x7B || b[j] == 0x5B) {
      found.authNext = j
      return
    }
    var word = j
    while word < n && b[word] > 0x20 && b[word] != 0x22 && b[word] != 0x27 { word += 1 }
    var start = j
    if isAuthScheme(UnsafeBufferPointer(rebasing: b[j..<word])) {
      start = word
      while start < n && b[start] == 0x20 { start += 1 }
    }
    var end = start
    while end < n && b[end] != 0x0A && b[end] != 0x0D && b[end] != 0x22 && b[end] != 0x27 { end += 1 }
    if end > start && !b[start..<end].elementsEqual(mask.utf8) { found.freeText.append(start..<end) }
    found.authNext = max(end, i + 1)
  }

  static let authSchemes = ["basic", "bearer", "token", "digest", "aws4-hmac-sha256"]

  /// Whether `w`, lower-cased, is one of ``authSchemes``: ASCII on bytes, anything else as
  /// Strings (Unicode lower-casing maps some non-ASCII letters, such as the Kelvin sign, to ASCII).
  static func isAuthScheme(_ w: UnsafeBufferPointer<UInt8>) -> Bool {
    guard w.allSatisfy({ $0 < 0x80 }) else { return authSchemes.contains(String(decoding: w, as: UTF8.self).lowercased()) }
    for scheme in authSchemes where scheme.utf8.count == w.count {
      if scheme.utf8.elementsEqual(w.lazy.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }) { return true }
    }
    return false
  }
}
