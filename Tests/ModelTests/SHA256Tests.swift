import HKTestSupport
import Model
import Testing

/// FIPS 180-2 / NIST example vectors ("", "abc", the 448- and 896-bit messages, a million 'a'), and
/// libcrypto against the Swift implementation hk used before (``ReferenceSHA256``).
@Suite struct SHA256Tests {
  @Test(arguments: [
    ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    (
      "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
    ),
    (
      "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
      "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"
    ),
  ])
  func fipsVectors(input: String, hex: String) {
    #expect(SHA256.digest(input) == "sha256:" + hex)
  }

  @Test func millionAs() {
    var h = SHA256()
    let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 1000)
    for _ in 0..<1000 { h.update(chunk) }
    #expect(SHA256.hex(h.finalize()) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
  }

  @Test func incrementalEqualsOneShot() {
    let text = String(repeating: "hybrid vpc ", count: 37)
    var h = SHA256()
    for part in text.split(separator: " ", omittingEmptySubsequences: false) {
      h.update(String(part))
      h.update(" ")
    }
    var whole = SHA256()
    whole.update(text + " ")
    #expect(h.finalize() == whole.finalize())
  }

  @Test(arguments: [55, 56, 63, 64, 65, 119, 120])
  func paddingBoundaries(length: Int) {
    // each length hashes to a different digest, and hashing is deterministic
    let a = SHA256.digest(String(repeating: "x", count: length))
    let b = SHA256.digest(String(repeating: "x", count: length))
    let c = SHA256.digest(String(repeating: "x", count: length + 1))
    #expect(a == b)
    #expect(a != c)
    #expect(a.count == 7 + 64)
  }

  @Test func hexEncoding() {
    #expect(SHA256.hex([0x00, 0x0f, 0xf0, 0xff]) == "000ff0ff")
    #expect(SHA256.hex([]) == "")
    #expect(SHA256.hex(Array(0...255)) == ReferenceSHA256.hex(Array(0...255)))
  }

  /// The 1,000,000-'a' vector in one update, in odd-sized pieces and through the generic
  /// (non-contiguous) sequence path.
  @Test func millionAsInOtherShapes() {
    let expected = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
    #expect(SHA256.digest(bytes: [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)) == "sha256:" + expected)
    var pieces = SHA256()
    var left = 1_000_000
    var size = 1
    while left > 0 {
      let n = min(size, left)
      pieces.update([UInt8](repeating: UInt8(ascii: "a"), count: n))
      left -= n
      size = size * 7 % 9973 + 1
    }
    #expect(SHA256.hex(pieces.finalize()) == expected)
    var lazy = SHA256()
    lazy.update(repeatElement(UInt8(ascii: "a"), count: 1_000_000).lazy.map { $0 })
    #expect(SHA256.hex(lazy.finalize()) == expected)
  }

  /// A copy hashes on independently of its original (the OpenSSL context is copied on write),
  /// and a finalized value starts over empty.
  @Test func valueSemantics() {
    var a = SHA256()
    a.update("abc")
    var b = a
    b.update("def")
    #expect(SHA256.hex(a.finalize()) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    #expect("sha256:" + SHA256.hex(b.finalize()) == SHA256.digest("abcdef"))
    #expect(SHA256.hex(a.finalize()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
  }

  /// libcrypto against the portable Swift implementation hk used before, on random messages of
  /// 0...10,000 bytes (a fixed seed: a failure reproduces), one-shot and fed in random pieces
  /// through every `update` form.
  @Test func equalsTheSwiftReference() {
    var rng = SplitMix64(seed: 0x5EED_D16E_57)
    for round in 0..<400 {
      let length = round < 130 ? round : Int(rng.next() % 10_001)
      let message = (0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
      let expected = ReferenceSHA256.digest(bytes: message)
      #expect(SHA256.digest(bytes: message) == expected, "length \(length)")
      message.withUnsafeBytes { #expect(SHA256.digest(raw: $0) == expected, "length \(length)") }
      var h = SHA256()
      var i = 0
      var form = 0
      while i < message.count {
        let n = min(Int(rng.next() % 200), message.count - i)
        let piece = Array(message[i..<i + n])
        switch form % 4 {
        case 0: h.update(piece)
        case 1: piece.withUnsafeBytes { h.update($0) }
        case 2: h.update(message[i..<i + n])
        default: h.update(piece.lazy.map { $0 })
        }
        form += 1
        i += n
      }
      #expect("sha256:" + SHA256.hex(h.finalize()) == expected, "length \(length) in pieces")
    }
    // Text, through update(String) and digest(String): ASCII, multi-byte and a bridged-looking mix.
    for text in ["", "a", "ünï 日本 👉", String(repeating: "hybrid vpc ", count: 300), "line\nbreak\u{0}nul"] {
      #expect(SHA256.digest(text) == ReferenceSHA256.digest(text))
      var h = SHA256()
      h.update(text)
      var r = ReferenceSHA256()
      r.update(text)
      #expect(h.finalize() == r.finalize())
    }
  }
}
