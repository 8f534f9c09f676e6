import Synchronization

/// A JSON value with ordered object members, used for plan/drift output and IAM policy documents.
///
/// hk writes its own JSON so that output is deterministic (member order as built) and parses
/// its own so that IAM policies keep exact number/bool types and key order; Foundation's
/// `JSONSerialization` loses both on Linux.
public indirect enum JSONValue: Sendable, Hashable {
  case null
  case bool(Bool)
  case int(Int64)
  case double(Double)
  case string(String)
  case array([JSONValue])
  case object([Member])

  public struct Member: Sendable, Hashable {
    public var key: String
    public var value: JSONValue
    public init(_ key: String, _ value: JSONValue) {
      self.key = key
      self.value = value
    }
  }

  /// Builds an object from ordered pairs; `nil` values become JSON `null`.
  public static func obj(_ members: [(String, JSONValue)]) -> JSONValue {
    .object(members.map { Member($0.0, $0.1) })
  }

  public subscript(key: String) -> JSONValue? {
    guard case .object(let m) = self else { return nil }
    return m.first { $0.key == key }?.value
  }
  public var stringValue: String? {
    if case .string(let s) = self { return s }
    return nil
  }
  public var arrayValue: [JSONValue]? {
    if case .array(let a) = self { return a }
    return nil
  }
  public var members: [Member]? {
    if case .object(let m) = self { return m }
    return nil
  }
  public var intValue: Int64? {
    switch self {
    case .int(let i): return i
    case .double(let d) where d == d.rounded() && abs(d) < 9e15: return Int64(d)
    default: return nil
    }
  }
  public var boolValue: Bool? {
    if case .bool(let b) = self { return b }
    return nil
  }
}

// MARK: Serialisation

extension JSONValue {
  /// Compact JSON (`pretty: false`) or two-space indented JSON.
  public func serialized(pretty: Bool = false) -> String {
    var out = ""
    write(to: &out, pretty: pretty, indent: 0)
    return out
  }

  private func write(to out: inout String, pretty: Bool, indent: Int) {
    switch self {
    case .null: out += "null"
    case .bool(let b): out += b ? "true" : "false"
    case .int(let i): out += String(i)
    case .double(let d):
      if d.isFinite {
        if d == d.rounded() && abs(d) < 1e15 { out += String(Int64(d)) } else { out += "\(d)" }
      } else {
        out += "null"
      }
    case .string(let s): JSONValue.quote(s, into: &out)
    case .array(let items):
      if items.isEmpty {
        out += "[]"
        return
      }
      out += "["
      for (i, item) in items.enumerated() {
        if i > 0 { out += "," }
        if pretty { out += "\n" + String(repeating: "  ", count: indent + 1) }
        item.write(to: &out, pretty: pretty, indent: indent + 1)
      }
      if pretty { out += "\n" + String(repeating: "  ", count: indent) }
      out += "]"
    case .object(let members):
      if members.isEmpty {
        out += "{}"
        return
      }
      out += "{"
      for (i, m) in members.enumerated() {
        if i > 0 { out += "," }
        if pretty { out += "\n" + String(repeating: "  ", count: indent + 1) }
        JSONValue.quote(m.key, into: &out)
        out += pretty ? ": " : ":"
        m.value.write(to: &out, pretty: pretty, indent: indent + 1)
      }
      if pretty { out += "\n" + String(repeating: "  ", count: indent) }
      out += "}"
    }
  }

