import Model
import Testing

/// The one edit distance behind every "did you mean" hint (settings keys, kops fields, commands).
@Suite struct EditDistanceTests {
  @Test(arguments: [
    ("", "", 0), ("", "abc", 3), ("abc", "", 3), ("plan", "plan", 0), ("plna", "plan", 2), ("aply", "apply", 1),
    ("kitten", "sitting", 3), ("egressProxy", "egresProxy", 1), ("flannel", "canal", 4),
  ])
  func distance(a: String, b: String, expected: Int) {
    #expect(EditDistance.between(a, b) == expected)
    #expect(EditDistance.between(b, a) == expected)
  }

  @Test func stopsPastTheLimit() {
    // Past `limit` the answer is limit + 1, however far the strings really are.
    #expect(EditDistance.between("abcdefgh", "zyxwvuts", limit: 2) == 3)
    #expect(EditDistance.between("a", "abcdefgh", limit: 3) == 4)
    #expect(EditDistance.between("abc", "abd", limit: 1) == 1)
  }

  @Test func closestIsNearestThenSmallest() {
    #expect(EditDistance.closest(to: "plna", in: ["plan", "apply", "drift"], maxDistance: 2) == "plan")
    #expect(EditDistance.closest(to: "zzzz", in: ["plan", "apply"], maxDistance: 2) == nil)
    // A tie goes to the smaller name, whatever the order of the candidates (a Set's varies).
    #expect(EditDistance.closest(to: "cat", in: ["hat", "bat"], maxDistance: 1) == "bat")
    #expect(EditDistance.closest(to: "cat", in: ["bat", "hat"], maxDistance: 1) == "bat")
    #expect(EditDistance.closest(to: "KopsVersion", in: ["kopsVersion"], maxDistance: 0, ignoringCase: true) == "kopsVersion")
    #expect(EditDistance.closest(to: "KopsVersion", in: ["kopsVersion"], maxDistance: 0) == nil)
  }
}
