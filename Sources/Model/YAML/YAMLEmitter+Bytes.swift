/// ``YAMLEmitter/emit(json:)`` written as UTF-8 bytes straight into a caller's buffer: no
/// intermediate `String` per line, key or scalar (a plan shows every created object this way,
/// megabytes of YAML for a thousand environments).
///
/// Every scalar is classified by one pass over its UTF-8 bytes (plain, literal block or double
/// quoted, by the same rules as ``YAMLEmitter/isPlainSafe(_:)``, ``YAMLEmitter/literalBlock(_:indent:)``
/// and ``YAMLEmitter/quoted(_:)``). Text with a byte at or above 0x80 goes through those `String`
/// functions themselves: they decide on characters and Unicode scalars (grapheme clusters can
/// merge a space with a following mark), which bytes alone would not reproduce.
extension YAMLEmitter {
  /// Appends ``emit(json:)`` of `value` to `out`, byte for byte.
  public static func appendYAML(json value: JSONValue, to out: inout [UInt8]) {
    let start = out.count
    writeBytes(json: value, into: &out, indent: 0, context: .document)
    if out.count == start || out.last != 0x0A { out.append(0x0A) }
  }

  enum ByteContext { case document, mappingValue, sequenceItem }

  /// ``write(json:into:indent:context:)`` on bytes.
  ///
  /// A collection the planner took from ``SharedJSONMemo`` (a shared base's subtree, in every
  /// environment's created objects) is written once per indent and context for the run, and
  /// its bytes copied after: they depend on nothing else.
  static func writeBytes(json value: JSONValue, into out: inout [UInt8], indent: Int, context: ByteContext) {
    if let storage = value.storageIdentity {
      let key = SharedJSONMemo.YAMLKey(storage: storage, indent: indent, context: context)
      switch SharedJSONMemo.shared.yaml(key) {
      case .bytes(let b):
        out.append(contentsOf: b)
        return
      case .remember:
        let start = out.count
        writeValue(value, into: &out, indent: indent, context: context)
        SharedJSONMemo.shared.rememberYAML(key, Array(out[start...]))
        return
      case .no: break
      }
    }
    writeValue(value, into: &out, indent: indent, context: context)
  }

  /// ``writeBytes(json:into:indent:context:)`` of `value` itself (its collections below are
  /// looked up again).
  private static func writeValue(_ value: JSONValue, into out: inout [UInt8], indent: Int, context: ByteContext) {
    switch value {
    case .object(let members):
      if members.isEmpty {
        if context != .document { out.append(0x20) }
        out.append(0x7B)  // {
        out.append(0x7D)  // }
        out.append(0x0A)
        return
      }
      if context == .mappingValue { out.append(0x0A) }
      // Members and items are read in place (no copy of each, no retain of its strings).
      members.withUnsafeBufferPointer { ms in
        for i in ms.indices {
          if context == .sequenceItem && i == 0 {
            out.append(0x20)
          } else {
            appendSpaces(indent, to: &out)
          }
          appendKey(ms[i].key, to: &out)
          out.append(0x3A)  // :
          switch ms[i].value {
          case .string(let t):
            // Most values: written here, as `writeBytes` would at `indent + 2`.
            out.append(0x20)
            appendStringScalar(t, indent: indent + 2, to: &out)
            out.append(0x0A)
          case .array(let items) where !items.isEmpty:
            out.append(0x0A)
            writeBytes(json: ms[i].value, into: &out, indent: indent, context: .mappingValue)
          default:
            writeBytes(json: ms[i].value, into: &out, indent: indent + 2, context: .mappingValue)
          }
        }
      }
    case .array(let items):
      if items.isEmpty {
        if context != .document { out.append(0x20) }
        out.append(0x5B)  // [
        out.append(0x5D)  // ]
        out.append(0x0A)
        return
      }
      if context == .sequenceItem { out.append(0x0A) }
      items.withUnsafeBufferPointer { its in
        for i in its.indices {
          appendSpaces(indent, to: &out)
          out.append(0x2D)  // -
          if case .string(let t) = its[i] {
            // As `writeBytes` would at `indent + 2`, without the call.
            out.append(0x20)
            appendStringScalar(t, indent: indent + 2, to: &out)
            out.append(0x0A)
          } else {
            writeBytes(json: its[i], into: &out, indent: indent + 2, context: .sequenceItem)
          }
        }
      }
    case .string(let t):
      if context != .document { out.append(0x20) }
      appendStringScalar(t, indent: indent, to: &out)
      out.append(0x0A)
    case .null:
      if context != .document { out.append(0x20) }
      appendASCII("null", to: &out)
      out.append(0x0A)
    case .bool(let b):
      if context != .document { out.append(0x20) }
      appendASCII(b ? "true" : "false", to: &out)
      out.append(0x0A)
    case .int(let i):
      if context != .document { out.append(0x20) }
      if i == .min {
        // Its digits without the sign overflow Int64: a YAML reader of hk's kind takes it
        // for a string, which is how `YAMLNode(json:)` writes it (quoted).
        appendPlainText(String(i), indent: indent, to: &out)
      } else {
        appendDecimal(i, to: &out)
      }
      out.append(0x0A)
    case .double(let d):
      if context != .document { out.append(0x20) }
      appendPlainText(d == d.rounded() && abs(d) < 1e15 ? "\(Int64(d)).0" : "\(d)", indent: indent, to: &out)
      out.append(0x0A)
    }
  }

