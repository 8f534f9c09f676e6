import Config
import Foundation
import Model
import Planner
import Testing

/// Ignore rules, new-since-last marking and the status precedence of drift entries.
extension DriftTests {
  // MARK: Ignore rules

  static let items = [
    item("spec.kubernetesVersion", .string("1.28.9"), .string("1.28.10")),
    item("spec.subnets[name=private-a].cidr", .string("10.0.0.0/19"), .string("10.0.0.0/20")),
    item("instancegroup[nodes-a].spec.maxSize", .int(4), .int(6)),
    item("instancegroup[nodes-b].spec.maxSize", .int(4), .int(5)),
    item("spec.kubelet.containerLogMaxFiles", .int(5), .int(7)),
  ]

  @Test func ignoreRuleMatchingExactPathMovesTheFieldToIgnored() {
    let rule = IgnoreRule(path: "spec.kubernetesVersion", reason: "patched out of band", until: "2027-01-31")
    let f = DriftEvaluator.applyIgnoreRules(Self.items, rules: [rule], today: "2026-06-01")
    #expect(!f.drift.map(\.path).contains("spec.kubernetesVersion"))
    #expect(f.drift.count == Self.items.count - 1)
    #expect(
      f.ignored == [
        IgnoredField(
          path: "spec.kubernetesVersion", rule: "spec.kubernetesVersion", reason: "patched out of band", until: "2027-01-31",
          expired: false, recorded: .string("1.28.9"), live: .string("1.28.10"))
      ])
    #expect(f.notes.isEmpty)
  }

  @Test func ignoreRuleWithNameWildcardAndStar() {
    let rules = [
      IgnoreRule(path: "spec.subnets[name=*].cidr", reason: "network team"),
      IgnoreRule(path: "instancegroup[*].spec.maxSize", reason: "autoscaler"),
    ]
    let f = DriftEvaluator.applyIgnoreRules(Self.items, rules: rules, today: "2026-06-01")
    #expect(f.drift.map(\.path) == ["spec.kubernetesVersion", "spec.kubelet.containerLogMaxFiles"])
    #expect(
      f.ignored.map(\.path).sorted() == [
        "instancegroup[nodes-a].spec.maxSize", "instancegroup[nodes-b].spec.maxSize", "spec.subnets[name=private-a].cidr",
      ])
    #expect(f.ignored.allSatisfy { !$0.expired })
  }

  @Test func ignoreRuleCoversChildrenAndGlobsInASegment() {
    let rules = [IgnoreRule(path: "spec.kubelet", reason: "kubelet tuning"), IgnoreRule(path: "instancegroup[nodes-*]", reason: "x")]
    let f = DriftEvaluator.applyIgnoreRules(Self.items, rules: rules, today: "2026-06-01")
    #expect(f.drift.map(\.path) == ["spec.kubernetesVersion", "spec.subnets[name=private-a].cidr"])
  }

  @Test func expiredRuleNoLongerIgnoresAndIsReported() {
    let rule = IgnoreRule(path: "spec.kubernetesVersion", reason: "upgrade window", until: "2026-05-31")
    let f = DriftEvaluator.applyIgnoreRules(Self.items, rules: [rule], today: "2026-06-01")
    #expect(f.drift.map(\.path).contains("spec.kubernetesVersion"))
    #expect(f.drift.count == Self.items.count)
    #expect(f.ignored.count == 1)
    #expect(f.ignored.first?.expired == true)
    #expect(f.ignored.first?.until == "2026-05-31")
  }

  @Test func ruleIsStillActiveOnItsLastDay() {
    let rule = IgnoreRule(path: "spec.kubernetesVersion", reason: "upgrade window", until: "2026-06-01")
    let f = DriftEvaluator.applyIgnoreRules(Self.items, rules: [rule], today: "2026-06-01")
    #expect(!f.drift.map(\.path).contains("spec.kubernetesVersion"))
    #expect(f.ignored.first?.expired == false)
  }

  @Test func activeRuleWinsOverAnExpiredOne() {
    let rules = [
      IgnoreRule(path: "spec.kubernetesVersion", reason: "old", until: "2020-01-01"),
      IgnoreRule(path: "spec.kubernetesVersion", reason: "new", until: "2030-01-01"),
    ]
    let f = DriftEvaluator.applyIgnoreRules(Self.items, rules: rules, today: "2026-06-01")
    #expect(f.ignored.map(\.reason) == ["new"])
    #expect(!f.drift.map(\.path).contains("spec.kubernetesVersion"))
  }

  @Test func expiredRuleMatchingNothingIsANote() {
    let rule = IgnoreRule(path: "spec.networking", reason: "migration", until: "2025-01-01")
    let f = DriftEvaluator.applyIgnoreRules(Self.items, rules: [rule], today: "2026-06-01")
    #expect(f.ignored.isEmpty)
    #expect(f.drift.count == Self.items.count)
    #expect(f.notes.count == 1)
    #expect(f.notes.first?.contains("spec.networking") == true)
  }

  @Test func ignoreRulesFromEnvironmentYAMLApplyInEvaluation() throws {
    var env = try sample("prod")  // ignores spec.kubernetesVersion until 2027-01-31
    let state = recorded(env)
    let observation = Self.observe(env) { $0.set(path: ["spec", "kubernetesVersion"], .string("1.28.10")) }
    let active = DriftEvaluator.evaluate(env, recorded: state, observation: observation, previous: nil, today: "2026-01-01")
    #expect(active.status == .inSync)
    #expect(active.ignored.map(\.path) == ["spec.kubernetesVersion"])
    let expired = DriftEvaluator.evaluate(env, recorded: state, observation: observation, previous: nil, today: "2027-02-01")
    #expect(expired.status == .drifted)
    #expect(expired.drift.map(\.path) == ["spec.kubernetesVersion"])
    #expect(expired.ignored.first?.expired == true)
    env.settings.ignore = []
    let none = DriftEvaluator.evaluate(env, recorded: state, observation: observation, previous: nil, today: "2026-01-01")
    #expect(none.ignored.isEmpty && none.status == .drifted)
  }

  // MARK: New since the previous report

  @Test func newMarksItemsNotInThePreviousReport() {
    let previous = EnvironmentDrift(
      name: "dev", cluster: "c",
      drift: [Self.item("spec.a", .int(1), .int(2)), Self.item("spec.b", .int(1), .int(2))])
    let current = EnvironmentDrift(
      name: "dev", cluster: "c",
      drift: [
        Self.item("spec.a", .int(1), .int(2)),  // unchanged: not new
        Self.item("spec.b", .int(1), .int(3)),  // drifted further: new
        Self.item("spec.c", nil, .string("x")),  // appeared: new
      ])
    let marked = DriftEvaluator.markNew(current, previous: previous)
    #expect(marked.drift.map(\.isNew) == [false, true, true])
    #expect(marked.newCount == 2)
  }

  @Test func everythingIsNewWithoutAPreviousReport() {
    let current = EnvironmentDrift(name: "dev", cluster: "c", drift: [Self.item("spec.a", .int(1), .int(2))])
    #expect(DriftEvaluator.markNew(current, previous: nil).drift.map(\.isNew) == [true])
  }

  @Test func gatewayFindingIsNewOnlyOnce() {
    let finding = GatewayCheck(id: "igw-1", vpc: "vpc-1", expected: .detached, actual: .attached)
    let entry = EnvironmentDrift(name: "dev", cluster: "c", gateway: finding)
    let first = DriftEvaluator.markNew(entry, previous: EnvironmentDrift(name: "dev", cluster: "c"))
    #expect(first.gateway?.isNew == true)
    let second = DriftEvaluator.markNew(entry, previous: first)
    #expect(second.gateway?.isNew == false)
  }

  @Test func newMarkingSurvivesTheStoredJSON() throws {
    let env = try sample("dev")
    let observation = Self.observe(env) { $0.set(path: ["spec", "kubernetesVersion"], .string("1.23.99")) }
    let first = DriftEvaluator.evaluate(env, recorded: recorded(env), observation: observation, previous: nil, today: "2026-01-01")
    let stored = try DriftJSON.decodeEnvironment(DriftJSON.encode(first).serialized())
    let second = DriftEvaluator.evaluate(env, recorded: recorded(env), observation: observation, previous: stored, today: "2026-01-01")
    #expect(first.drift.map(\.isNew) == [true])
    #expect(second.drift.map(\.isNew) == [false])
  }

  // MARK: Status precedence

  @Test(arguments: [
    (true, true, true, true, DriftStatus.error),
    (false, true, true, true, .drifted),
    (false, false, true, true, .drifted),
    (false, false, false, true, .pending),
    (false, true, false, false, .drifted),
    (false, false, false, false, .inSync),
  ])
  func statusPrecedence(error: Bool, drift: Bool, finding: Bool, pending: Bool, expected: DriftStatus) {
    let e = EnvironmentDrift(
      name: "x", cluster: "c", drift: drift ? [Self.item("spec.a", .int(1), .int(2))] : [],
      pending: pending ? [PendingItem(category: "spec", action: "update", path: "spec.b")] : [],
      gateway: GatewayCheck(id: "igw", vpc: "vpc", expected: .detached, actual: finding ? .attached : .detached),
      error: error ? "boom" : nil)
    #expect(e.status == expected)
  }
}
