import Model

/// The value type of a flag, as pflag knows it.
enum FlagKind: Sendable {
  case bool, string, stringSlice, duration, int, level

  /// The type word pflag prints in usage (`--state string`).
  var usageType: String {
    switch self {
    case .bool: ""
    case .string: "string"
    case .stringSlice: "strings"
    case .duration: "duration"
    case .int: "int"
    case .level: "Level"
    }
  }
}

/// One flag of a command (pflag semantics: `--name value`, `--name=value`, `-n value`,
/// bool flags without a value).
struct FlagSpec: Sendable {
  var name: String
  var short: Character?
  var kind: FlagKind
  /// The default as text (what `bool`/`string`/… return when the flag is not given).
  var defaultValue: String
  /// pflag's `NoOptDefVal`: the value a bare `--admin` takes (bools use "true").
  var noOptDefault: String?
  var help: String

  init(
    _ name: String, short: Character? = nil, _ kind: FlagKind, default defaultValue: String = "",
    noOptDefault: String? = nil, help: String
  ) {
    self.name = name
    self.short = short
    self.kind = kind
    self.defaultValue = defaultValue
    self.noOptDefault = kind == .bool ? (noOptDefault ?? "true") : noOptDefault
    self.help = help
  }

  /// How pflag names the flag in errors: `-y, --yes` or `--state`.
  var errorName: String { short.map { "-\($0), --\(name)" } ?? "--\(name)" }
}

/// The flags given on one command line, after pflag-style parsing and value checks.
struct ParsedFlags {
  var specs: [String: FlagSpec]
  /// Raw values in the order given, per flag name.
  var values: [String: [String]] = [:]

  /// Whether the flag was given at all.
  func isSet(_ name: String) -> Bool { values[name] != nil }

  func string(_ name: String) -> String {
    values[name]?.last ?? specs[name]?.defaultValue ?? ""
  }

  func bool(_ name: String) -> Bool {
    GoParse.bool(string(name)) ?? false
  }

  /// A string slice: every occurrence split on commas; the default when never given.
  func strings(_ name: String) -> [String] {
    guard let given = values[name] else {
      let d = specs[name]?.defaultValue ?? ""
      return d.isEmpty ? [] : GoParse.csv(d)
    }
    return given.flatMap { GoParse.csv($0) }
  }

  /// A duration in seconds.
  func duration(_ name: String) -> Double {
    GoDuration.parse(string(name)) ?? 0
  }

  func int(_ name: String) -> Int {
    Int(string(name)) ?? 0
  }
}

/// Go's value parsers as pflag uses them.
enum GoParse {
  /// `strconv.ParseBool`.
  static func bool(_ s: String) -> Bool? {
    switch s {
    case "1", "t", "T", "TRUE", "true", "True": true
    case "0", "f", "F", "FALSE", "false", "False": false
    default: nil
    }
  }

  /// pflag's string-slice reader: comma-separated, double quotes group a field.
  static func csv(_ s: String) -> [String] {
    if s.isEmpty { return [] }
    var fields: [String] = []
    var current = ""
    var quoted = false
    for c in s {
      if c == "\"" {
        quoted.toggle()
      } else if c == "," && !quoted {
        fields.append(current)
        current = ""
      } else {
        current.append(c)
      }
    }
    fields.append(current)
    return fields
  }
}

/// A pflag-compatible parser over a fixed set of flags.
struct FlagParser {
  var specs: [FlagSpec]
  /// pflag's normalize function (rolling-update maps `ig` to `instance-group`).
  var normalize: [String: String] = [:]

  /// Parses `args`; returns the flags and the positional arguments.
  func parse(_ args: [String]) throws(KopsError) -> (ParsedFlags, [String]) {
    var byName: [String: FlagSpec] = [:]
    var byShort: [Character: FlagSpec] = [:]
    for s in specs {
      byName[s.name] = s
      if let c = s.short { byShort[c] = s }
    }
    var parsed = ParsedFlags(specs: byName)
    var positional: [String] = []
    var i = 0
    while i < args.count {
      let arg = args[i]
      i += 1
      if arg == "--" {
        positional.append(contentsOf: args[i...])
        break
      }
      if arg.hasPrefix("--") {
        var body = String(arg.dropFirst(2))
        if body.hasPrefix("-") || body.hasPrefix("=") {
          throw KopsError("bad flag syntax: \(arg)", showUsage: true)
        }
        var value: String? = nil
        if let eq = body.firstIndex(of: "=") {
          value = String(body[body.index(after: eq)...])
          body = String(body[..<eq])
        }
        let name = normalize[body] ?? body
        guard let spec = byName[name] else {
          throw KopsError("unknown flag: --\(body)", showUsage: true)
        }
        if value == nil {
          if let noOpt = spec.noOptDefault {
            value = noOpt
          } else if i < args.count {
            value = args[i]
            i += 1
          } else {
            throw KopsError("flag needs an argument: --\(body)", showUsage: true)
          }
        }
        try set(spec, value ?? "", into: &parsed)
        continue
      }
      if arg.hasPrefix("-") && arg.count > 1 {
        var chars = Substring(arg.dropFirst())
        while let c = chars.first {
          chars = chars.dropFirst()
          guard let spec = byShort[c] else {
            throw KopsError("unknown shorthand flag: '\(c)' in \(arg)", showUsage: true)
          }
          var value: String
          if chars.first == "=" {
            value = String(chars.dropFirst())
            chars = ""
          } else if let noOpt = spec.noOptDefault {
            value = noOpt
          } else if !chars.isEmpty {
            value = String(chars)
            chars = ""
          } else if i < args.count {
            value = args[i]
            i += 1
          } else {
            throw KopsError("flag needs an argument: '\(c)' in \(arg)", showUsage: true)
          }
          try set(spec, value, into: &parsed)
        }
        continue
      }
      positional.append(arg)
    }
    return (parsed, positional)
  }

  private func set(_ spec: FlagSpec, _ value: String, into parsed: inout ParsedFlags) throws(KopsError) {
    func invalid(_ reason: String) -> KopsError {
      KopsError("invalid argument \(goQuote(value)) for \(goQuote(spec.errorName)) flag: \(reason)", showUsage: true)
    }
    switch spec.kind {
    case .bool:
      guard GoParse.bool(value) != nil else {
        throw invalid("strconv.ParseBool: parsing \(goQuote(value)): invalid syntax")
      }
    case .duration:
      guard GoDuration.parse(value) != nil else {
        throw invalid("time: invalid duration \(goQuote(value))")
      }
    case .int, .level:
      guard Int(value) != nil else {
        throw invalid("strconv.ParseInt: parsing \(goQuote(value)): invalid syntax")
      }
    case .string, .stringSlice:
      break
    }
    parsed.values[spec.name, default: []].append(value)
  }
}