  /// The scalar `YAMLNode(json:)` makes of a number's text (a plain scalar), as
  /// ``scalarText(_:indent:)`` writes it.
  private static func appendPlainText(_ text: String, indent: Int, to out: inout [UInt8]) {
    switch YAMLScalar.resolvePlain(text) {
    case .null: appendASCII("null", to: &out)
    case .bool(let b): appendASCII(b ? "true" : "false", to: &out)
    case .int, .float: out.append(contentsOf: text.utf8)
    case .string(let t): appendStringScalar(t, indent: indent, to: &out)
    }
  }

  @inline(__always)
  private static func appendASCII(_ s: StaticString, to out: inout [UInt8]) {
    s.withUTF8Buffer { out.append(contentsOf: $0) }
  }

  @inline(__always)
  static func appendSpaces(_ n: Int, to out: inout [UInt8]) {
    if n > 0 { out.append(contentsOf: repeatElement(0x20, count: n)) }
  }

  /// `String(i)` for any `i` but `Int64.min`.
  private static func appendDecimal(_ i: Int64, to out: inout [UInt8]) {
    var v = i.magnitude
    if i < 0 { out.append(0x2D) }
    let start = out.count
    repeat {
      out.append(UInt8(truncatingIfNeeded: 0x30 &+ v % 10))
      v /= 10
    } while v > 0
    out[start...].reverse()
  }

  /// A mapping key: plain when ``isPlainSafe(_:)``, else double quoted.
  static func appendKey(_ key: String, to out: inout [UInt8]) {
    key.withBorrowedUTF8 { b in
      let shape = ScalarShape(b)
      if shape.nonASCII {
        out.append(contentsOf: keyText(key).utf8)
      } else if shape.plainCandidate && plainResolvesToString(key, first: shape.first, numberLike: shape.numberLike) {
        out.append(contentsOf: b)
      } else {
        appendQuotedASCII(b, simple: shape.quotesAsIs, to: &out)
      }
    }
  }

  /// A string scalar: plain, else a literal block, else double quoted (``scalarText(_:indent:)``).
  static func appendStringScalar(_ t: String, indent: Int, to out: inout [UInt8]) {
    t.withBorrowedUTF8 { b in
      let shape = ScalarShape(b)
      if shape.nonASCII {
        let text = isPlainSafe(t) ? t : literalBlock(t, indent: indent) ?? quoted(t)
        out.append(contentsOf: text.utf8)
      } else if shape.plainCandidate && plainResolvesToString(t, first: shape.first, numberLike: shape.numberLike) {
        out.append(contentsOf: b)
      } else if shape.literalCandidate {
        appendLiteralASCII(b, indent: indent, to: &out)
      } else {
        appendQuotedASCII(b, simple: shape.quotesAsIs, to: &out)
      }
    }
  }

