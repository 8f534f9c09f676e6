import Foundation

/// What `--state-db LOCATION` / `HK_STATE_DB` names (DESIGN.md §8), parsed by its form.
///
/// | LOCATION | backend |
/// |---|---|
/// | `PATH`, `sqlite:PATH` | an SQLite file |
/// | `postgres://…`, `postgresql://…` | PostgreSQL through libpq (the URL is libpq's conninfo) |
/// | `s3://BUCKET/KEY[?region=R&profile=P]` | one S3 object through the aws CLI (``S3Location``) |
public enum StoreLocation: Sendable, Hashable {
  /// An SQLite file at this path.
  case sqlite(path: String)
  /// A PostgreSQL database; `conninfo` is the LOCATION as given, for libpq.
  case postgres(conninfo: String)
  /// An S3 object holding the SQLite database, and its lease object beside it.
  case s3(S3Location)

  /// Parses LOCATION; an unknown scheme, a malformed S3 URL, or a URL with white space is refused.
  ///
  /// - Throws: ``StoreError/unsupportedLocation(location:reason:)`` (the location redacted).
  public static func parse(_ text: String) throws -> StoreLocation {
    let shown = redact(text)
    if text.isEmpty {
      throw StoreError.unsupportedLocation(location: shown, reason: "is empty; pass a file path, a postgres:// URL or an s3:// URL")
    }
    if text.first?.isWhitespace == true || text.last?.isWhitespace == true {
      throw StoreError.unsupportedLocation(
        location: shown, reason: "starts or ends with white space; remove it (quote the whole value in the shell)")
    }
    let lower = text.lowercased()
    if lower.hasPrefix("sqlite:") {
      let path = String(text.dropFirst("sqlite:".count))
      guard !path.isEmpty else {
        throw StoreError.unsupportedLocation(location: shown, reason: "names no file; write sqlite:PATH")
      }
      return .sqlite(path: path)
    }
    if lower.hasPrefix("postgres://") || lower.hasPrefix("postgresql://") {
      if text.contains(where: \.isWhitespace) {
        throw StoreError.unsupportedLocation(
          location: shown, reason: "contains white space, which a URL cannot; percent-encode it (a space is %20)")
      }
      return .postgres(conninfo: text)
    }
    if lower.hasPrefix("s3://") { return .s3(try S3Location.parse(text)) }
    if let scheme = urlScheme(text) {
      throw StoreError.unsupportedLocation(
        location: shown,
        reason: "has the unknown scheme '\(scheme)://'; use a file path, sqlite:PATH, postgres://USER@HOST/DB or s3://BUCKET/KEY")
    }
    return .sqlite(path: text)
  }

  /// The location as it may be printed: the password of a URL and `password=` parameters are `***`.
  public var display: String {
    switch self {
    case .sqlite(let path): return path
    case .postgres(let conninfo): return Self.redact(conninfo)
    case .s3(let location): return location.display
    }
  }

  /// Whether this is a shared team backend (as opposed to a file on this machine).
  public var isRemote: Bool {
    switch self {
    case .postgres, .s3: return true
    case .sqlite: return false
    }
  }

  /// `text` with its secrets replaced by `***`: the password of `scheme://user:password@host`,
  /// and the values of `password=` / `sslpassword=` parameters.
  public static func redact(_ text: String) -> String {
    var ranges: [Range<String.Index>] = []
    if let schemeEnd = text.range(of: "://") {
      let rest = text[schemeEnd.upperBound...]
      let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
      let authority = rest[..<authorityEnd]
      if let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":"), authority.index(after: colon) < at {
        ranges.append(authority.index(after: colon)..<at)
      }
    }
    var searchStart = text.startIndex
    while let range = text.range(of: "password=", options: .caseInsensitive, range: searchStart..<text.endIndex) {
      let valueEnd = text[range.upperBound...].firstIndex { $0 == "&" || $0 == "#" || $0 == " " } ?? text.endIndex
      if range.upperBound < valueEnd { ranges.append(range.upperBound..<valueEnd) }
      searchStart = valueEnd
    }
    var out = text
    for range in ranges.sorted(by: { $0.lowerBound > $1.lowerBound }) {
      out.replaceSubrange(range, with: "***")
    }
    return out
  }

  /// Removes every secret of `location` from `message` (libpq errors may echo a part of it).
  public static func scrub(_ message: String, location: String) -> String {
    var out = message
    for secret in secrets(in: location) where secret.count >= 1 {
      out = out.replacingOccurrences(of: secret, with: "***")
      if let decoded = secret.removingPercentEncoding, decoded != secret, !decoded.isEmpty {
        out = out.replacingOccurrences(of: decoded, with: "***")
      }
    }
    return out
  }

  /// The secret substrings of a URL: its userinfo password and password parameters.
  static func secrets(in text: String) -> [String] {
    var found: [String] = []
    if let schemeEnd = text.range(of: "://") {
      let rest = text[schemeEnd.upperBound...]
      let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
      let authority = rest[..<authorityEnd]
      if let at = authority.lastIndex(of: "@") {
        let userinfo = authority[..<at]
        if let colon = userinfo.firstIndex(of: ":") {
          let password = String(userinfo[userinfo.index(after: colon)...])
          if !password.isEmpty { found.append(password) }
        }
      }
    }
    var searchStart = text.startIndex
    while let range = text.range(of: "password=", options: .caseInsensitive, range: searchStart..<text.endIndex) {
      let valueEnd = text[range.upperBound...].firstIndex { $0 == "&" || $0 == "#" || $0 == " " } ?? text.endIndex
      let value = String(text[range.upperBound..<valueEnd])
      if !value.isEmpty { found.append(value) }
      searchStart = valueEnd
    }
    return found.sorted { $0.count > $1.count }
  }

  private static func urlScheme(_ text: String) -> String? {
    guard let range = text.range(of: "://") else { return nil }
    let scheme = text[..<range.lowerBound]
    guard let first = scheme.first, first.isLetter,
      scheme.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "+" || $0 == "-" || $0 == "." })
    else { return nil }
    return String(scheme)
  }
}

extension StoreLocation {
  /// `text` (a command line, a message) with the password of every URL in it and every
  /// `password=` value replaced by `***`.
  public static func redactURLs(in text: String) -> String {
    var out = text
    let patterns = [
      (#"([A-Za-z][A-Za-z0-9+.\-]*://[^:/@\s]*):([^@\s/]+)@"#, "$1:***@"),
      (#"((?:ssl)?password=)[^&\s#]+"#, "$1***"),
    ]
    for (pattern, template) in patterns {
      guard let regex = try? NSRegularExpression(pattern: pattern, options: [.caseInsensitive]) else { continue }
      out = regex.stringByReplacingMatches(
        in: out, range: NSRange(out.startIndex..., in: out), withTemplate: template)
    }
    return out
  }
}
