import Config
import Foundation
import Model
import Planner
import Testing

/// The drift report's pure parts: evaluation (live vs recorded, pending, ignore rules, the
/// gateway, new-since-last), the JSON contract of DESIGN.md §6, and the renderers.
@Suite struct DriftTests {
  // MARK: Helpers

  /// What kops prints back for an object hk wrote: stamped metadata, configBase, iam.legacy.
  static func asKopsStoresIt(_ cluster: YAMLNode) -> YAMLNode {
    var live = cluster
    live.set(path: ["metadata", "creationTimestamp"], .string("2024-05-01T10:00:00Z"))
    live.set(path: ["metadata", "generation"], .int(3))
    if live[path: "spec", "configBase"] == nil { live.set(path: ["spec", "configBase"], .string("s3://x/y")) }
    return live
  }

  static func igAsStored(_ ig: YAMLNode) -> YAMLNode {
    var live = ig
    live.set(path: ["metadata", "creationTimestamp"], .string("2024-05-01T10:00:00Z"))
    return live
  }

  static func observe(_ env: Environment, attachments: [String]? = nil, edit: (inout YAMLNode) -> Void = { _ in })
    -> LiveObservation
  {
    var cluster = asKopsStoresIt(env.cluster)
    edit(&cluster)
    return LiveObservation(cluster: cluster, instanceGroups: env.instanceGroups.map(igAsStored), gatewayAttachments: attachments)
  }

  static func item(_ path: String, _ recorded: JSONValue?, _ live: JSONValue?, new: Bool = false) -> DriftItem {
    DriftItem(path: path, recorded: recorded, live: live, isNew: new)
  }

  // MARK: Evaluation

  @Test func justAppliedEnvironmentIsInSync() throws {
    for name in ["dev", "staging", "prod"] {
      let env = try sample(name)
      let vpc = env.clusterView.networkID ?? "vpc-x"
      let entry = DriftEvaluator.evaluate(
        env, recorded: recorded(env), observation: Self.observe(env, attachments: []), previous: nil, today: "2026-01-01")
      #expect(entry.status == .inSync, "\(name): \(entry.drift.map(\.path)) \(entry.pending.map(\.path))")
      #expect(entry.drift.isEmpty && entry.pending.isEmpty && entry.error == nil)
      if env.settings.igwStrategy == .temporary {
        #expect(entry.gateway == GatewayCheck(id: env.settings.igwID ?? "", vpc: vpc, expected: .detached, actual: .detached))
      } else {
        #expect(entry.gateway == nil)
      }
    }
  }

  @Test func oneFieldChangedLiveIsExactlyThatField() throws {
    let env = try sample("dev")
    let entry = DriftEvaluator.evaluate(
      env, recorded: recorded(env),
      observation: Self.observe(env) { $0.set(path: ["spec", "kubernetesVersion"], .string("1.23.99")) }, previous: nil,
      today: "2026-01-01")
    #expect(entry.status == .drifted)
    #expect(entry.drift == [Self.item("spec.kubernetesVersion", .string("1.23.17"), .string("1.23.99"), new: true)])
  }

  /// kops never fills in `kubernetesApiAccess` or `sshAccess` on create -f/replace -f (§9): a
  /// live value hk did not write is drift, and a security finding when it opens 0.0.0.0/0.
  @Test func apiAccessOpenedOutsideHkIsDriftAndASecurityFinding() throws {
    let env = try sample("prod")
    let entry = DriftEvaluator.evaluate(
      env, recorded: recorded(env),
      observation: Self.observe(env) {
        $0.set(path: ["spec", "kubernetesApiAccess"], .sequence([.string("0.0.0.0/0")]))
        $0.set(path: ["spec", "podCIDR"], .string("100.96.0.0/11"))
      }, previous: nil, today: "2026-01-01")
    #expect(entry.status == .drifted)
    #expect(entry.drift.map(\.path) == ["spec.kubernetesApiAccess", "spec.podCIDR"])
    #expect(entry.notes.contains { $0.hasPrefix("security: spec.kubernetesApiAccess opens the Kubernetes API to the whole internet") })
    // a private range is drift without a finding
    let narrow = DriftEvaluator.evaluate(
      env, recorded: recorded(env),
      observation: Self.observe(env) { $0.set(path: ["spec", "sshAccess"], .sequence([.string("10.0.0.0/8")])) }, previous: nil,
      today: "2026-01-01")
    #expect(narrow.drift.map(\.path) == ["spec.sshAccess"])
    #expect(!narrow.notes.contains { $0.hasPrefix("security:") })
  }