  /// The UTF-8 bytes of ``serialized(pretty:)`` (compact), written straight into bytes (for
  /// digests: no `String` is grown on the way).
  public func compactUTF8() -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(4096)
    writeCompact(to: &out)
    return out
  }

  private func writeCompact(to out: inout [UInt8]) {
    switch self {
    case .null: out.append(contentsOf: "null".utf8)
    case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
    case .int, .double: out.append(contentsOf: serialized().utf8)
    case .string(let s): JSONValue.quote(s, into: &out)
    case .array(let items):
      out.append(UInt8(ascii: "["))
      for (i, item) in items.enumerated() {
        if i > 0 { out.append(UInt8(ascii: ",")) }
        item.writeCompact(to: &out)
      }
      out.append(UInt8(ascii: "]"))
    case .object(let members):
      out.append(UInt8(ascii: "{"))
      for (i, m) in members.enumerated() {
        if i > 0 { out.append(UInt8(ascii: ",")) }
        JSONValue.quote(m.key, into: &out)
        out.append(UInt8(ascii: ":"))
        m.value.writeCompact(to: &out)
      }
      out.append(UInt8(ascii: "}"))
    }
  }

  /// ``quote(_:into:alsoEscaping:)`` into bytes.
  static func quote(_ s: String, into out: inout [UInt8]) {
    if s.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != 0x22 && $0 != 0x5C }) {
      out.append(UInt8(ascii: "\""))
      out.append(contentsOf: s.utf8)
      out.append(UInt8(ascii: "\""))
      return
    }
    // The same escapes as the `String` form, on bytes: valid UTF-8 holds U+2028 and U+2029
    // only as E2 80 A8 and E2 80 A9, and every other byte at or above 0x80 is copied.
    let hex = Array("0123456789abcdef".utf8)
    out.append(0x22)
    var rest = s.utf8[...]
    while let c = rest.popFirst() {
      switch c {
      case 0x22, 0x5C: out.append(contentsOf: [0x5C, c])
      case 0x0A: out.append(contentsOf: [0x5C, 0x6E])  // \n
      case 0x0D: out.append(contentsOf: [0x5C, 0x72])  // \r
      case 0x09: out.append(contentsOf: [0x5C, 0x74])  // \t
      case 0x08: out.append(contentsOf: [0x5C, 0x62])  // \b
      case 0x0C: out.append(contentsOf: [0x5C, 0x66])  // \f
      case 0..<0x20, 0x7F: out.append(contentsOf: [0x5C, 0x75, 0x30, 0x30, hex[Int(c >> 4)], hex[Int(c & 0x0F)]])
      case 0xE2 where rest.starts(with: [0x80, 0xA8]) || rest.starts(with: [0x80, 0xA9]):
        let last: UInt8 = rest.dropFirst().first == 0xA8 ? 0x38 : 0x39
        rest = rest.dropFirst(2)
        out.append(contentsOf: [0x5C, 0x75, 0x32, 0x30, 0x32, last])  // \u2028, \u2029
      default: out.append(c)
      }
    }
    out.append(0x22)
  }

  /// Appends `s` as a JSON string literal; `alsoEscaping` picks more characters to write as
  /// `\u` escapes (the YAML emitter escapes C1 controls and BOMs too).
  public static func quote(
    _ s: String, into out: inout String, alsoEscaping extra: (Unicode.Scalar) -> Bool = { _ in false }
  ) {
    out += "\""
    // Most strings are printable ASCII without quotes or backslashes: appended whole. (Every
    // character `alsoEscaping` may pick is outside printable ASCII but DEL, which is escaped anyway.)
    if s.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != 0x22 && $0 != 0x5C }) {
      out += s
      out += "\""
      return
    }
    for u in s.unicodeScalars {
      switch u {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case "\u{08}": out += "\\b"
      case "\u{0C}": out += "\\f"
      default:
        if u.value < 0x20 || u.value == 0x7F || (0x2028...0x2029).contains(u.value) || extra(u) {
          let hex = String(u.value, radix: 16)
          out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        } else {
          out.unicodeScalars.append(u)
        }
      }
    }
    out += "\""
  }
}

// MARK: Parsing

/// A JSON syntax error with the 1-based line and column inside the parsed text.
public struct JSONParseError: HKError, Equatable, CustomStringConvertible {
  public var message: String
  public var line: Int
  public var column: Int
  public var description: String { "\(message) at line \(line), column \(column)" }
  public var errorDescription: String? { description }
  public var nextStep: String { "correct the JSON at line \(line), column \(column)" }
}

extension JSONValue {
  /// Parses RFC 8259 JSON; nesting deeper than 512 levels is refused.
  public static func parse(_ text: String) throws(JSONParseError) -> JSONValue {
    var p = JSONParser(bytes: Array(text.utf8))
    p.skipWhitespace()
    let v = try p.value(depth: 0)
    p.skipWhitespace()
    if p.i < p.bytes.count { throw p.error("unexpected text after the JSON value") }
    return v
  }

