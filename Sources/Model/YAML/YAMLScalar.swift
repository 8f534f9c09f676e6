import Synchronization

/// A scalar's text, style and explicit tag (`!!str`), resolved like YAML 1.2's core schema.
///
/// Immutable: what the value resolves to (string, null, true, false, an int, something else)
/// is decided once, when the scalar is made (one byte, next to the style), from the text's
/// bytes (``classify(_:style:tag:)``), because `value` is read on every comparison, lookup and
/// validation of every scalar; an int's or float's value is parsed again from the text when read.
public struct YAMLScalar: Sendable {
  public let text: String
  public let style: ScalarStyle
  private let kind: Kind
  /// The tag, as its number in ``TagTable`` (0: none). A tag is rare and a scalar is in every
  /// node: a number instead of a `String?` makes a scalar 20 bytes instead of 40, a node 32
  /// instead of 56 and a pair 64 instead of 88 (the trees of a thousand environments are most
  /// of hk's memory, and each new page of it is a page fault), and a copy retains one string.
  let tagID: UInt16

  /// An explicit tag such as `tag:yaml.org,2002:str`, or nil.
  public var tag: String? { tagID == 0 ? nil : TagTable.name(tagID) }

  /// What ``value`` resolves to, decided when the scalar is made.
  enum Kind: UInt8, Sendable { case string, null, isTrue, isFalse, int, other }

  public init(_ text: String, style: ScalarStyle = .plain, tag: String? = nil) {
    self.text = text
    self.style = style
    tagID = tag.map(TagTable.id) ?? 0
    kind = Self.classify(text, style: style, tag: tag)
  }

  /// The typed value of the scalar (core schema: null, bool, int, float, else string).
  ///
  /// `yes`/`no`/`on`/`off` resolve to strings here; the validator refuses them where kops expects
  /// a bool, because kops's YAML 1.1 reader would turn them into booleans.
  public var value: ScalarValue {
    switch kind {
    case .string: .string(text)
    case .null: .null
    case .isTrue: .bool(true)
    case .isFalse: .bool(false)
    case .int: intValue.map(ScalarValue.int) ?? Self.resolve(text, style: style, tag: tag)
    case .other: Self.resolve(text, style: style, tag: tag)
    }
  }

  /// Whether ``value`` is `.null` (decided when the scalar was made: no resolution).
  public var isNull: Bool { kind == .null }
  /// The text when ``value`` is a string, else nil (no resolution).
  public var stringText: String? { kind == .string ? text : nil }
  /// The boolean when ``value`` is one, else nil (no resolution).
  public var boolValue: Bool? {
    switch kind {
    case .isTrue: true
    case .isFalse: false
    default: nil
    }
  }
  /// The integer when ``value`` is one, else nil (only an int's text is parsed).
  public var intValue: Int64? {
    guard kind == .int else { return nil }
    if tagID == 0 {
      // a plain int: its bytes parsed as classify read them
      var t = text
      return t.withUTF8 { Self.parseInt($0) }
    }
    guard case .int(let i) = Self.resolve(text, style: style, tag: tag) else { return nil }
    return i
  }

  /// What ``resolve(_:style:tag:)`` gives `text`, as a ``Kind``: plain untagged scalars are
  /// classified on their bytes (most are obviously strings: no keyword, no digit first);
  /// tagged ones take ``resolve(_:style:tag:)`` itself. A unit test compares the two.
  static func classify(_ text: String, style: ScalarStyle, tag: String?) -> Kind {
    if tag != nil {
      switch resolve(text, style: style, tag: tag) {
      case .string: return .string
      case .null: return .null
      case .bool(let b): return b ? .isTrue : .isFalse
      case .int: return .int
      case .float: return .other
      }
    }
    if style.isQuoted { return .string }
    var t = text
    return t.withUTF8 { classifyPlain($0) }
  }

