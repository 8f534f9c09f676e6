import Config
import Foundation
import Testing

@testable import Model

/// `YAMLScalar` decides what its value resolves to on the text's bytes (`classify`); this
/// compares every accessor with the resolution hk had before (kept below as the reference) on
/// every short string over an alphabet of the characters that matter, boundary numbers, and
/// every scalar of the repository's own YAML files and kops's fixtures when present.
@Suite struct ScalarClassificationTests {
  // MARK: The reference: the resolution before byte classification, verbatim except where noted

  static func referenceResolve(_ text: String, style: ScalarStyle, tag: String?) -> ScalarValue {
    if let tag {
      switch tag {
      case "tag:yaml.org,2002:str": return .string(text)
      case "tag:yaml.org,2002:null": return .null
      case "tag:yaml.org,2002:bool": return referenceBool(text).map(ScalarValue.bool) ?? .string(text)
      case "tag:yaml.org,2002:int": return referenceInt(text).map(ScalarValue.int) ?? .string(text)
      case "tag:yaml.org,2002:float": return Double(text).map(ScalarValue.float) ?? .string(text)
      default: break
      }
    }
    if style.isQuoted { return .string(text) }
    return referencePlain(text)
  }

  static func referencePlain(_ text: String) -> ScalarValue {
    guard let first = text.utf8.first else { return .null }
    switch first {
    case UInt8(ascii: "~") where text.utf8.count == 1: return .null
    case UInt8(ascii: "n"), UInt8(ascii: "N"):
      if text == "null" || text == "Null" || text == "NULL" { return .null }
    case UInt8(ascii: "t"), UInt8(ascii: "T"), UInt8(ascii: "f"), UInt8(ascii: "F"):
      if let b = referenceBool(text) { return .bool(b) }
    case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."):
      if let i = referenceInt(text) { return .int(i) }
      if let d = YAMLScalar.resolveFloat(text) { return .float(d) }
    default: break
    }
    return .string(text)
  }

  static func referenceBool(_ t: String) -> Bool? {
    switch t {
    case "true", "True", "TRUE": true
    case "false", "False", "FALSE": false
    default: nil
    }
  }

  static func referenceInt(_ t: String) -> Int64? {
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
    // The one change: `-0x-8000000000000000` trapped here (-Int64.min); it is a string now.
    if negative && m == .min { return nil }
    return negative ? -m : m
  }

  // MARK: The comparison

  static let tags: [String?] = [
    nil, "tag:yaml.org,2002:str", "tag:yaml.org,2002:int", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:null", "!custom",
  ]

  /// Same value (NaN equal to NaN) from the scalar and from the reference, and the fast
  /// accessors agree with it.
  static func check(_ text: String, style: ScalarStyle = .plain, tag: String? = nil) -> Bool {
    let s = YAMLScalar(text, style: style, tag: tag)
    let expected = referenceResolve(text, style: style, tag: tag)
    let got = s.value
    let same: Bool
    if case .float(let a) = got, case .float(let b) = expected {
      same = a == b || (a.isNaN && b.isNaN)
    } else {
      same = got == expected
    }
    guard same else { return false }
    guard s.isNull == (expected == .null), s.stringText == expected.string else { return false }
    if case .bool(let b) = expected { guard s.boolValue == b else { return false } } else { guard s.boolValue == nil else { return false } }
    if case .int(let i) = expected { guard s.intValue == i else { return false } } else { guard s.intValue == nil else { return false } }
    let node = YAMLNode(.scalar(s))
    return node.isNull == s.isNull && node.stringValue == s.stringText && node.text == (s.isNull ? nil : text)
  }

  @Test func everyShortStringOverTheResolutionAlphabet() {
    let alphabet = Array("019afxoeE.-+~nNultrTFiI_:sA ")
    var words: [String] = [""]
    var level: [String] = [""]
    for _ in 1...3 {
      level = level.flatMap { w in alphabet.map { w + String($0) } }
      words += level
    }
    var failures: [String] = []
    for w in words {
      for style in [ScalarStyle.plain, .doubleQuoted] where !Self.check(w, style: style) { failures.append(w) }
    }
    for w in words.prefix(2000) {
      for tag in Self.tags where !Self.check(w, tag: tag) { failures.append("\(tag ?? "-") \(w)") }
    }
    #expect(failures.isEmpty, "\(failures.prefix(20))")
  }