  /// ``parse(_:)``, remembered per text for the run: IAM policies in a shared base are the
  /// same text in every environment, and validation reads each twice (a thousand environments:
  /// two thousand parses of one text). Texts over 64 KiB, and texts after the 512th, are parsed
  /// every time.
  public static func parseRemembered(_ text: String) throws(JSONParseError) -> JSONValue {
    guard text.utf8.count <= 65_536 else { return try parse(text) }
    if let hit = rememberedParses.withLock({ $0[text] }) { return try hit.get() }
    let result = Result { () throws(JSONParseError) -> JSONValue in try parse(text) }
    rememberedParses.withLock { table in
      if table.count < 512 { table[text] = result }
    }
    return try result.get()
  }

  private static let rememberedParses = Mutex<[String: Result<JSONValue, JSONParseError>]>([:])
}

private struct JSONParser {
  let bytes: [UInt8]
  var i = 0

  func error(_ m: String) -> JSONParseError {
    var line = 1
    var col = 1
    for b in bytes[..<min(i, bytes.count)] {
      if b == 10 {
        line += 1
        col = 1
      } else if b & 0xC0 != 0x80 {
        col += 1
      }
    }
    return JSONParseError(message: m, line: line, column: col)
  }

  mutating func skipWhitespace() {
    while i < bytes.count, bytes[i] == 32 || bytes[i] == 9 || bytes[i] == 10 || bytes[i] == 13 { i += 1 }
  }

