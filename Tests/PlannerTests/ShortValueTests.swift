import Config
import Model
import Planner
import Testing

/// The one-line values of the text plan (updates; creates and deletes show YAML): the renderer
/// serializes only the start of a large value, and must show exactly what cutting the whole
/// serialization at 160 characters shows.
@Suite struct ShortValueTests {
  /// What `short` showed before it stopped early: the whole compact JSON, cut.
  static func cutWhole(_ v: JSONValue) -> String {
    let s = v.serialized()
    return s.count > 160 ? String(s.prefix(157)) + "…" : s
  }

  static func renderedUpdate(_ v: JSONValue) -> String {
    let change = Change(category: .spec, action: .update, path: "x", before: .int(0), after: v)
    let env = EnvironmentPlan(name: "e", cluster: "e.k8s.local", prior: nil, desiredDigest: "sha256:0", changes: [change], steps: [])
    return PlanRenderer().text(Plan(environments: [env]))
  }

  static var values: [JSONValue] {
    get throws {
      let dev = try sample("dev")
      let emoji = String(repeating: "👩‍👩‍👧‍👦", count: 400)
      let combining = "e" + String(repeating: "\u{301}", count: 3000)
      var wide: [JSONValue.Member] = []
      for i in 0..<300 { wide.append(JSONValue.Member("k\(i)", .array([.int(Int64(i)), .string("ü\(i)"), .null, .bool(i % 2 == 0)]))) }
      return [
        dev.cluster.json, .object([]), .array([]), .string("short"), .int(42),
        .object([JSONValue.Member("a", .array([])), JSONValue.Member("b", .object([]))]),
        .object(wide), .array((0..<2000).map { .int(Int64($0)) }),
        .array([.string(emoji), .string("tail")]), .object([JSONValue.Member(emoji, .string(combining))]),
        .array([.string(combining), .string(combining)]),
        .object([JSONValue.Member("quote\"and\\slash\n", .string(String(repeating: "\u{1}\t", count: 500)))]),
        // Multi-byte text: the first, ASCII-sized prefix is too short; the second is enough
        // (three-byte characters) or exactly at the edge (four-byte ones).
        .array((0..<300).map { .string("日本\($0)") }), .array((0..<300).map { .string("𝄞\($0)") }),
        .array([.string(String(repeating: "𝄞", count: 400))]), .array([.string(String(repeating: "ü", count: 90)), .int(1), .int(2)]),
      ]
    }
  }

  @Test func largeAndOddValuesShowTheSameAsCuttingTheWholeSerialization() throws {
    for v in try Self.values {
      let line = "    ~ x: 0 → " + Self.cutWhole(v) + "\n"
      let text = Self.renderedUpdate(v)
      #expect(text.contains(line), "for \(Self.cutWhole(v).prefix(60))")
    }
  }

  @Test func aClusterValueIsCutAt157CharactersWithAnEllipsis() throws {
    let cluster = try sample("dev").cluster.json
    let text = Self.renderedUpdate(cluster)
    let line = try #require(text.split(separator: "\n").first { $0.contains("~ x: 0 → ") })
    let shown = line.split(separator: "→", maxSplits: 1)[1].dropFirst()
    #expect(shown.count == 158)
    #expect(shown.hasSuffix("…"))
    #expect(cluster.serialized().hasPrefix(String(shown.dropLast())))
  }
}
