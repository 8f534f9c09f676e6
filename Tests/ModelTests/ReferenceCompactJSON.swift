import Model

/// The compact JSON byte writer hk used before `JSONValue.compactUTF8(chunkSize:)` (kept as the
/// reference the new writer is compared with in ``JSONValueTests``).
enum ReferenceCompactJSON {
  static func bytes(_ v: JSONValue) -> [UInt8] {
    var out: [UInt8] = []
    writeCompact(v, to: &out)
    return out
  }

  static func writeCompact(_ v: JSONValue, to out: inout [UInt8]) {
    switch v {
    case .null: out.append(contentsOf: "null".utf8)
    case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
    case .int, .double: out.append(contentsOf: v.serialized().utf8)
    case .string(let s): quote(s, into: &out)
    case .array(let items):
      out.append(UInt8(ascii: "["))
      for (i, item) in items.enumerated() {
        if i > 0 { out.append(UInt8(ascii: ",")) }
        writeCompact(item, to: &out)
      }
      out.append(UInt8(ascii: "]"))
    case .object(let members):
      out.append(UInt8(ascii: "{"))
      for (i, m) in members.enumerated() {
        if i > 0 { out.append(UInt8(ascii: ",")) }
        quote(m.key, into: &out)
        out.append(UInt8(ascii: ":"))
        writeCompact(m.value, to: &out)
      }
      out.append(UInt8(ascii: "}"))
    }
  }

  /// `JSONValue.quote(_:into:alsoEscaping:)` into bytes.
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
}