  /// ``resolvePlain(_:)`` on the UTF-8 bytes of a plain scalar, as a ``Kind`` (`.other`: a float).
  static func classifyPlain(_ b: UnsafeBufferPointer<UInt8>) -> Kind {
    guard let first = b.first else { return .null }
    let n = b.count
    switch first {
    case UInt8(ascii: "~"): return n == 1 ? .null : .string
    case UInt8(ascii: "n"), UInt8(ascii: "N"):
      return n == 4 && (equals(b, "null") || equals(b, "Null") || equals(b, "NULL")) ? .null : .string
    case UInt8(ascii: "t"), UInt8(ascii: "T"):
      return n == 4 && (equals(b, "true") || equals(b, "True") || equals(b, "TRUE")) ? .isTrue : .string
    case UInt8(ascii: "f"), UInt8(ascii: "F"):
      return n == 5 && (equals(b, "false") || equals(b, "False") || equals(b, "FALSE")) ? .isFalse : .string
    case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."):
      if isInt(b) { return .int }
      // Only these bytes can make a float (the core schema's, `.inf` and `.nan` spelled in three cases).
      for c in b {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"), UInt8(ascii: "+"),
          UInt8(ascii: "-"), UInt8(ascii: "i"), UInt8(ascii: "I"), UInt8(ascii: "n"), UInt8(ascii: "N"), UInt8(ascii: "f"),
          UInt8(ascii: "F"), UInt8(ascii: "a"), UInt8(ascii: "A"):
          continue
        default: return .string
        }
      }
      return resolveFloat(String(decoding: b, as: UTF8.self)) == nil ? .string : .other
    default: return .string
    }
  }

  private static func equals(_ b: UnsafeBufferPointer<UInt8>, _ word: StaticString) -> Bool {
    guard b.count == word.utf8CodeUnitCount else { return false }
    let w = word.utf8Start
    for i in 0..<b.count where b[i] != w[i] { return false }
    return true
  }

  /// Whether ``resolveInt(_:)`` parses the bytes: a sign, then decimal digits, or `0x` / `0o`
  /// and a sign (`Int64(_:radix:)` takes one) and hex / octal digits, the value fitting an `Int64`.
  static func isInt(_ b: UnsafeBufferPointer<UInt8>) -> Bool { parseInt(b) != nil }

  /// ``resolveInt(_:)`` on bytes (see ``isInt(_:)``).
  static func parseInt(_ b: UnsafeBufferPointer<UInt8>) -> Int64? {
    var i = 0
    var negative = false
    if i < b.count && (b[i] == UInt8(ascii: "-") || b[i] == UInt8(ascii: "+")) {
      negative = b[i] == UInt8(ascii: "-")
      i += 1
    }
    guard i < b.count else { return nil }
    var radix: UInt64 = 10
    var innerNegative = false
    if b.count - i >= 2 && b[i] == UInt8(ascii: "0") && (b[i + 1] == UInt8(ascii: "x") || b[i + 1] == UInt8(ascii: "o")) {
      radix = b[i + 1] == UInt8(ascii: "x") ? 16 : 8
      i += 2
      if i < b.count && (b[i] == UInt8(ascii: "-") || b[i] == UInt8(ascii: "+")) {
        innerNegative = b[i] == UInt8(ascii: "-")
        i += 1
      }
      guard i < b.count else { return nil }
    }
    // -2^63 fits only as `0x-8000000000000000` (and then not negated again: see resolveInt).
    let limit = innerNegative && !negative ? UInt64(Int64.max) + 1 : UInt64(Int64.max)
    var magnitude: UInt64 = 0
    while i < b.count {
      let c = b[i]
      let d: UInt64
      switch c {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt64(c - UInt8(ascii: "0"))
      case UInt8(ascii: "a")...UInt8(ascii: "f") where radix == 16: d = UInt64(c - UInt8(ascii: "a") + 10)
      case UInt8(ascii: "A")...UInt8(ascii: "F") where radix == 16: d = UInt64(c - UInt8(ascii: "A") + 10)
      default: return nil
      }
      guard d < radix else { return nil }
      let (m1, o1) = magnitude.multipliedReportingOverflow(by: radix)
      let (m2, o2) = m1.addingReportingOverflow(d)
      guard !o1, !o2, m2 <= limit else { return nil }
      magnitude = m2
      i += 1
    }
    // `innerNegative` with a magnitude of 2^63 is Int64.min (allowed only when not negated again)
    let value = innerNegative ? (magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)) : Int64(magnitude)
    return negative ? -value : value
  }

  static func resolve(_ text: String, style: ScalarStyle, tag: String?) -> ScalarValue {
    if let tag {
      switch tag {
      case "tag:yaml.org,2002:str": return .string(text)
      case "tag:yaml.org,2002:null": return .null
      case "tag:yaml.org,2002:bool": return Self.resolveBool(text).map(ScalarValue.bool) ?? .string(text)
      case "tag:yaml.org,2002:int": return Self.resolveInt(text).map(ScalarValue.int) ?? .string(text)
      case "tag:yaml.org,2002:float": return Double(text).map(ScalarValue.float) ?? .string(text)
      default: break
      }
    }
    if style.isQuoted { return .string(text) }
    return Self.resolvePlain(text)
  }

  public static func resolvePlain(_ text: String) -> ScalarValue {
    guard let first = text.utf8.first else { return .null }
    switch first {
    case UInt8(ascii: "~") where text.utf8.count == 1: return .null
    case UInt8(ascii: "n"), UInt8(ascii: "N"):
      if text == "null" || text == "Null" || text == "NULL" { return .null }
    case UInt8(ascii: "t"), UInt8(ascii: "T"), UInt8(ascii: "f"), UInt8(ascii: "F"):
      if let b = resolveBool(text) { return .bool(b) }
    case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."):
      if let i = resolveInt(text) { return .int(i) }
      if let d = resolveFloat(text) { return .float(d) }
    default: break
    }
    return .string(text)
  }

  static func resolveBool(_ t: String) -> Bool? {
    switch t {
    case "true", "True", "TRUE": true
    case "false", "False", "FALSE": false
    default: nil
    }
  }

  static func resolveInt(_ t: String) -> Int64? {
    var s = Substring(t)
    var negative = false
    if s.first == "-" || s.first == "+" {
      negative = s.first == "-"
      s = s.dropFirst()
    }
    guard !s.isEmpty else { return nil }
    let magnitude: Int64?
    if s.hasPrefix("0x") {
      magnitude = Int64(s.dropFirst(2), radix: 16)
    } else if s.hasPrefix("0o") {
      magnitude = Int64(s.dropFirst(2), radix: 8)
    } else {
      guard s.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
      magnitude = Int64(s)
    }
    guard let m = magnitude else { return nil }
    // `-0x-8000000000000000`: -Int64.min does not fit (it trapped); such text is a string.
    if negative && m == .min { return nil }
    return negative ? -m : m
  }

  static func resolveFloat(_ t: String) -> Double? {
    switch t {
    case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .infinity
    case "-.inf", "-.Inf", "-.INF": return -.infinity
    case ".nan", ".NaN", ".NAN": return .nan
    default: break
    }
    // Core schema float: [-+]? (\.[0-9]+ | [0-9]+ (\.[0-9]*)?) ([eE][-+]?[0-9]+)?
    var sawDigit = false
    var sawDot = false
    var sawExp = false
    var prev: UInt8 = 0
    for (i, c) in t.utf8.enumerated() {
      switch c {
      case 48...57: sawDigit = true
      case UInt8(ascii: "."):
        if sawDot || sawExp { return nil }
        sawDot = true
      case UInt8(ascii: "e"), UInt8(ascii: "E"):
        if sawExp || !sawDigit { return nil }
        sawExp = true
      case UInt8(ascii: "-"), UInt8(ascii: "+"):
        if !(i == 0 || prev == UInt8(ascii: "e") || prev == UInt8(ascii: "E")) { return nil }
      default: return nil
      }
      prev = c
    }
    guard sawDigit, sawDot || sawExp else { return nil }
    return Double(t)
  }
}