  /// kops omits non-pointer `omitempty` fields at their zero value on output (§9): written,
  /// never read back, no drift. A pointer field's `false` is read back, so its absence is drift.
  @Test func zeroValuesKopsDoesNotReadBackAreNotDrift() throws {
    var env = try sample("prod")
    env.cluster.set(path: ["spec", "iam", "allowContainerRegistry"], .bool(false))
    env.cluster.set(path: ["spec", "cloudLabels"], .mapping([]))
    env.cluster.set(path: ["spec", "api", "loadBalancer", "useForInternalApi"], .bool(false))
    let stored = try #require(env.instanceGroups.first)
    env.instanceGroups[0].set(path: ["spec", "rootVolumeEncryption"], .bool(false))
    let live = Self.observe(env) {
      $0.remove(path: ["spec", "iam", "allowContainerRegistry"])
      $0.remove(path: ["spec", "cloudLabels"])
      $0.remove(path: ["spec", "api", "loadBalancer", "useForInternalApi"])
    }
    var observation = live
    observation.instanceGroups[0] = Self.igAsStored(stored)  // rootVolumeEncryption (a *bool) gone
    let entry = DriftEvaluator.evaluate(env, recorded: recorded(env), observation: observation, previous: nil, today: "2026-01-01")
    let name = InstanceGroupView(stored).name ?? ""
    #expect(entry.drift.map(\.path) == ["instancegroup[\(name)].spec.rootVolumeEncryption"], "\(entry.drift.map(\.path))")
  }

  /// kops reads quantities back in canonical form: they compare by value (§9).
  @Test func quantitiesCompareByValue() throws {
    var env = try sample("prod")
    env.cluster.set(path: ["spec", "kubeAPIServer", "auditWebhookBatchThrottleQps"], YAMLNode(.scalar(YAMLScalar("3.14"))))
    env.cluster.set(path: ["spec", "kubelet", "maxPods"], .int(110))
    let same = DriftEvaluator.evaluate(
      env, recorded: recorded(env),
      observation: Self.observe(env) {
        $0.set(path: ["spec", "kubeAPIServer", "auditWebhookBatchThrottleQps"], .string("3140m"))
      }, previous: nil, today: "2026-01-01")
    #expect(same.drift.isEmpty, "\(same.drift)")
    let other = DriftEvaluator.evaluate(
      env, recorded: recorded(env),
      observation: Self.observe(env) {
        $0.set(path: ["spec", "kubeAPIServer", "auditWebhookBatchThrottleQps"], .string("3"))
      }, previous: nil, today: "2026-01-01")
    #expect(other.drift.map(\.path) == ["spec.kubeAPIServer.auditWebhookBatchThrottleQps"])
  }

  @Test func instanceGroupChangedAndDeletedLive() throws {
    let env = try sample("dev")
    var observation = Self.observe(env)
    observation.instanceGroups[1].set(path: ["spec", "maxSize"], .int(9))
    observation.instanceGroups.removeLast()
    let entry = DriftEvaluator.evaluate(env, recorded: recorded(env), observation: observation, previous: nil, today: "2026-01-01")
    #expect(entry.drift.map(\.path) == ["instancegroup[nodes-ap-northeast-1a].spec.maxSize", "instancegroup[nodes-ap-northeast-1c]"])
    #expect(entry.drift.first?.recorded == .int(4) && entry.drift.first?.live == .int(9))
  }

