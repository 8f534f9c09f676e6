/// Makes text from the repository (names, paths, values, kops's and aws's messages) safe to put
/// into hk's output: the one place every renderer escapes through (docs/SECURITY.md).
///
/// A pull request controls that text; hk's text output may land in a CI log (where a line
/// starting `::error` is a GitHub Actions workflow command and ANSI escapes repaint the log) and
/// its markdown in a PR comment (where a newline, `<!--`, `![](…)` or `@user` changes what
/// reviewers see). Every function here leaves one line: line breaks and other control
/// characters become visible escapes (`\n`, `\x1b`, `\u{202e}`).
public enum OutputEscaping {
  /// Text for a terminal or CI log: control characters (C0, DEL, C1), line and paragraph
  /// separators and bidirectional overrides become visible escapes, and a leading `::` (a
  /// workflow command) is broken with a backslash.
  public static func text(_ s: String) -> String {
    // Printable ASCII not starting a workflow command (nearly every name and value) stays as
    // it is: decided on the bytes where they are contiguous.
    if s.utf8.withContiguousStorageIfAvailable({ isLeftAsIs($0) }) == true { return s }
    var out = needsEscape(s) ? escapeControls(s) : s
    if startsWorkflowCommand(out) { out = "\\" + out }
    return out
  }

  /// Inline markdown outside code (also inside raw HTML such as `<summary>`): ``text(_:)``,
  /// then every character markdown or HTML would act on becomes a numeric character reference
  /// (literal text in both), and `@` is followed by a word joiner so it mentions no one. An `_`
  /// between two letters or digits stays as it is (`AWS_REGION`): CommonMark never opens or
  /// closes emphasis inside a word with `_`.
  public static func markdown(_ s: String) -> String {
    let t = text(s)
    let scalars = Array(t.unicodeScalars)
    var out = ""
    out.unicodeScalars.reserveCapacity(scalars.count)
    for (i, u) in scalars.enumerated() {
      switch u {
      case "_" where i > 0 && i + 1 < scalars.count && isWordScalar(scalars[i - 1]) && isWordScalar(scalars[i + 1]):
        out.unicodeScalars.append(u)
      case "<", ">", "&", "\"", "'", "`", "*", "_", "[", "]", "(", ")", "!", "#", "|", "~", "\\", ":":
        out += "&#\(u.value);"
      case "@":
        out += "@\u{2060}"
      default:
        out.unicodeScalars.append(u)
      }
    }
    return out
  }

  /// A letter or digit: what makes an `_` intraword for CommonMark's emphasis rules.
  static func isWordScalar(_ u: Unicode.Scalar) -> Bool {
    u.properties.isAlphabetic || u.properties.numericType != nil
  }

  /// The body of an inline code span (`` `…` ``): ``text(_:)`` with backticks made quotes, so
  /// the span cannot end early.
  public static func codeSpan(_ s: String) -> String {
    let t = text(s)
    return t.utf8.contains(UInt8(ascii: "`")) ? t.replacingAll("`", "'") : t
  }

  /// One line inside a fenced code block: ``text(_:)`` with fence markers broken.
  public static func fenced(_ s: String) -> String {
    text(s).replacingAll("```", "'''").replacingAll("~~~", "---")
  }

  /// ``fenced(_:)``'s breaking of fence markers (three backticks to three quotes, `~~~` to
  /// `---`) for a line of ASCII, appended to `out`. For ASCII, matching bytes is matching
  /// characters, and the two markers never overlap.
  public static func appendFencesBroken(_ line: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
    var i = 0
    // `i` stays within `0...line.count`; three bytes are read only where they fit.
    while i < line.count {
      let c = line[i]
      if (c == 0x60 || c == 0x7E) && i + 2 < line.count && line[i + 1] == c && line[i + 2] == c {
        let r: UInt8 = c == 0x60 ? 0x27 : 0x2D
        out.append(contentsOf: [r, r, r])
        i += 3
      } else {
        out.append(c)
        i += 1
      }
    }
  }

  static func isDangerous(_ v: UInt32) -> Bool {
    v < 0x20 || v == 0x7F || (0x80...0x9F).contains(v) || v == 0x2028 || v == 0x2029 || (0x202A...0x202E).contains(v)
      || (0x2066...0x2069).contains(v) || v == 0x200E || v == 0x200F || v == 0x061C
  }

