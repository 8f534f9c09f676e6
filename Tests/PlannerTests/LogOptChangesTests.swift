import HKTestSupport
import Model
import Testing

@testable import Planner

/// `spec.docker.logOpt` diffed as `key=value` (its ASCII items split on bytes) against the
/// Character-based split it replaced, on generated option lists.
@Suite struct LogOptChangesTests {
  /// The former split: at the first `=` Character.
  static func reference(recorded: YAMLNode?, desired: YAMLNode?, rolls: [String]) -> [Change] {
    func map(_ n: YAMLNode?) -> [(String, String)] {
      (n?.items ?? []).compactMap(\.text).map { item in
        if let eq = item.firstIndex(of: "=") {
          return (String(item[..<eq]), String(item[item.index(after: eq)...]))
        }
        return (item, "")
      }
    }
    let before = map(recorded)
    let after = map(desired)
    var out: [Change] = []
    for (k, v) in after {
      let old = before.first { $0.0 == k }?.1
      if old == v { continue }
      out.append(
        Change(
          category: .logging, action: old == nil ? .create : .update, path: "spec.docker.logOpt[\(k)]",
          before: old.map(JSONValue.string), after: .string(v), rolls: rolls))
    }
    for (k, v) in before where !after.contains(where: { $0.0 == k }) {
      out.append(
        Change(category: .logging, action: .delete, path: "spec.docker.logOpt[\(k)]", before: .string(v), after: nil, rolls: rolls))
    }
    return out
  }

  static let pieces = [
    "awslogs-region", "=", "==", "ap-northeast-1", "max-size", "10m", "", " ", "\r\n", "\r", "\n", "é", "\u{301}", "=\u{301}", "a\u{301}",
    "x", "true", "日本",
  ]

  @Test func generatedOptions() {
    var g = SplitMix64(seed: 0x1060_0F7)
    func option() -> YAMLNode {
      switch g.below(8) {
      case 0: return .int(Int64(g.below(100)))
      case 1: return .null
      default: return .string((0..<g.below(5)).map { _ in g.pick(Self.pieces) }.joined())
      }
    }
    func list() -> YAMLNode? { g.below(6) == 0 ? nil : .sequence((0..<g.below(4)).map { _ in option() }) }
    for _ in 0..<4000 {
      let r = list()
      let d = g.below(3) == 0 ? r : list()
      #expect(PlanBuilder.logOptChanges(recorded: r, desired: d, rolls: ["a"]) == Self.reference(recorded: r, desired: d, rolls: ["a"]))
    }
  }
}