  @Test func secretsAreRedactedInDrift() throws {
    let env = try sample("dev")
    let entry = DriftEvaluator.evaluate(
      env, recorded: recorded(env),
      observation: Self.observe(env) {
        $0.set(path: ["spec", "egressProxy", "httpProxy", "host"], .string("http://user:hunter2@proxy.corp.local"))
      }, previous: nil, today: "2026-01-01")
    let rendered = DriftJSON.render(DriftReport(environments: [entry]))
    #expect(entry.drift.count == 1)
    #expect(!rendered.contains("hunter2"))
  }

  @Test func neverAppliedIsPendingWithANote() throws {
    let env = try sample("staging")
    let entry = DriftEvaluator.evaluate(env, recorded: nil, observation: nil, previous: nil, today: "2026-01-01")
    #expect(entry.status == .pending)
    #expect(entry.pending.first?.path == "cluster[staging.k8s.corp.local]")
    #expect(entry.pending.first?.action == "create")
    #expect(entry.notes.contains { $0.contains("never applied") && $0.contains("hk import staging") })
    #expect(entry.recorded == nil)
  }

  @Test func owedLayersArePending() throws {
    let env = try sample("dev")
    let state = recorded(env, cloudUpdated: false, pendingRolls: ["nodes-ap-northeast-1a", "gone-ig"])
    let entry = DriftEvaluator.evaluate(
      env, recorded: state, observation: Self.observe(env, attachments: []), previous: nil, today: "2026-01-01")
    #expect(entry.status == .pending)
    #expect(entry.pending.map(\.path) == ["cloud", "rolling-update[nodes-ap-northeast-1a]"])
    #expect(entry.pending.allSatisfy { $0.category == "layer" && $0.note != nil })
    // the gateway bracket around `kops update` is a means, not a pending change
    #expect(!entry.pending.contains { $0.category == "igw" })
  }

  @Test func desiredChangeIsPendingAsCategoryAndPath() throws {
    var env = try sample("prod")
    let state = recorded(env)
    env.setCluster("spec.kubelet.containerLogMaxFiles", .int(7))
    let entry = DriftEvaluator.evaluate(
      env, recorded: state, observation: Self.observe(try sample("prod")), previous: nil, today: "2026-01-01")
    #expect(entry.status == .pending)
    #expect(entry.pending == [PendingItem(category: "logging", action: "update", path: "spec.kubelet.containerLogMaxFiles")])
    #expect(entry.drift.isEmpty)
  }

  // MARK: What kops adds on decode and drops on encode

  static let minimalCluster = """
    apiVersion: kops/v1alpha2
    kind: Cluster
    metadata:
      name: m.example.com
    spec:
      cloudProvider: aws
      sshKeyName: ""
      networking:
        flannel: {}
      subnets:
      - name: a
        zone: us-east-1a
        cidr: 10.0.0.0/19
        type: Public
        additionalRoutes: []
    """

  /// What the double (like kops ≤ 1.27) prints back for ``minimalCluster``.
  static let minimalClusterAsStored = """
    apiVersion: kops.k8s.io/v1alpha2
    kind: Cluster
    metadata:
      creationTimestamp: "2024-05-01T10:00:00Z"
      name: m.example.com
    spec:
      api:
        loadBalancer:
          class: Classic
          type: Public
      authorization:
        alwaysAllow: {}
      cloudProvider: aws
      configBase: s3://b/m.example.com
      networking:
        flannel:
          backend: udp
      subnets:
      - cidr: 10.0.0.0/19
        name: a
        type: Public
        zone: us-east-1a
      topology:
        dns:
          type: Public
        masters: private
        nodes: public
    """