  /// `YAMLScalar.resolvePlain(s) == .string(s)`, the last test of ``isPlainSafeASCII(_:)``,
  /// for non-empty `s` whose first byte is `first`.
  @inline(__always)
  static func plainResolvesToString(_ s: String, first: UInt8, numberLike: Bool) -> Bool {
    // The core schema `resolvePlain` follows makes null, a bool or a number only of text that
    // starts with one of these bytes, and then only of `~`, `null`, `true` or `false` (five
    // bytes at most) or of number-like bytes (a number) or `.inf`/`.nan` (five at most).
    switch first {
    case UInt8(ascii: "~"), UInt8(ascii: "n"), UInt8(ascii: "N"), UInt8(ascii: "t"), UInt8(ascii: "T"), UInt8(ascii: "f"),
      UInt8(ascii: "F"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."):
      if s.utf8.count > 5 && !numberLike { return true }
      return YAMLScalar.resolvePlain(s) == .string(s)
    default:
      return true
    }
  }

  /// ``literalBlock(_:indent:)`` for printable ASCII text with line feeds and tabs that
  /// ``ScalarShape/literalCandidate`` accepted.
  static func appendLiteralASCII(_ b: UnsafeBufferPointer<UInt8>, indent: Int, to out: inout [UInt8]) {
    let n = b.count
    // Chomping: `+` keeps the final line feeds (two or more), none drops the one final line
    // feed, `-` says there is none.
    out.append(0x7C)  // |
    var end = n
    if n >= 2 && b[n - 1] == 0x0A && b[n - 2] == 0x0A {
      out.append(0x2B)  // +
      end = n - 1
    } else if b[n - 1] == 0x0A {
      end = n - 1
    } else {
      out.append(0x2D)  // -
    }
    let pad = max(indent, 2)
    var lineStart = 0
    var i = 0
    // The body `b[0..<end]` is cut at every line feed; each line goes on its own output line,
    // indented unless it is empty. `i` stays within `0...end` and `end <= n`.
    while true {
      if i == end || b[i] == 0x0A {
        out.append(0x0A)
        if i > lineStart {
          appendSpaces(pad, to: &out)
          out.append(contentsOf: UnsafeBufferPointer(rebasing: b[lineStart..<i]))
        }
        if i == end { break }
        lineStart = i + 1
      }
      i += 1
    }
  }

  /// ``quoted(_:)`` for ASCII text; `simple` when no byte needs an escape.
  static func appendQuotedASCII(_ b: UnsafeBufferPointer<UInt8>, simple: Bool, to out: inout [UInt8]) {
    out.append(0x22)
    if simple {
      out.append(contentsOf: b)
      out.append(0x22)
      return
    }
    for c in b {
      switch c {
      case 0x22, 0x5C:
        out.append(0x5C)
        out.append(c)
      case 0x0A: appendEscape(0x6E, to: &out)  // \n
      case 0x0D: appendEscape(0x72, to: &out)  // \r
      case 0x09: appendEscape(0x74, to: &out)  // \t
      case 0x08: appendEscape(0x62, to: &out)  // \b
      case 0x0C: appendEscape(0x66, to: &out)  // \f
      case 0..<0x20, 0x7F:
        // `\u` and four lowercase hex digits, as `JSONValue.quote` writes them.
        let hex: (UInt8) -> UInt8 = { $0 < 10 ? 0x30 + $0 : 0x61 + $0 - 10 }
        out.append(contentsOf: [0x5C, 0x75, 0x30, 0x30, hex(c >> 4), hex(c & 0x0F)])
      default: out.append(c)
      }
    }
    out.append(0x22)
  }

  @inline(__always)
  private static func appendEscape(_ letter: UInt8, to out: inout [UInt8]) {
    out.append(0x5C)
    out.append(letter)
  }
}

/// What one pass over a scalar's UTF-8 bytes tells the emitter.
struct ScalarShape {
  /// The first byte (0 for empty text).
  var first: UInt8 = 0
  /// A byte at or above 0x80: the emitter's `String` functions decide.
  var nonASCII = false
  /// Every byte is one of ``YAMLEmitter/numberLike(_:)``'s.
  var numberLike = true
  /// ``YAMLEmitter/isPlainSafeASCII(_:)`` but its last test (how the text resolves).
  var plainCandidate = false
  /// ``YAMLEmitter/literalBlock(_:indent:)`` would make a block.
  var literalCandidate = false
  /// Printable ASCII without `"` or `\`: double quoted as it is.
  var quotesAsIs = true

  /// Bytes below 0x80 as two 64-bit sets: bit `c` of `lo` for `c < 64`, bit `c - 64` of `hi`.
  @inline(__always)
  static func contains(_ c: UInt8, lo: UInt64, hi: UInt64) -> Bool {
    (c < 64 ? lo >> (c & 63) : hi >> (c & 63)) & 1 != 0
  }

  /// C0 controls, space, `"`, `#`, `\` and DEL: the bytes the rules below look at more closely.
  static let specialLo: UInt64 = 0x0000_000D_FFFF_FFFF
  static let specialHi: UInt64 = 0x8000_0000_1000_0000
  /// ``YAMLEmitter/numberLike(_:)``: `0-9 a-f A-F x X o O . _ : + -`.
  static let numberLikeLo: UInt64 = 0x07FF_6800_0000_0000
  static let numberLikeHi: UInt64 = 0x0100_807E_8100_807E

