import Model

/// `YAMLEmitter.emit(json:)` as it was written before the byte emitter (main at f5e373f), kept
/// verbatim apart from names as the reference the differential tests compare the emitter with.
public enum ReferenceYAMLEmitter {
  public static func emit(json value: JSONValue) -> String {
    var out = ""
    write(json: value, into: &out, indent: 0, context: .document)
    if !out.hasSuffix("\n") { out += "\n" }
    return out
  }

  enum Context { case document, mappingValue, sequenceItem }

  static func write(json value: JSONValue, into out: inout String, indent: Int, context: Context) {
    switch value {
    case .object(let members):
      if members.isEmpty {
        out += context == .document ? "{}\n" : " {}\n"
        return
      }
      if context == .mappingValue { out += "\n" }
      let pad = String(repeating: " ", count: indent)
      for (i, m) in members.enumerated() {
        if context == .sequenceItem && i == 0 {
          out += " "
        } else {
          out += pad
        }
        out += keyText(m.key) + ":"
        if case .array(let items) = m.value, !items.isEmpty {
          out += "\n"
          write(json: m.value, into: &out, indent: indent, context: .mappingValue)
        } else {
          write(json: m.value, into: &out, indent: indent + 2, context: .mappingValue)
        }
      }
    case .array(let items):
      if items.isEmpty {
        out += context == .document ? "[]\n" : " []\n"
        return
      }
      if context == .sequenceItem { out += "\n" }
      let pad = String(repeating: " ", count: indent)
      for item in items {
        out += pad + "-"
        write(json: item, into: &out, indent: indent + 2, context: .sequenceItem)
      }
    case .string(let t):
      let text = isPlainSafe(t) ? t : literalBlock(t, indent: indent) ?? quoted(t)
      out += context == .document ? text + "\n" : " " + text + "\n"
    case .null, .bool, .int, .double:
      // The old emitter's `write(YAMLNode(json: value), …)` for a scalar node.
      guard case .scalar(let s) = YAMLNode(json: value).content else { return }
      let text = scalarText(s, indent: indent)
      out += context == .document ? text + "\n" : " " + text + "\n"
    }
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

  public static func literalBlock(_ t: String, indent: Int) -> String? {
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

  public static func isPlainSafe(_ s: String) -> Bool {
    isPlainSafeASCII(s) ?? isPlainSafeScalars(s)
  }

  static func isPlainSafeScalars(_ s: String) -> Bool {
    guard let first = s.unicodeScalars.first, let last = s.unicodeScalars.last else { return false }
    if first == " " || last == " " || last == ":" { return false }
    if s.hasPrefix("---") || s.hasPrefix("...") { return false }
    if "-?:,[]{}#&*!|>'\"%@`".unicodeScalars.contains(first) { return false }
    var prev: Unicode.Scalar = " "
    var numberLike = true
    for u in s.unicodeScalars {
      if u.value < 0x20 || needsEscape(u) { return false }
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

  static func isPlainSafeASCII(_ s: String) -> Bool? {
    var s = s
    let verdict = s.withUTF8 { b -> Int in
      guard let first = b.first, let last = b.last else { return 0 }
      var numberLike = true
      var prev: UInt8 = 0x20
      for c in b {
        if c >= 0x7F || c < 0x20 { return c >= 0x80 ? 2 : 0 }
        if prev == 0x3A && c == 0x20 { return 0 }
        if prev == 0x20 && c == 0x23 { return 0 }
        if numberLike && !Self.numberLike(Unicode.Scalar(c)) { numberLike = false }
        prev = c
      }
      if first == 0x20 || last == 0x20 || last == 0x3A { return 0 }
      if b.count >= 3 && ((b[0] == 0x2D && b[1] == 0x2D && b[2] == 0x2D) || (b[0] == 0x2E && b[1] == 0x2E && b[2] == 0x2E)) {
        return 0
      }
      switch first {
      case UInt8(ascii: "-"), UInt8(ascii: "?"), UInt8(ascii: ":"), UInt8(ascii: ","), UInt8(ascii: "["), UInt8(ascii: "]"),
        UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "#"), UInt8(ascii: "&"), UInt8(ascii: "*"), UInt8(ascii: "!"),
        UInt8(ascii: "|"), UInt8(ascii: ">"), UInt8(ascii: "'"), UInt8(ascii: "\""), UInt8(ascii: "%"), UInt8(ascii: "@"),
        UInt8(ascii: "`"):
        return 0
      case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "."):
        if numberLike { return 0 }
      default: break
      }
      return b.count <= 6 && isReservedWord(b) ? 0 : 1
    }
    switch verdict {
    case 0: return false
    case 1: return YAMLScalar.resolvePlain(s) == .string(s)
    default: return nil
    }
  }

  /// Whether `b`, ASCII letters folded to lower case, is one of ``reservedWords``.
  public static func isReservedWord(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
    var lower: [UInt8] = []
    lower.reserveCapacity(b.count)
    for c in b { lower.append(c >= 0x41 && c <= 0x5A ? c | 0x20 : c) }
    for w in reservedWords where w.elementsEqual(lower) { return true }
    return false
  }

  /// What a YAML 1.1 or 1.2 reader takes for a bool, null or special float (written in lower case).
  public static let reservedWords: [[UInt8]] = [
    "y", "n", "yes", "no", "on", "off", "true", "false", "null", "~", ".inf", "-.inf", "+.inf", ".nan",
  ].map { Array($0.utf8) }

  static func numberLike(_ u: Unicode.Scalar) -> Bool {
    switch u {
    case "0"..."9", "a"..."f", "A"..."F", "x", "X", "o", "O", ".", "_", ":", "+", "-": true
    default: false
    }
  }

  static func needsEscape(_ u: Unicode.Scalar) -> Bool {
    u.value == 0x7F || (0x80...0x9F).contains(u.value) || u.value == 0x2028 || u.value == 0x2029 || u.value == 0xFEFF
  }

  public static func quoted(_ s: String) -> String {
    var out = ""
    JSONValue.quote(s, into: &out, alsoEscaping: needsEscape)
    return out
  }
}