/// The typed value of a scalar.
public enum ScalarValue: Sendable, Hashable {
  case null
  case bool(Bool)
  case int(Int64)
  case float(Double)
  case string(String)

  public var string: String? {
    if case .string(let s) = self { return s }
    return nil
  }
}

/// The tags of scalars, numbered for the process (``YAMLScalar`` keeps a tag's number).
///
/// Equal tags get equal numbers; the table holds at most 65 534 distinct tags (far more than any
/// real file uses). A hostile input naming more shares one last number among the rest: that tag
/// then reads as ``overflowName``. No tag beyond yaml.org's five changes how a scalar resolves
/// (those five are numbered first), and no output prints a tag, so only the text of such a tag
/// is lost, never a value.
enum TagTable {
  static let overflowName = "tag:hk,2026:too-many-tags"
  private static let overflowID = UInt16.max

  private struct Table {
    var names: [String] = [""]
    var ids: [String: UInt16] = [:]
  }
  private static let table: Mutex<Table> = {
    var t = Table()
    for core in [
      "tag:yaml.org,2002:str", "tag:yaml.org,2002:null", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:int",
      "tag:yaml.org,2002:float",
    ] {
      t.ids[core] = UInt16(t.names.count)
      t.names.append(core)
    }
    return Mutex(t)
  }()

  static func id(_ name: String) -> UInt16 {
    table.withLock { t in
      if let id = t.ids[name] { return id }
      guard t.names.count < Int(overflowID) else { return overflowID }
      let id = UInt16(t.names.count)
      t.names.append(name)
      t.ids[name] = id
      return id
    }
  }

  static func name(_ id: UInt16) -> String {
    if id == overflowID { return overflowName }
    return table.withLock { t in Int(id) < t.names.count ? t.names[Int(id)] : overflowName }
  }
}