  mutating func value(depth: Int) throws(JSONParseError) -> JSONValue {
    guard depth < 512 else { throw error("JSON nested too deeply") }
    guard i < bytes.count else { throw error("unexpected end of JSON") }
    switch bytes[i] {
    case UInt8(ascii: "{"):
      i += 1
      var members: [JSONValue.Member] = []
      skipWhitespace()
      if i < bytes.count, bytes[i] == UInt8(ascii: "}") {
        i += 1
        return .object(members)
      }
      while true {
        skipWhitespace()
        guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw error("expected a string key") }
        let k = try string()
        skipWhitespace()
        guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw error("expected ':' after key") }
        i += 1
        skipWhitespace()
        let v = try value(depth: depth + 1)
        members.append(.init(k, v))
        skipWhitespace()
        guard i < bytes.count else { throw error("unterminated object") }
        if bytes[i] == UInt8(ascii: ",") {
          i += 1
          continue
        }
        if bytes[i] == UInt8(ascii: "}") {
          i += 1
          return .object(members)
        }
        throw error("expected ',' or '}' in object")
      }
    case UInt8(ascii: "["):
      i += 1
      var items: [JSONValue] = []
      skipWhitespace()
      if i < bytes.count, bytes[i] == UInt8(ascii: "]") {
        i += 1
        return .array(items)
      }
      while true {
        skipWhitespace()
        items.append(try value(depth: depth + 1))
        skipWhitespace()
        guard i < bytes.count else { throw error("unterminated array") }
        if bytes[i] == UInt8(ascii: ",") {
          i += 1
          continue
        }
        if bytes[i] == UInt8(ascii: "]") {
          i += 1
          return .array(items)
        }
        throw error("expected ',' or ']' in array")
      }
    case UInt8(ascii: "\""):
      return .string(try string())
    case UInt8(ascii: "t"):
      try literal("true")
      return .bool(true)
    case UInt8(ascii: "f"):
      try literal("false")
      return .bool(false)
    case UInt8(ascii: "n"):
      try literal("null")
      return .null
    default:
      return try number()
    }
  }

  mutating func literal(_ word: String) throws(JSONParseError) {
    let w = Array(word.utf8)
    guard i + w.count <= bytes.count, Array(bytes[i..<i + w.count]) == w else {
      throw error("invalid literal")
    }
    i += w.count
  }

  mutating func number() throws(JSONParseError) -> JSONValue {
    let start = i
    var isFloat = false
    if i < bytes.count, bytes[i] == UInt8(ascii: "-") { i += 1 }
    while i < bytes.count {
      let b = bytes[i]
      if b >= 48 && b <= 57 {
        i += 1
      } else if b == UInt8(ascii: ".") || b == UInt8(ascii: "e") || b == UInt8(ascii: "E")
        || b == UInt8(ascii: "+") || b == UInt8(ascii: "-")
      {
        isFloat = true
        i += 1
      } else {
        break
      }
    }
    guard i > start else { throw error("unexpected character") }
    let text = String(decoding: bytes[start..<i], as: UTF8.self)
    guard Self.isJSONNumber(bytes[start..<i]) else {
      i = start
      throw error("invalid number '\(text)'")
    }
    if !isFloat, let n = Int64(text) { return .int(n) }
    guard let d = Double(text) else { throw error("invalid number '\(text)'") }
    return .double(d)
  }

  /// RFC 8259 number grammar: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
  static func isJSONNumber(_ n: ArraySlice<UInt8>) -> Bool {
    var j = n.startIndex
    let end = n.endIndex
    func digits() -> Int {
      let from = j
      while j < end, n[j] >= 48 && n[j] <= 57 { j += 1 }
      return j - from
    }
    if j < end, n[j] == UInt8(ascii: "-") { j += 1 }
    guard j < end else { return false }
    if n[j] == UInt8(ascii: "0") {
      j += 1
    } else if digits() == 0 {
      return false
    }
    if j < end, n[j] == UInt8(ascii: ".") {
      j += 1
      guard digits() > 0 else { return false }
    }
    if j < end, n[j] == UInt8(ascii: "e") || n[j] == UInt8(ascii: "E") {
      j += 1
      if j < end, n[j] == UInt8(ascii: "+") || n[j] == UInt8(ascii: "-") { j += 1 }
      guard digits() > 0 else { return false }
    }
    return j == end
  }

  mutating func string() throws(JSONParseError) -> String {
    i += 1
    var out: [UInt8] = []
    while i < bytes.count {
      let b = bytes[i]
      if b == UInt8(ascii: "\"") {
        i += 1
        return String(decoding: out, as: UTF8.self)
      }
      if b < 0x20 { throw error("control character in string") }
      if b == UInt8(ascii: "\\") {
        i += 1
        guard i < bytes.count else { break }
        let e = bytes[i]
        i += 1
        switch e {
        case UInt8(ascii: "\""): out.append(0x22)
        case UInt8(ascii: "\\"): out.append(0x5C)
        case UInt8(ascii: "/"): out.append(0x2F)
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "u"):
          var code = try hex4()
          if (0xD800...0xDBFF).contains(code), i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"),
            bytes[i + 1] == UInt8(ascii: "u")
          {
            i += 2
            let low = try hex4()
            code = 0x10000 + ((code - 0xD800) << 10) + (low &- 0xDC00)
          }
          let scalar = Unicode.Scalar(code) ?? "\u{FFFD}"
          out.append(contentsOf: Array(String(scalar).utf8))
        default: throw error("invalid escape")
        }
        continue
      }
      out.append(b)
      i += 1
    }
    throw error("unterminated string")
  }

  mutating func hex4() throws(JSONParseError) -> UInt32 {
    guard i + 4 <= bytes.count else { throw error("short \\u escape") }
    guard let v = UInt32(String(decoding: bytes[i..<i + 4], as: UTF8.self), radix: 16) else {
      throw error("invalid \\u escape")
    }
    i += 4
    return v
  }
}

// MARK: YAML ⇄ JSON

extension YAMLNode {
  /// The node as JSON: scalars by resolved value, mappings keep key order.
  public var json: JSONValue {
    switch content {
    case .scalar(let s):
      switch s.value {
      case .null: return .null
      case .bool(let b): return .bool(b)
      case .int(let i): return .int(i)
      case .float(let d): return .double(d)
      case .string(let t): return .string(t)
      }
    case .mapping(let pairs): return .object(pairs.map { .init($0.key, $0.value.json) })
    case .sequence(let items): return .array(items.map(\.json))
    }
  }

  /// Builds a YAML tree from JSON (no marks).
  public init(json: JSONValue) {
    switch json {
    case .null: self = .null
    case .bool(let b): self = .bool(b)
    case .int(let i): self = .int(i)
    case .double(let d): self = YAMLNode(.scalar(YAMLScalar(d == d.rounded() && abs(d) < 1e15 ? "\(Int64(d)).0" : "\(d)")))
    case .string(let s): self = .string(s)
    case .array(let a): self = .sequence(a.map { YAMLNode(json: $0) })
    case .object(let m): self = .mapping(m.map { YAMLPair(key: $0.key, value: YAMLNode(json: $0.value)) })
    }
  }
}
