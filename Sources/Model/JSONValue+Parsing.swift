import Synchronization

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
