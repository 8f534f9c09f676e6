/// A kops release `major.minor.patch` (pre-release suffixes ignored for rule selection).
public struct KopsVersion: Sendable, Hashable, Comparable, CustomStringConvertible, Codable {
  public var major: Int
  public var minor: Int
  public var patch: Int

  public init(_ major: Int, _ minor: Int, _ patch: Int = 0) {
    self.major = major
    self.minor = minor
    self.patch = patch
  }

  /// Parses `1.28.4`, `v1.28.4`, `1.28`, `1.28.0-beta.1`; nil when not a version.
  public init?(_ text: String) {
    var t = Substring(text.trimmingSpaces())
    if t.first == "v" { t = t.dropFirst() }
    if let dash = t.firstIndex(where: { $0 == "-" || $0 == "+" }) { t = t[..<dash] }
    let parts = t.split(separator: ".", omittingEmptySubsequences: false)
    guard (2...3).contains(parts.count), let ma = Int(parts[0]), let mi = Int(parts[1]), ma >= 0, mi >= 0 else {
      return nil
    }
    var pa = 0
    if parts.count == 3 {
      guard let p = Int(parts[2]), p >= 0 else { return nil }
      pa = p
    }
    self.init(ma, mi, pa)
  }

  public static func < (a: KopsVersion, b: KopsVersion) -> Bool {
    (a.major, a.minor, a.patch) < (b.major, b.minor, b.patch)
  }

  /// Whether this version is at least `major.minor`.
  public func atLeast(_ major: Int, _ minor: Int) -> Bool { self >= KopsVersion(major, minor) }

  /// Same major and minor (what hk requires between `kopsVersion` and the kops binary).
  public func sameMinor(_ other: KopsVersion) -> Bool { major == other.major && minor == other.minor }

  public var description: String { "\(major).\(minor).\(patch)" }
  public var majorMinor: String { "\(major).\(minor)" }

  public init(from decoder: any Decoder) throws {
    let s = try decoder.singleValueContainer().decode(String.self)
    guard let v = KopsVersion(s) else {
      throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a version: \(s)"))
    }
    self = v
  }
  public func encode(to encoder: any Encoder) throws {
    var c = encoder.singleValueContainer()
    try c.encode(description)
  }
}

extension String {
  /// The string without leading and trailing spaces, tabs and newlines.
  public func trimmingSpaces() -> String {
    var s = Substring(self)
    while let f = s.first, f == " " || f == "\t" || f == "\n" || f == "\r" { s = s.dropFirst() }
    while let l = s.last, l == " " || l == "\t" || l == "\n" || l == "\r" { s = s.dropLast() }
    return String(s)
  }
}
