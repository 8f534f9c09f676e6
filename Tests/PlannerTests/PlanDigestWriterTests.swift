import HKTestSupport
import Model
import Testing

@testable import Planner

/// `plan_digest`'s canonical JSON written straight from the plan (``PlanJSON/writeCanonical(_:to:)``)
/// against the covered members of the plan's JSON entry (``PlanDigest/canonical(_:)-(EnvironmentPlan)``),
/// byte for byte, on generated environments that use every member and step field.
@Suite struct PlanDigestWriterTests {
  static func environment(_ g: inout TrickyValues.Generator, index: Int) -> EnvironmentPlan {
    var e = PlanRendererDifferentialTests.environment(&g, index: index)
    let objects: [ObjectAddress?] = [nil, .cluster, .instanceGroup(g.string()), .internetGateway("igw-1"), .settings]
    e.steps = e.steps.map { s in
      var s = s
      s.object = objects[g.below(objects.count)]
      if g.below(2) == 0 { s.instanceGroups = (0..<(1 + g.below(3))).map { _ in g.string() } }
      if g.below(4) == 0 { s.command.append("AWS_SECRET_ACCESS_KEY=abc123") }
      return s
    }
    if g.below(3) == 0 { e.kopsEnvironment[g.string()] = g.string() }
    if g.below(5) == 0 { e.desiredDigest = g.string() }
    return e
  }

  @Test func writtenEqualsTheEntrysCoveredMembers() {
    var g = TrickyValues.Generator(seed: 0xD16E57)
    var withObject = 0
    var withGroups = 0
    for i in 0..<600 {
      let e = Self.environment(&g, index: i)
      withObject += e.steps.filter { $0.object?.stepObject != nil }.count
      withGroups += e.steps.filter { !$0.instanceGroups.isEmpty }.count
      let expected = PlanDigest.canonical(e).compactUTF8()
      for chunk in [16_384, 1, 7] {
        #expect(CompactJSONWriter.bytes(chunkSize: chunk) { PlanJSON.writeCanonical(e, to: &$0) } == expected, "\(e)")
      }
      #expect(PlanDigest.environmentDigest(e) == PlanDigest.canonical(e).compactSHA256())
    }
    #expect(withObject > 50 && withGroups > 50)
  }

  /// ``PlanRenderer/textUTF8AndDigest(_:)`` (the steps' commands redacted once for both) gives
  /// ``PlanRenderer/textUTF8(_:)`` and ``PlanDigest/environmentDigest(_:)``, in colour or not.
  @Test func textAndDigestTogetherEqualApart() {
    var g = TrickyValues.Generator(seed: 0x5EC7)
    for i in 0..<400 {
      let e = Self.environment(&g, index: i)
      for renderer in [PlanRenderer(color: false), PlanRenderer(color: true)] {
        let both = renderer.textUTF8AndDigest(e)
        #expect(both.text == renderer.textUTF8(e), "\(e)")
        #expect(both.digest == PlanDigest.environmentDigest(e), "\(e)")
      }
    }
  }

  /// The covered keys are the members the writer spells, in its order.
  @Test func coveredKeysInOrder() throws {
    var g = TrickyValues.Generator(seed: 7)
    let e = Self.environment(&g, index: 1)
    let written = CompactJSONWriter.bytes { PlanJSON.writeCanonical(e, to: &$0) }
    let parsed = try JSONValue.parse(String(decoding: written, as: UTF8.self))
    #expect(parsed.members?.map(\.key) == PlanDigest.coveredKeys)
  }
}