  @Test func decodeDefaultsOmittedEmptiesAndTheLegacyGroupAreNotDrift() throws {
    let recorded = try yaml(Self.minimalCluster)
    let live = try yaml(Self.minimalClusterAsStored)
    let d = LiveComparison.differences(recordedCluster: recorded, recordedIGs: [], liveCluster: live, liveIGs: [])
    // `topology.masters: private` is not a default: it stays a difference
    #expect(d.map(\.path) == ["spec.topology"], "\(d)")
    #expect(d.first?.live == .object([.init("masters", .string("private"))]))
  }

  @Test func aDefaultValueDiffersWhenRecordedSaysOtherwise() throws {
    var recorded = try yaml(Self.minimalCluster)
    recorded.set(path: ["spec", "topology", "dns", "type"], .string("Private"))
    recorded.set(path: ["spec", "authorization", "rbac"], .mapping([]))
    var live = try yaml(Self.minimalClusterAsStored)
    live.remove(path: ["spec", "topology", "masters"])
    let d = LiveComparison.differences(recordedCluster: recorded, recordedIGs: [], liveCluster: live, liveIGs: [])
    #expect(d.map(\.path) == ["spec.authorization.alwaysAllow", "spec.authorization.rbac", "spec.topology.dns.type"], "\(d)")
  }

  // MARK: Gateway

  @Test func gatewayAttachedOutsideAnApplyIsAFinding() throws {
    let env = try sample("dev")
    let vpc = try #require(env.clusterView.networkID)
    let entry = DriftEvaluator.evaluate(
      env, recorded: recorded(env), observation: Self.observe(env, attachments: [vpc]), previous: nil, today: "2026-01-01")
    #expect(entry.status == .drifted)
    #expect(entry.drift.isEmpty)
    #expect(entry.gateway?.finding == "IGW attached outside an apply")
    #expect(entry.gateway?.isNew == true)
  }

  @Test func gatewayRecordedAsAttachedIsNoFinding() throws {
    let env = try sample("dev")
    let vpc = try #require(env.clusterView.networkID)
    let entry = DriftEvaluator.evaluate(
      env, recorded: recorded(env, igwAttached: true), observation: Self.observe(env, attachments: [vpc]), previous: nil,
      today: "2026-01-01")
    #expect(entry.gateway?.expected == .attached)
    #expect(entry.gateway?.finding == nil)
    // …but the detach it owes is pending
    #expect(entry.status == .pending)
    #expect(entry.pending.contains { $0.category == "igw" && $0.action == "update" })
  }

  @Test func gatewayAttachedToAnotherVPCIsANoteNotAFinding() throws {
    let env = try sample("dev")
    let entry = DriftEvaluator.evaluate(
      env, recorded: recorded(env), observation: Self.observe(env, attachments: ["vpc-other"]), previous: nil, today: "2026-01-01")
    #expect(entry.gateway?.actual == .detached)
    #expect(entry.gateway?.attachedElsewhere == ["vpc-other"])
    #expect(entry.status == .inSync)
    #expect(entry.notes.contains { $0.contains("vpc-other") })
  }

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

  // MARK: JSON contract

  static func sampleReport() -> DriftReport {
    DriftReport(environments: [
      EnvironmentDrift(
        name: "prod", cluster: "prod.k8s.corp.local", recorded: PriorState(serial: 7, lineage: "lin"),
        drift: [Self.item("spec.kubelet.containerLogMaxFiles", .int(5), .int(7), new: true)],
        pending: [PendingItem(category: "spec", action: "update", path: "spec.egressProxy.excludes")],
        gateway: GatewayCheck(id: "igw-1", vpc: "vpc-1", expected: .detached, actual: .attached, isNew: true),
        ignored: [
          IgnoredField(path: "spec.kubernetesVersion", rule: "spec.kubernetesVersion", reason: "oob", until: "2027-01-31", expired: false)
        ]),
      EnvironmentDrift(name: "dev", cluster: "dev.k8s.corp.local", error: "kops 1.28.4 does not match kopsVersion 1.23.4"),
      EnvironmentDrift(name: "staging", cluster: "staging.k8s.corp.local", recorded: PriorState(serial: 2, lineage: "l2")),
    ])
  }

