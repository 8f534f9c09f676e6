/// Serialises YAML trees in the block style kops itself prints (two-space indent, sequence items
/// at their parent's indent), quoting every string that a YAML 1.1 reader (kops uses one) could
/// take for something else.
///
/// Comments are not kept (libyaml does not report them), so hk never rewrites a user's files:
/// emitted YAML goes to kops, to the recorded state and to saved plans only.
public enum YAMLEmitter {
  /// One document, ending in a newline.
  public static func emit(_ node: YAMLNode) -> String {
    var out = ""
    out.reserveCapacity(1024)
    write(node, into: &out, indent: 0, context: .document)
    if !out.hasSuffix("\n") { out += "\n" }
    return out
  }

  /// Several documents separated by `---`.
  public static func emit(documents: [YAMLNode]) -> String {
    documents.map { emit($0) }.joined(separator: "---\n")
  }

  private enum Context { case document, mappingValue, sequenceItem }

  private static func write(_ node: YAMLNode, into out: inout String, indent: Int, context: Context) {
    let pad = String(repeating: " ", count: indent)
    switch node.content {
    case .scalar(let s):
      let text = scalarText(s, indent: indent)
      switch context {
      case .document: out += text + "\n"
      case .mappingValue, .sequenceItem: out += " " + text + "\n"
      }
    case .mapping(let pairs):
      if pairs.isEmpty {
        out += context == .document ? "{}\n" : " {}\n"
        return
      }
      if context == .mappingValue { out += "\n" }
      for (i, p) in pairs.enumerated() {
        if context == .sequenceItem && i == 0 {
          out += " "
        } else {
          out += pad
        }
        out += keyText(p.key) + ":"
        switch p.value.content {
        case .sequence(let items) where !items.isEmpty:
          out += "\n"
          write(p.value, into: &out, indent: indent, context: .mappingValue)
        default:
          write(p.value, into: &out, indent: indent + 2, context: .mappingValue)
        }
      }
    case .sequence(let items):
      if items.isEmpty {
        out += context == .document ? "[]\n" : " []\n"
        return
      }
      if context == .sequenceItem { out += "\n" }
      for item in items {
        out += pad + "-"
        write(item, into: &out, indent: indent + 2, context: .sequenceItem)
      }
    }
  }

  /// ``emit(_:)`` of `YAMLNode(json: value)`, written without building that tree (a plan
  /// shows every created object this way).
  public static func emit(json value: JSONValue) -> String {
    var out: [UInt8] = []
    out.reserveCapacity(1024)
    appendYAML(json: value, to: &out)
    return String(decoding: out, as: UTF8.self)
  }

  static func keyText(_ key: String) -> String {
    isPlainSafe(key) ? key : quoted(key)
  }

  static func scalarText(_ s: YAMLScalar, indent: Int) -> String {
    switch s.value {
    case .null: return "null"
    case .bool(let b): return b ? "true" : "false"
    case .int, .float: return s.text
    case .string(let t):
      if isPlainSafe(t) { return t }
      if let block = literalBlock(t, indent: indent) { return block }
      return quoted(t)
    }
  }

  /// A literal block (`|`) for multi-line text such as IAM policy JSON, when it round-trips.
  /// Not for text that starts with a blank or a line feed: the block's first line sets its
  /// indentation, and YAML readers (libyaml, so hk reading its own recorded state) refuse a tab
  /// there and take spaces for indentation.
  static func literalBlock(_ t: String, indent: Int) -> String? {
    guard t.contains("\n"), !t.hasPrefix(" "), !t.hasPrefix("\t"), !t.hasPrefix("\n") else { return nil }
    for u in t.unicodeScalars where (u.value < 0x20 && u != "\n" && u != "\t") || needsEscape(u) {
      return nil
    }
    var body = Substring(t)
    var chomp = ""
    if t.hasSuffix("\n\n") {
      chomp = "+"
    } else if !t.hasSuffix("\n") {
      chomp = "-"
    }
    if chomp != "+" && t.hasSuffix("\n") { body = body.dropLast() }
    if chomp == "+" { body = body.dropLast() }
    let lines = body.split(separator: "\n", omittingEmptySubsequences: false)
    if lines.contains(where: { $0.hasSuffix(" ") || $0.hasSuffix("\t") }) { return nil }
    let pad = String(repeating: " ", count: max(indent, 2))
    var out = "|" + chomp
    for line in lines { out += "\n" + (line.isEmpty ? "" : pad + line) }
    return out
  }

  /// Whether `s` can be written as a plain scalar and still be read back as this string by
  /// YAML 1.1 and 1.2 readers.
  public static func isPlainSafe(_ s: String) -> Bool {
    // Printable ASCII (nearly every key and value) is decided on bytes, the same way as below.
    isPlainSafeASCII(s) ?? isPlainSafeScalars(s)
  }

