import Model
import Testing

/// FIPS 180-2 / NIST example vectors.
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
  }
}
