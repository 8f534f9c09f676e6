/// An IPv4 network in CIDR notation (`10.0.0.0/16`), parsed as strictly as Go's `net.ParseCIDR`.
///
/// hk parses CIDRs itself so that `subnet-cidr-outside` does not depend on the platform's
/// networking headers. IPv6 CIDRs are not handled: ``init(_:)`` returns nil for them.
struct IPv4CIDR: Hashable, Sendable, CustomStringConvertible {
  /// The address with the host bits cleared.
  var network: UInt32
  /// The prefix length, 0…32.
  var prefix: Int

  /// Parses `a.b.c.d/n`: four decimal octets without leading zeros, a prefix of 0…32.
  init?(_ text: String) {
    let parts = text.split(separator: "/", omittingEmptySubsequences: false)
    guard parts.count == 2, let prefix = Self.decimal(parts[1], max: 32) else { return nil }
    let octets = parts[0].split(separator: ".", omittingEmptySubsequences: false)
    guard octets.count == 4 else { return nil }
    var address: UInt32 = 0
    for o in octets {
      guard let v = Self.decimal(o, max: 255) else { return nil }
      address = address << 8 | UInt32(v)
    }
    self.prefix = prefix
    self.network = address & Self.mask(prefix)
  }

  /// A decimal number without sign or leading zeros, at most `max`.
  private static func decimal(_ s: Substring, max: Int) -> Int? {
    guard !s.isEmpty, s.count <= 3, s.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
    if s.count > 1 && s.first == "0" { return nil }
    guard let v = Int(s), v <= max else { return nil }
    return v
  }

  static func mask(_ prefix: Int) -> UInt32 {
    prefix == 0 ? 0 : UInt32.max << UInt32(32 - prefix)
  }

  /// Whether `other` lies entirely inside this network.
  func contains(_ other: IPv4CIDR) -> Bool {
    other.prefix >= prefix && other.network & Self.mask(prefix) == network
  }

  var description: String {
    let b = [24, 16, 8, 0].map { String(network >> UInt32($0) & 0xFF) }
    return b.joined(separator: ".") + "/\(prefix)"
  }
}
