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
    var text = text
    guard let (address, prefix) = text.withUTF8({ Self.parse($0) }) else { return nil }
    self.prefix = prefix
    self.network = address & Self.mask(prefix)
  }

  /// The address and prefix of `a.b.c.d/n` on its bytes: each number 1–3 decimal digits
  /// without a leading zero, octets at most 255, the prefix at most 32.
  private static func parse(_ b: UnsafeBufferPointer<UInt8>) -> (UInt32, Int)? {
    var address: UInt32 = 0
    var fields = 0
    var value = 0
    var digits = 0
    var leadingZero = false
    func close(max: Int) -> Bool {
      guard digits > 0, !(digits > 1 && leadingZero), value <= max else { return false }
      return true
    }
    for c in b {
      switch c {
      case 0x30...0x39:
        guard digits < 3 else { return nil }
        if digits == 0 { leadingZero = c == 0x30 }
        value = value * 10 + Int(c - 0x30)
        digits += 1
      case 0x2E where fields < 3, 0x2F where fields == 3:
        guard close(max: 255) else { return nil }
        address = address << 8 | UInt32(value)
        fields += 1
        value = 0
        digits = 0
      default: return nil
      }
    }
    guard fields == 4, close(max: 32) else { return nil }
    return (address, value)
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
