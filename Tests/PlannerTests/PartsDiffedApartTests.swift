import HKTestSupport
import Model
import Testing

@testable import Planner

/// The cluster without `spec.additionalPolicies` and `spec.docker.logOpt`, made in one pass over
/// `spec`, against the `remove` and `set` it replaced: the same keys in the same order, the same
/// marks and values, on generated clusters (repeated keys too, which no parse makes).
@Suite struct PartsDiffedApartTests {
  static func reference(_ cluster: YAMLNode) -> YAMLNode {
    guard var spec = cluster["spec"] else { return cluster }
    let docker = spec["docker"]
    guard spec["additionalPolicies"] != nil || docker?["logOpt"] != nil else { return cluster }
    spec.remove("additionalPolicies")
    if var docker {
      docker.remove("logOpt")
      spec.set("docker", docker)
    }
    var out = cluster
    out.set("spec", spec)
    return out
  }

  /// Equal node for node: content, key order, keys' and nodes' marks, scalars' text and style.
  static func same(_ a: YAMLNode, _ b: YAMLNode) -> Bool {
    guard a.mark == b.mark else { return false }
    switch (a.content, b.content) {
    case (.scalar(let x), .scalar(let y)): return x.text == y.text && x.style == y.style
    case (.sequence(let x), .sequence(let y)): return x.count == y.count && zip(x, y).allSatisfy { same($0, $1) }
    case (.mapping(let x), .mapping(let y)):
      return x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.keyMark == $1.keyMark && same($0.value, $1.value) }
    default: return false
    }
  }

  @Test func generatedClusters() {
    var g = SplitMix64(seed: 0xD0C_4E7)
    var line = 0
    func mark() -> Mark {
      line += 1
      return Mark(file: "c.yaml", line: line, column: 1)
    }
    func scalar() -> YAMLNode { .string(g.pick(["a", "b=c", "awslogs-region=x"]), mark: mark()) }
    func pair(_ keys: [String], depth: Int) -> YAMLPair {
      let key = g.pick(keys)
      let value: YAMLNode
      switch depth > 0 ? g.below(4) : 0 {
      case 0: value = scalar()
      case 1: value = .sequence((0..<g.below(3)).map { _ in scalar() }, mark: mark())
      default: value = .mapping((0..<g.below(4)).map { _ in pair(["logOpt", "logDriver", "x"], depth: depth - 1) }, mark: mark())
      }
      return YAMLPair(key: key, keyMark: mark(), value: value)
    }
    let specKeys = ["docker", "additionalPolicies", "api", "kubelet", "docker"]
    for _ in 0..<3000 {
      let spec: YAMLNode =
        g.below(8) == 0 ? scalar() : .mapping((0..<g.below(6)).map { _ in pair(specKeys, depth: 2) }, mark: mark())
      let cluster = YAMLNode.mapping(
        [YAMLPair(key: "kind", value: scalar()), YAMLPair(key: "spec", keyMark: mark(), value: spec)]
          + (g.below(4) == 0 ? [YAMLPair(key: "spec", value: scalar())] : []), mark: mark())
      #expect(Self.same(PlanBuilder.withoutPartsDiffedApart(cluster), Self.reference(cluster)), "\(YAMLEmitter.emit(cluster))")
    }
  }
}
