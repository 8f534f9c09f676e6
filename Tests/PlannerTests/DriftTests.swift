import Config
import Foundation
import Model
import Planner
import Testing

/// The drift report's pure parts: evaluation (live vs recorded, pending, the gateway) here;
/// ignore rules, new-since-last and status in DriftTests+Rules.swift; the JSON contract of
/// DESIGN.md §6 and the renderers in DriftTests+Rendering.swift.
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
}
