import Config
import Model
import Planner
import Testing

/// `RecordedObjects.parse(_:desired:)` takes a recorded object that matches a desired one
/// without parsing it: the objects must be the parse's node for node (text, tag, value, key
/// order; marks and the quoting of equal values aside), whatever the revision holds.
@Suite struct RecordedObjectsTests {
  static func same(_ a: YAMLNode?, _ b: YAMLNode?) -> Bool {
    guard let a, let b else { return a == nil && b == nil }
    switch (a.content, b.content) {
    case (.scalar(let x), .scalar(let y)):
      return x.text == y.text && x.tag == y.tag && x.value == y.value
    case (.sequence(let x), .sequence(let y)):
      return x.count == y.count && zip(x, y).allSatisfy { same($0, $1) }
    case (.mapping(let x), .mapping(let y)):
      return x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && same($0.value, $1.value) }
    default:
      return false
    }
  }

  static func state(_ env: Environment, cluster: YAMLNode?, igs: [YAMLNode]) -> RecordedState {
    var s = recorded(env)
    s.draft.clusterYAML = cluster.map { YAMLEmitter.emit($0) } ?? ""
    s.draft.instanceGroupsYAML = igs.map { YAMLEmitter.emit($0) }
    return s
  }

  @Test(arguments: ["dev", "staging", "prod"])
  func objectsAreTheParse(name: String) throws {
    let env = try sample(name)
    var older = env
    older.setCluster("spec.kubernetesVersion", .string("1.20.0"))
    var otherMachine = env
    if let ig = env.instanceGroupViews.last?.name { otherMachine.setIG(ig, "spec.machineType", .string("m5.24xlarge")) }
    let quoted = YAMLNode(.scalar(YAMLScalar("plain-safe", style: .doubleQuoted)))
    var requoted = env
    requoted.setCluster("spec.cloudLabels.quoted", quoted)
    let states: [(String, RecordedState)] = [
      ("as desired", recorded(env)),
      ("older cluster", recorded(older)),
      ("one group on another machine", recorded(otherMachine)),
      ("groups reversed", Self.state(env, cluster: env.cluster, igs: env.instanceGroups.reversed())),
      ("a group more", Self.state(env, cluster: env.cluster, igs: env.instanceGroups + otherMachine.instanceGroups.suffix(1))),
      ("a group less", Self.state(env, cluster: env.cluster, igs: Array(env.instanceGroups.dropFirst()))),
      ("a group twice", Self.state(env, cluster: env.cluster, igs: env.instanceGroups + env.instanceGroups.prefix(1))),
      ("desired quoted, recorded plain", recorded(requoted)),
    ]
    for (what, state) in states {
      for desired in [env, requoted] {
        let fast = try RecordedObjects.parse(state, desired: desired)
        let slow = try RecordedObjects.parse(state)
        #expect(Self.same(fast.cluster, slow.cluster), "\(name): \(what)")
        #expect(fast.instanceGroups.count == slow.instanceGroups.count, "\(name): \(what)")
        for (f, s) in zip(fast.instanceGroups, slow.instanceGroups) { #expect(Self.same(f, s), "\(name): \(what)") }
      }
    }
    // The shortcut is taken: a matched object is the desired tree itself (its marks are the
    // files'), and the quoting of an equal value does not stop it.
    let matched = try RecordedObjects.parse(recorded(env), desired: env)
    #expect(matched.cluster?.mark.file != nil && matched.cluster?.mark.file.hasPrefix("state:") == false)
    #expect(matched.instanceGroups.allSatisfy { !$0.mark.file.hasPrefix("state:") })
    let relaxed = try RecordedObjects.parse(recorded(requoted), desired: requoted)
    #expect(relaxed.cluster?.mark.file.hasPrefix("state:") == false)
    // A value edited since the apply: the desired tree with the recorded value put in.
    let changed = try RecordedObjects.parse(recorded(older), desired: env)
    #expect(changed.cluster?.mark.file.hasPrefix("state:") == false)
    #expect(changed.cluster?[path: "spec", "kubernetesVersion"]?.text == "1.20.0")
    // Another shape (a key more): parsed.
    var moreKeys = env
    moreKeys.setCluster("spec.hkTestKey", .string("x"))
    let parsed = try RecordedObjects.parse(recorded(moreKeys), desired: env)
    #expect(parsed.cluster?.mark.file.hasPrefix("state:") == true)
    #expect(Self.same(parsed.cluster, try RecordedObjects.parse(recorded(moreKeys)).cluster))
  }

  /// A damaged revision is refused the same way with or without the desired objects.
  @Test func damageIsStillRefused() throws {
    let env = try sample("dev")
    var s = recorded(env)
    s.draft.instanceGroupsYAML.append("a: [\n")
    #expect(throws: PlanningError.self) { try RecordedObjects.parse(s, desired: env) }
    s = recorded(env)
    s.draft.clusterYAML += "---\n" + s.draft.clusterYAML
    #expect(throws: PlanningError.self) { try RecordedObjects.parse(s, desired: env) }
  }
}