  @Test func jsonHasTheContractShape() throws {
    let json = try JSONValue.parse(DriftJSON.render(Self.sampleReport()))
    #expect(json["format_version"] == .string("1"))
    let envs = try #require(json["environments"]?.arrayValue)
    #expect(envs.count == 3)
    let prod = envs[0]
    let keys = (prod.members ?? []).map(\.key)
    #expect(Array(keys.prefix(7)) == ["name", "status", "drift", "pending", "igw", "ignored", "error"])
    #expect(prod["name"] == .string("prod"))
    #expect(prod["status"] == .string("drifted"))
    let drift = try #require(prod["drift"]?.arrayValue?.first)
    #expect(Array((drift.members ?? []).map(\.key).prefix(4)) == ["path", "recorded", "live", "new"])
    #expect(drift["path"] == .string("spec.kubelet.containerLogMaxFiles"))
    #expect(drift["recorded"] == .int(5) && drift["live"] == .int(7) && drift["new"] == .bool(true))
    let pending = try #require(prod["pending"]?.arrayValue?.first)
    #expect(pending["category"] == .string("spec") && pending["path"] == .string("spec.egressProxy.excludes"))
    let igw = try #require(prod["igw"])
    #expect(Array((igw.members ?? []).map(\.key).prefix(3)) == ["expected", "actual", "finding"])
    #expect(igw["expected"] == .string("detached") && igw["actual"] == .string("attached"))
    #expect(igw["finding"] == .string("IGW attached outside an apply"))
    let ignored = try #require(prod["ignored"]?.arrayValue?.first)
    #expect(Array((ignored.members ?? []).map(\.key).prefix(4)) == ["path", "reason", "until", "expired"])
    #expect(ignored["until"] == .string("2027-01-31") && ignored["expired"] == .bool(false))
    #expect(prod["error"] == .null)

    #expect(envs[1]["status"] == .string("error"))
    #expect(envs[1]["error"]?.stringValue?.contains("kopsVersion") == true)
    #expect(envs[1]["igw"] == .null)
    #expect(envs[2]["status"] == .string("in-sync"))
    #expect(envs[2]["drift"] == .array([]) && envs[2]["pending"] == .array([]) && envs[2]["ignored"] == .array([]))
    #expect(json["summary"]?["drifted"] == .int(1) && json["summary"]?["errors"] == .int(1) && json["summary"]?["in_sync"] == .int(1))
  }

  @Test func storedEntryRoundTrips() throws {
    for e in Self.sampleReport().environments {
      let decoded = try DriftJSON.decodeEnvironment(DriftJSON.encode(e).serialized())
      #expect(decoded == e)
    }
  }

  @Test func damagedStoredEntryIsAnErrorNotACrash() {
    #expect(throws: DriftJSON.DecodeError.self) { try DriftJSON.decodeEnvironment("{not json") }
    #expect(throws: DriftJSON.DecodeError.self) { try DriftJSON.decodeEnvironment("[1,2]") }
  }

  // MARK: Renderers

  @Test func textGroupsPerEnvironmentAndEndsWithTheSummary() throws {
    let text = DriftRenderer().text(Self.sampleReport())
    #expect(text.contains("Drift: 1 drifted, 0 pending, 1 in sync, 1 error (3 environments)."))
    #expect(text.contains("Environment prod (prod.k8s.corp.local; recorded serial 7): drifted"))
    #expect(text.contains("~ spec.kubelet.containerLogMaxFiles: recorded 5 → live 7  [new]"))
    #expect(text.contains("! IGW attached outside an apply"))
    #expect(text.contains("= spec.kubernetesVersion: oob (until 2027-01-31)"))
    #expect(text.contains("Environment dev (dev.k8s.corp.local; nothing recorded): error"))
    #expect(text.contains("Environment staging (staging.k8s.corp.local; recorded serial 2): in sync"))
    #expect(text.contains("Security:"))
    #expect(!text.contains("\u{1B}["))
    let prodAt = try #require(text.range(of: "Environment prod")?.lowerBound)
    let devAt = try #require(text.range(of: "Environment dev")?.lowerBound)
    #expect(prodAt < devAt)
  }