  static func needsEscape(_ s: String) -> Bool {
    // Fast path on bytes: ASCII control bytes, DEL, or any non-ASCII byte (checked exactly below).
    var nonASCII = false
    for b in s.utf8 {
      if b < 0x20 || b == 0x7F { return true }
      if b >= 0x80 { nonASCII = true }
    }
    return nonASCII && s.unicodeScalars.contains { isDangerous($0.value) }
  }

  static func escapeControls(_ s: String) -> String {
    var out = ""
    for u in s.unicodeScalars {
      guard isDangerous(u.value) else {
        out.unicodeScalars.append(u)
        continue
      }
      switch u {
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      default:
        let hex = String(u.value, radix: 16)
        out += u.value < 0x100 ? "\\x" + (hex.count < 2 ? "0" + hex : hex) : "\\u{" + hex + "}"
      }
    }
    return out
  }

  /// Printable ASCII (0x20...0x7E) that does not start, after spaces, with `::`: what
  /// ``text(_:)`` returns unchanged.
  public static func isLeftAsIs(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
    for c in b where c &- 0x20 >= 0x5F { return false }
    var j = 0
    while j < b.count && b[j] == 0x20 { j += 1 }
    return !(j + 1 < b.count && b[j] == 0x3A && b[j + 1] == 0x3A)
  }

  /// Whether one of the eight bytes of `x` is outside printable ASCII (below 0x20, DEL, or at
  /// or above 0x80). Exact: each test finds such a byte for sure if there is one.
  @inline(__always)
  public static func mayHoldUnprintable(_ x: UInt64) -> Bool {
    let ones: UInt64 = 0x0101_0101_0101_0101
    let highs: UInt64 = 0x8080_8080_8080_8080
    let del = x ^ (0x7F &* ones)  // a zero byte where `x` holds DEL
    return x & highs != 0 || (x &- 0x20 &* ones) & ~x & highs != 0 || (del &- ones) & ~del & highs != 0
  }

  static func startsWorkflowCommand(_ s: String) -> Bool {
    var i = s.utf8.startIndex
    while i < s.utf8.endIndex, s.utf8[i] == UInt8(ascii: " ") { i = s.utf8.index(after: i) }
    let rest = s.utf8[i...]
    return rest.starts(with: "::".utf8)
  }
}

extension String {
  /// Replaces every occurrence of `target` (no Foundation needed).
  ///
  /// Matching is by characters: a `'` followed by a combining mark is not a `'`. ASCII text
  /// (the usual case) has one character per byte but for `\r\n`, so when both strings are
  /// ASCII and `target` holds no `\r` or `\n`, the bytes are matched instead: the same result.
  public func replacingAll(_ target: String, _ replacement: String) -> String {
    guard !target.isEmpty else { return self }
    if let replaced = Self.replacingAllASCII(self, target, replacement) { return replaced }
    guard contains(target) else { return self }
    var out = ""
    var rest = Substring(self)
    while let r = rest.firstRange(of: target) {
      out += rest[..<r.lowerBound]
      out += replacement
      rest = rest[r.upperBound...]
    }
    return out + rest
  }

  /// ``replacingAll(_:_:)`` on bytes, or nil when `s` or `target` is not ASCII or `target` holds a
  /// line break.
  static func replacingAllASCII(_ s: String, _ target: String, _ replacement: String) -> String? {
    var target = target
    var copy = s
    // nil: not for bytes; else whether `target` occurs, and the replaced text's bytes.
    let result = target.withUTF8 { t -> (matched: Bool, bytes: [UInt8])? in
      guard t.allSatisfy({ $0 < 0x80 && $0 != 0x0A && $0 != 0x0D }) else { return nil }
      return copy.withUTF8 { b -> (matched: Bool, bytes: [UInt8])? in
        guard b.allSatisfy({ $0 < 0x80 }) else { return nil }
        // `i` and `copied` stay within `0...b.count`; a match is tested only where it fits.
        var out: [UInt8] = []
        var copied = 0
        var i = 0
        while i + t.count <= b.count {
          if b[i] == t[0] && (1..<t.count).allSatisfy({ b[i + $0] == t[$0] }) {
            if out.isEmpty { out.reserveCapacity(b.count + replacement.utf8.count) }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: b[copied..<i]))
            out.append(contentsOf: replacement.utf8)
            i += t.count
            copied = i
          } else {
            i += 1
          }
        }
        guard copied > 0 else { return (false, []) }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: b[copied...]))
        return (true, out)
      }
    }
    guard let result else { return nil }
    return result.matched ? String(decoding: result.bytes, as: UTF8.self) : s
  }
}