  /// ``isPlainSafe(_:)`` on Unicode scalars, for any text.
  static func isPlainSafeScalars(_ s: String) -> Bool {
    guard let first = s.unicodeScalars.first, let last = s.unicodeScalars.last else { return false }
    if first == " " || last == " " || last == ":" { return false }
    // `---` and `...` at the start of a line end or start a document
    if s.hasPrefix("---") || s.hasPrefix("...") { return false }
    if "-?:,[]{}#&*!|>'\"%@`".unicodeScalars.contains(first) {
      // `-foo` and `:foo` are fine plain but keep it simple and safe: quote.
      return false
    }
    var prev: Unicode.Scalar = " "
    var numberLike = true
    for u in s.unicodeScalars {
      if u.value < 0x20 || needsEscape(u) { return false }
      if u == ":" || u == "#" {
        // ": " starts a value and " #" a comment
      }
      if prev == ":" && u == " " { return false }
      if prev == " " && u == "#" { return false }
      if numberLike && !Self.numberLike(u) { numberLike = false }
      prev = u
    }
    if numberLike && ("0123456789+-.".unicodeScalars.contains(first)) { return false }
    switch s.utf8.count > 6 ? "" : s.lowercased() {
    case "y", "n", "yes", "no", "on", "off", "true", "false", "null", "~", ".inf", "-.inf", "+.inf", ".nan":
      return false
    default: break
    }
    return YAMLScalar.resolvePlain(s) == .string(s)
  }

  /// ``isPlainSafe(_:)`` for text of printable ASCII only, on its bytes; nil for any other text.
  /// The byte emitter's one pass (``ScalarShape``) decides, then how the text resolves.
  static func isPlainSafeASCII(_ s: String) -> Bool? {
    var s = s
    let shape = s.withUTF8 { ScalarShape($0) }
    if shape.nonASCII { return nil }
    return shape.plainCandidate && YAMLScalar.resolvePlain(s) == .string(s)
  }

  /// Whether `b` is one of the words a YAML 1.1 or 1.2 reader takes for a boolean, null or
  /// special float (any case): the text, ASCII letters folded to lower case, packed into one word
  /// and compared with the words packed once (``reservedPacked``).
  static func isReservedWordASCII(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
    let n = b.count
    guard n >= 1, n <= 5 else { return false }
    // The text, ASCII letters folded to lower case, packed into one word (its length in the top
    // byte) and compared with the reserved words packed the same way: every short key and value
    // the emitter writes or the emission reader reads comes here.
    var w = UInt64(n) << 56
    for i in 0..<n {
      let c = b[i]
      w |= UInt64(c >= 0x41 && c <= 0x5A ? c | 0x20 : c) << UInt64(8 * i)
    }
    let r = reservedPacked
    return w == r.0 || w == r.1 || w == r.2 || w == r.3 || w == r.4 || w == r.5 || w == r.6 || w == r.7
      || w == r.8 || w == r.9 || w == r.10 || w == r.11 || w == r.12 || w == r.13
  }

  private static let reservedWords: [StaticString] = [
    "y", "n", "yes", "no", "on", "off", "true", "false", "null", "~", ".inf", "-.inf", "+.inf", ".nan",
  ]

  /// ``reservedWords`` packed as ``isReservedWordASCII(_:)`` packs a text (all are lower case).
  private static let reservedPacked:
    (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = {
      let p = reservedWords.map { word in
        word.withUTF8Buffer { b in
          b.enumerated().reduce(UInt64(b.count) << 56) { w, e in w | UInt64(e.element) << UInt64(8 * e.offset) }
        }
      }
      return (p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11], p[12], p[13])
    }()

  /// The characters of a number's spelling (`0x1F`, `+1.5e3`, `0o17`, `1_000`, `12:30`).
  static func numberLike(_ u: Unicode.Scalar) -> Bool {
    switch u {
    case "0"..."9", "a"..."f", "A"..."F", "x", "X", "o", "O", ".", "_", ":", "+", "-": true
    default: false
    }
  }

  /// Characters a YAML reader refuses raw (DEL, C1 controls, BOM) or reads as line breaks
  /// (NEL, LS, PS): they are written as `\u` escapes inside double quotes.
  static func needsEscape(_ u: Unicode.Scalar) -> Bool {
    u.value == 0x7F || (0x80...0x9F).contains(u.value) || u.value == 0x2028 || u.value == 0x2029 || u.value == 0xFEFF
  }

  /// A double-quoted YAML scalar: JSON escapes plus `\u` for ``needsEscape(_:)`` characters.
  static func quoted(_ s: String) -> String {
    var out = ""
    JSONValue.quote(s, into: &out, alsoEscaping: needsEscape)
    return out
  }
}