  @Test func textColoursOnlyWhenAsked() {
    let coloured = DriftRenderer(color: true).text(Self.sampleReport())
    #expect(coloured.contains("\u{1B}[31mdrifted\u{1B}[0m"))
    #expect(coloured.contains("\u{1B}[32min sync\u{1B}[0m"))
  }

  @Test func summaryCountsPlurals() {
    let one = DriftReport(environments: [EnvironmentDrift(name: "a", cluster: nil)])
    #expect(DriftRenderer().summary(one) == "Drift: 0 drifted, 0 pending, 1 in sync, 0 errors (1 environment).")
  }

  @Test func markdownHasADetailsBlockPerEnvironment() throws {
    let parts = DriftRenderer().markdown(Self.sampleReport())
    #expect(parts.count == 1)
    let md = try #require(parts.first)
    #expect(md.hasPrefix("## hk drift\n\nDrift: 1 drifted, 0 pending, 1 in sync, 1 error (3 environments)."))
    #expect(md.components(separatedBy: "<details>").count - 1 == 3)
    #expect(md.components(separatedBy: "</details>").count - 1 == 3)
    #expect(md.contains("<summary><b>prod</b> (prod.k8s.corp.local): drifted — 1 field, IGW finding, 2 new</summary>"))
    #expect(md.contains("**Security findings**"))
    #expect(md.contains("```diff\n~ spec.kubelet.containerLogMaxFiles: recorded 5 → live 7  [new]\n```"))
    #expect(!md.contains("\u{1B}["))
  }

  /// A report too large for one pull-request comment is split between environments into parts
  /// under the limit, each numbered; every environment appears once, whole.
  @Test func largeMarkdownIsSplitIntoCommentSizedParts() throws {
    let envs = (0..<400).map { i in
      EnvironmentDrift(
        name: "env-\(i)", cluster: "env-\(i).k8s.corp.local", recorded: PriorState(serial: 3, lineage: "lin"),
        drift: (0..<8).map { j in
          Self.item("spec.subnets[name=private-\(j)].cidr", .string("10.\(j).0.0/19"), .string("10.\(j).32.0/19"), new: true)
        })
    }
    let parts = DriftRenderer().markdown(DriftReport(environments: envs))
    #expect(parts.count > 1)
    for (i, part) in parts.enumerated() {
      #expect(part.count < MarkdownParts.limit)
      #expect(part.hasPrefix("*Part \(i + 1) of \(parts.count)*"))
      #expect(part.components(separatedBy: "<details>").count == part.components(separatedBy: "</details>").count)
    }
    #expect(parts[0].contains("## hk drift"))
    let all = parts.joined()
    for i in 0..<400 { #expect(all.components(separatedBy: "<summary><b>env-\(i)</b>").count == 2) }
    // Small limits split too, and a section larger than a whole part is cut with a pointer.
    let small = DriftRenderer().markdown(DriftReport(environments: Array(envs.prefix(3))), sectionLimit: 100_000, partLimit: 700)
    #expect(small.count >= 3)
    #expect(small.joined().contains("see `hk drift --format json` for the full report"))
  }

  @Test func markdownEscapesHTML() {
    let report = DriftReport(environments: [EnvironmentDrift(name: "a", cluster: nil, error: "<script>x</script>")])
    let md = DriftRenderer().markdown(report).joined()
    #expect(!md.contains("<script>"))
    #expect(md.contains("&#60;script&#62;"))
  }
}