  init(_ b: UnsafeBufferPointer<UInt8>) {
    guard let first = b.first, let last = b.last else {
      // Empty: not plain, no line feed for a block, quoted as `""`.
      return
    }
    self.first = first
    // Most text has none of the special bytes: eight bytes are tested at a time, then those
    // left one by one. `i` stays within `0...b.count`; a word is read only where it fits.
    var i = 0
    if let base = b.baseAddress {
      let raw = UnsafeRawPointer(base)
      while i + 8 <= b.count && !Self.mayHoldSpecial(raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) { i += 8 }
    }
    while i < b.count {
      let c = b[i]
      if c >= 0x80 {
        nonASCII = true
        return
      }
      if Self.contains(c, lo: Self.specialLo, hi: Self.specialHi) {
        self = Self(general: b, first: first, last: last)
        return
      }
      i += 1
    }
    for c in b where !Self.contains(c, lo: Self.numberLikeLo, hi: Self.numberLikeHi) {
      numberLike = false
      break
    }
    plainCandidate = Self.plain(b, first: first, last: last, anyControl: false, false, numberLike)
  }

  /// Whether one of the eight bytes of `x` is at or above 0x80 or special (below 0x21, `"`,
  /// `#`, `\`, DEL). Exact when it says no (each test finds a byte for sure if there is one).
  @inline(__always)
  static func mayHoldSpecial(_ x: UInt64) -> Bool {
    let ones: UInt64 = 0x0101_0101_0101_0101
    let highs: UInt64 = 0x8080_8080_8080_8080
    // A zero byte in `y`: `(y - ones) & ~y & highs` is non-zero exactly when there is one.
    func hasZero(_ y: UInt64) -> Bool { (y &- ones) & ~y & highs != 0 }
    if x & highs != 0 { return true }
    if (x &- 0x21 &* ones) & ~x & highs != 0 { return true }  // a byte below 0x21
    return hasZero((x & 0xFEFE_FEFE_FEFE_FEFE) ^ (0x22 &* ones)) || hasZero(x ^ (0x5C &* ones)) || hasZero(x ^ (0x7F &* ones))
  }

  /// The general pass, for text with a special byte.
  private init(general b: UnsafeBufferPointer<UInt8>, first: UInt8, last: UInt8) {
    self.first = first
    var control = false  // C0 but line feed and tab, or DEL
    var lineFeed = false
    var tab = false
    var colonSpace = false  // ": " (a value starts)
    var spaceHash = false  // " #" (a comment starts)
    var blankBeforeLineFeed = false  // a line ends in a space or tab
    var prev: UInt8 = 0x20
    for c in b {
      if c >= 0x80 {
        nonASCII = true
        return
      }
      switch c {
      case 0x0A:
        lineFeed = true
        if prev == 0x20 || prev == 0x09 { blankBeforeLineFeed = true }
        quotesAsIs = false
      case 0x09:
        tab = true
        quotesAsIs = false
      case 0x20:
        if prev == 0x3A { colonSpace = true }
      case 0x23:
        if prev == 0x20 { spaceHash = true }
      case 0x22, 0x5C:
        quotesAsIs = false
      case 0..<0x20, 0x7F:
        control = true
        quotesAsIs = false
      default: break
      }
      if !Self.contains(c, lo: Self.numberLikeLo, hi: Self.numberLikeHi) { numberLike = false }
      prev = c
    }
    // A line feed at the very start is caught by `blankBeforeLineFeed`'s start value (a space):
    // such text is never a block, and never plain either (it holds a control character).
    literalCandidate =
      lineFeed && !control && first != 0x20 && first != 0x09 && first != 0x0A && !blankBeforeLineFeed && last != 0x20
      && last != 0x09
    plainCandidate = Self.plain(b, first: first, last: last, anyControl: control || lineFeed || tab, colonSpace || spaceHash, numberLike)
  }
  private static func plain(
    _ b: UnsafeBufferPointer<UInt8>, first: UInt8, last: UInt8, anyControl: Bool, _ indicatorInside: Bool, _ numberLike: Bool
  ) -> Bool {
    if anyControl || indicatorInside { return false }
    if first == 0x20 || last == 0x20 || last == 0x3A { return false }
    if b.count >= 3 && ((b[0] == 0x2D && b[1] == 0x2D && b[2] == 0x2D) || (b[0] == 0x2E && b[1] == 0x2E && b[2] == 0x2E)) {
      return false
    }
    switch first {
    case UInt8(ascii: "-"), UInt8(ascii: "?"), UInt8(ascii: ":"), UInt8(ascii: ","), UInt8(ascii: "["), UInt8(ascii: "]"),
      UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "#"), UInt8(ascii: "&"), UInt8(ascii: "*"), UInt8(ascii: "!"),
      UInt8(ascii: "|"), UInt8(ascii: ">"), UInt8(ascii: "'"), UInt8(ascii: "\""), UInt8(ascii: "%"), UInt8(ascii: "@"),
      UInt8(ascii: "`"):
      return false
    case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "."):
      if numberLike { return false }
    default: break
    }
    return !(b.count <= 6 && YAMLEmitter.isReservedWordASCII(b))
  }
}
