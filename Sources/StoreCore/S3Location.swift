import Foundation

/// `s3://BUCKET/KEY[?region=R&profile=P]` (DESIGN.md §8): the recorded state as one S3 object
/// beside the kops state store, its lease in the object `KEY.lock`.
public struct S3Location: Sendable, Hashable {
  /// The bucket (S3's naming rules are the server's to enforce; hk refuses only what cannot be one).
  public var bucket: String
  /// The object key of the state database; never empty, never ending in `/`.
  public var key: String
  /// `--region` for every call, or nil for the environment's usual AWS settings.
  public var region: String?
  /// `--profile` for every call, or nil for the environment's usual AWS settings.
  public var profile: String?

  public init(bucket: String, key: String, region: String? = nil, profile: String? = nil) {
    self.bucket = bucket
    self.key = key
    self.region = region
    self.profile = profile
  }

  /// The key of the lease object.
  public var lockKey: String { key + ".lock" }

  /// `s3://BUCKET/KEY` (the query left out: it holds no secret, but is not part of the object's name).
  public var display: String { "s3://\(bucket)/\(key)" }

  /// Parses an `s3://` LOCATION.
  ///
  /// - Throws: ``StoreError/unsupportedLocation(location:reason:)``: no bucket, no key, a key
  ///   ending in `/` (a folder, not an object), an unknown or empty query parameter, white space.
  public static func parse(_ text: String) throws -> S3Location {
    func refuse(_ reason: String) -> StoreError { .unsupportedLocation(location: text, reason: reason) }
    guard text.lowercased().hasPrefix("s3://") else { throw refuse("is not an s3:// URL") }
    if text.contains(where: { $0.isWhitespace || $0.isNewline }) {
      throw refuse("contains white space, which an S3 URL cannot; write s3://BUCKET/KEY")
    }
    let rest = text.dropFirst("s3://".count)
    let (path, query) =
      rest.firstIndex(of: "?").map { (rest[..<$0], rest[rest.index(after: $0)...]) } ?? (rest, Substring(""))
    guard let slash = path.firstIndex(of: "/"), slash != path.startIndex else {
      throw refuse("names no bucket and key; write s3://BUCKET/KEY, e.g. s3://my-kops-state/hk/state.sqlite")
    }
    let bucket = String(path[..<slash])
    let key = String(path[path.index(after: slash)...])
    guard !key.isEmpty else {
      throw refuse("names no object key; write s3://\(bucket)/KEY, e.g. s3://\(bucket)/hk/state.sqlite")
    }
    guard !key.hasSuffix("/") else {
      throw refuse("ends in '/', which names a folder, not an object; name the state object, e.g. s3://\(bucket)/\(key)hk.sqlite")
    }
    if key.hasSuffix(".lock") {
      throw refuse("ends in '.lock', the suffix of hk's lease objects; name the state object, e.g. s3://\(bucket)/hk.sqlite")
    }
    var location = S3Location(bucket: bucket, key: key)
    for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
      let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
      let name = String(parts[0])
      let value = parts.count > 1 ? (String(parts[1]).removingPercentEncoding ?? String(parts[1])) : ""
      guard !value.isEmpty else { throw refuse("gives '\(name)' no value; write ?\(name)=VALUE") }
      switch name {
      case "region": location.region = value
      case "profile": location.profile = value
      default: throw refuse("has the unknown parameter '\(name)'; only region and profile are known")
      }
    }
    return location
  }
}