  @Test func keywordsNumbersAndBoundaries() {
    var words = [
      "null", "Null", "NULL", "nULL", "nul", "nulls", "~", "~~", "true", "True", "TRUE", "tRUE", "false", "False", "FALSE", "falsey",
      "yes", "no", "on", "off", "y", "n", "0", "-0", "+0", "00", "007", "0x", "0x1F", "0xff", "0XFF", "0x-1", "0x+1", "-0x-1", "+0x-1",
      "0o", "0o17", "0o8", "0o-7", "-0o-7", "0b101", "1_000", "1,000", " 1", "1 ", "1e3", "1E3", "1e", "e3", "1.", ".5", "-.5", "+.5",
      "1.2.3", "1.28.9", "10.0.0.0/8", "1e+3", "1e-3", "1e3.5", "--1", "+-1", "-", "+", ".", "..", ".inf", ".Inf", ".INF", ".iNF",
      "+.inf", "-.inf", "-.Inf", "-.INF", "+.INF", ".nan", ".NaN", ".NAN", "-.nan", "nan", "inf", "Infinity", "0.0", "-0.0", "3128",
      "099720109477/ubuntu", "1Gi", "500m", "12h", "١٢٣", "１２３", "0x\u{301}1", "1\u{301}", "é", "e\u{301}",
      "9223372036854775807", "9223372036854775808", "-9223372036854775807", "-9223372036854775808", "-9223372036854775809",
      "0x7fffffffffffffff", "0x8000000000000000", "0x-8000000000000000", "-0x-8000000000000000", "+0x-8000000000000000",
      "-0x8000000000000000", "0x-8000000000000001", "0o777777777777777777777", "0o1000000000000000000000", "0o-1000000000000000000000",
      "99999999999999999999", "1e999", "-1e999", "1e-999", "0.1e1", "1.e1", String(repeating: "9", count: 400),
    ]
    var rng = SystemRandomNumberGenerator()
    let digits = Array("0123456789abcdefABCDEF.eE+-xo")
    for _ in 0..<3000 {
      let n = Int.random(in: 1...24, using: &rng)
      words.append(String((0..<n).map { _ in digits.randomElement(using: &rng) ?? "0" }))
    }
    var failures: [String] = []
    for w in words {
      for style in [ScalarStyle.plain, .singleQuoted, .literal] where !Self.check(w, style: style) { failures.append(w) }
      for tag in Self.tags where !Self.check(w, tag: tag) { failures.append("\(tag ?? "-") \(w)") }
    }
    #expect(failures.isEmpty, "\(failures.prefix(20))")
  }

  /// Every scalar (keys too) of the repository's YAML and of kops's fixtures when present.
  @Test func everyScalarOfTheRepositoryAndTheFixtures() throws {
    let root = packageRoot()
    var files: [String] = []
    for dir in [root + "/environments", root + "/examples", root + "/Tests", root + "/../shared/kops-fixtures"] {
      guard let walker = FileManager.default.enumerator(atPath: dir) else { continue }
      for case let rel as String in walker where rel.hasSuffix(".yaml") || rel.hasSuffix(".yml") { files.append(dir + "/" + rel) }
    }
    #expect(files.count >= 3)
    var failures: [String] = []
    var count = 0
    func visit(_ node: YAMLNode) {
      switch node.content {
      case .scalar(let s):
        count += 1
        if !Self.check(s.text, style: s.style, tag: s.tag) { failures.append(s.text) }
      case .mapping(let pairs):
        for p in pairs {
          count += 1
          if !Self.check(p.key) { failures.append(p.key) }
          visit(p.value)
        }
      case .sequence(let items): items.forEach(visit)
      }
    }
    for f in files {
      guard let bytes = try? FileReader.read(f), let docs = try? YAMLParser.parse(bytes, file: f) else { continue }
      docs.forEach(visit)
    }
    #expect(count > 1000)
    #expect(failures.isEmpty, "\(failures.prefix(20))")
  }
}
