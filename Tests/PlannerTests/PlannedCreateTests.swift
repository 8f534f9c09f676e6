import Model
import Testing

@testable import Planner

/// Created objects' values, redacted as the plan makes them (`Redaction.plannedJSON`, the
/// shared base's subtrees remembered for the run), against their JSON redacted afterwards as
/// before: the samples (all on one base), planned again and again, with and without contents.
@Suite struct PlannedCreateTests {
  static func reference(_ node: YAMLNode, path: String, showContent: Bool) -> [UInt8] {
    let json = node.json
    let v = showContent ? Redaction.redact(json) : Redaction.redact(json, concealingContentAt: path)
    return Array(v.serialized().utf8)
  }

  @Test(arguments: ["dev", "staging", "prod"])
  func samples(_ name: String) throws {
    var env = try sample(name)
    // A secret and a content in the environment's own part as well as the base's.
    env.setCluster("spec.fileAssets", try yaml("- name: a\n  content: \"export TOKEN=x\\n\"\n"))
    env.setCluster("spec.kubeAPIServer.serviceAccountKeyPassword", .string("hunter2"))
    let igs = env.instanceGroups
    for showContent in [false, true] {
      // Twice and more: later plans take the base's subtrees from the memo.
      var first: EnvironmentPlan? = nil
      for _ in 0..<3 {
        let plan = try PlanBuilder.plan(env, recorded: nil, showContent: showContent)
        let creates = plan.changes.filter { $0.action == .create && $0.after != nil }
        #expect(creates.count == 1 + igs.count)
        for c in creates {
          let node: YAMLNode
          if case .instanceGroup(let n) = c.object {
            node = try #require(igs.first { InstanceGroupView($0).name == n })
          } else {
            node = env.cluster
          }
          let after = try #require(c.after)
          #expect(Array(after.serialized().utf8) == Self.reference(node, path: c.path, showContent: showContent), "\(c.path)")
        }
        if let first { #expect(plan == first) }
        first = plan
      }
      // A group added since the last apply is created the same way.
      var old = env
      old.instanceGroups.removeLast()
      let plan = try PlanBuilder.plan(env, recorded: recorded(old), showContent: showContent)
      let created = try #require(plan.changes.first { $0.action == .create && $0.category == .instancegroup })
      let node = try #require(igs.last)
      #expect(Array((created.after ?? .null).serialized().utf8) == Self.reference(node, path: created.path, showContent: showContent))
    }
  }
}
