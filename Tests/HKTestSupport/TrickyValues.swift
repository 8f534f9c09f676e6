import Model

/// Strings and JSON values that exercise every rule of YAML emission and output escaping, for
/// differential tests of rewritten hot paths against their reference implementations.
public enum TrickyValues {
  /// Strings a naive emitter or escaper would get wrong: YAML 1.1 booleans and nulls, numbers,
  /// indicators, comments, document markers, whitespace, line breaks, controls, bidi overrides,
  /// workflow commands, grapheme clusters that merge a space or line break with a mark.
  public static let strings: [String] = [
    "", " ", "  ", "a", "yes", "no", "on", "off", "y", "n", "Y", "N", "Yes", "NO", "Off", "oN", "true", "False", "TRUE", "null",
    "Null", "NULL", "nULL", "~", "~x", "nil", "none", "0.0.0.0/0", "3128", "-3128", "+1", "0", "-0", "012", "0x1F", "0xZZ",
    "0o17", "0b101", "1_000", "1:20", "1e3", "1E+3", "1.30", ".5", "1.", ".inf", "-.inf", "+.inf", ".Inf", ".NaN", ".nan", "1.28.4",
    "v1.28.4", "1.2.3z", "12 monkeys", "-", "- a", "-foo", "--", "---", "--- a", "----", "...", "... x", "..a", "?", "? a", ":",
    "a:", ":a", "a: b", "a:b", "a :b", "http://proxy:3128", "a #b", "a#b", "#c", "key: value # comment", "a, b", ",", "[", "]",
    "{", "}", "[a]", "{a: b}", "&a", "*a", "!tag", "!!str", "|", ">", "'", "\"", "''", "%", "@", "`", "<<", "=", "a'b", "a\"b",
    "back\\slash", "tab\there", "\ttab", "trailing ", " leading", "trailing\t", "\n", "\n\n", "a\n", "a\n\n", "\na", "a\n\n\n",
    "line1\nline2", "line1\n  indented\nline3\n", " lead\nline", "trail \nline", "tab\t\nline", "a\n\tb\n", "cr\r\nlf", "cr\r",
    "multi\nline ", "multi\nline\t", "::error x", "  ::warning::y", "a\n::error::z\n", "a\n  ::b", ": :", "x\n\n\ny\n\n",
    "[\n  {\n    \"Effect\": \"Allow\",\n    \"Action\": [\"s3:*\"]\n  }\n]\n", "{\"json\": [1, 2], \"s\": \"x: y\"}",
    "ünïcödé", "日本語", "emoji 👉 here", "a\u{2028}b", "a\u{2029}b", "a\u{85}b", "\u{FEFF}bom", "nul\u{0}byte", "bell\u{7}",
    "del\u{7F}", "c1\u{9B}", "é: é", "a\u{202E}b", "\u{2066}iso\u{2069}", "lrm\u{200E}", "alm\u{061C}", "\u{1B}[31m red",
    "ünï\ncödé\n", "\u{301}combining", " \u{301}lead", "a \u{301}", "\u{0600} ", "...\u{301}", "---\u{301}", "\u{212A}",
    "tru\u{0065}\u{301}", "line\n\u{301}mark", "x\u{202E}\nline\n", "\r\n", "a\u{8}b\u{C}c", "\u{1F}", "é\té\n",
    "nullable", "trueish", "falsey", "Nullify", "~~~~~~", "+.infinity", "1.5e+10", "-12345.5", "0x1234567", "123456789012345678901",
    "1e5x", "12345z", "0o1234567", "tru", "nul", "f", "~a", ".infx", "-.inf2", "100Mi", "200m", "10.0.0.0/8",
    String(repeating: "long ", count: 60), String(repeating: "x", count: 300) + "\n" + String(repeating: "y", count: 3),
  ]

  /// A deterministic pseudo-random generator (SplitMix64).
  public struct Generator {
    var random: SplitMix64
    public init(seed: UInt64) { random = SplitMix64(seed: seed) }

    public mutating func next() -> UInt64 { random.next() }

    public mutating func below(_ n: Int) -> Int { random.below(n) }

    /// A string from the tricky corpus, a random mix of its pieces, or random bytes of printable
    /// ASCII and a few special characters.
    public mutating func string() -> String {
      switch below(4) {
      case 0, 1: return TrickyValues.strings[below(TrickyValues.strings.count)]
      case 2:
        var s = ""
        for _ in 0..<(1 + below(3)) { s += TrickyValues.strings[below(TrickyValues.strings.count)] }
        return s
      default:
        let alphabet = Array("abcXYZ019 :#-.\n\t'\"\\_~?!{}[],|>@`%&*+é\u{202E}\u{85}\u{7F}")
        var s = ""
        for _ in 0..<below(12) { s.append(alphabet[below(alphabet.count)]) }
        return s
      }
    }

    /// A JSON value up to `depth` levels of collections deep.
    public mutating func value(depth: Int) -> JSONValue {
      switch below(depth > 0 ? 10 : 6) {
      case 0: return .null
      case 1: return .bool(below(2) == 0)
      case 2:
        let ints: [Int64] = [0, 1, -1, 42, 3128, .max, .min, .min + 1, -9_007_199_254_740_993]
        return .int(below(3) == 0 ? ints[below(ints.count)] : Int64(bitPattern: next()) >> below(64))
      case 3:
        let doubles: [Double] = [
          0, -0.0, 1.5, -2.25, 1e15, 1e16, 1e300, .leastNonzeroMagnitude, .infinity, -.infinity, .nan, 0.1, 123456.0,
        ]
        return .double(doubles[below(doubles.count)])
      case 4, 5: return .string(string())
      case 6, 7: return .array((0..<below(4)).map { _ in value(depth: depth - 1) })
      default:
        return .object((0..<below(5)).map { _ in JSONValue.Member(string(), value(depth: depth - 1)) })
      }
    }
  }
}
