import Foundation
import Model
import Testing

@Suite struct KopsVersionTests {
  @Test(arguments: [
    ("1.28.4", "1.28.4"), ("v1.28.4", "1.28.4"), ("1.28", "1.28.0"), ("1.28.0-beta.1", "1.28.0"), (" 1.30.1 ", "1.30.1"),
    ("1.26.0+abc", "1.26.0"), ("10.0.3", "10.0.3"),
  ])
  func parses(text: String, expected: String) throws {
    #expect(try #require(KopsVersion(text)).description == expected)
  }

  @Test(arguments: ["", "1", "1.x", "latest", "1.28.4.1", "-1.2", "1..2", "v", "1.28.x"])
  func refuses(text: String) {
    #expect(KopsVersion(text) == nil)
  }

  @Test func ordering() throws {
    let v = try #require(KopsVersion("1.28.4"))
    #expect(v < KopsVersion(1, 29))
    #expect(v > KopsVersion(1, 28, 3))
    #expect(KopsVersion(1, 9) < KopsVersion(1, 10))
    #expect(v.atLeast(1, 28))
    #expect(!v.atLeast(1, 29))
    #expect(v.sameMinor(KopsVersion(1, 28, 0)))
    #expect(!v.sameMinor(KopsVersion(1, 27, 4)))
    #expect(v.majorMinor == "1.28")
  }

  @Test func codable() throws {
    let data = try JSONEncoder().encode([KopsVersion(1, 28, 4)])
    #expect(String(decoding: data, as: UTF8.self) == "[\"1.28.4\"]")
    #expect(try JSONDecoder().decode([KopsVersion].self, from: data) == [KopsVersion(1, 28, 4)])
    #expect(throws: DecodingError.self) { try JSONDecoder().decode([KopsVersion].self, from: Data("[\"x\"]".utf8)) }
  }
}
