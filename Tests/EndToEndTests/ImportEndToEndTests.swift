import Config
import Foundation
import HKTestSupport
import Model
import Store
import Testing

/// `hk import` end to end: adopt clusters that exist in the kops state store (made by an earlier
/// hk whose state database was lost, or by kops directly), then plan and drift against them.
@Suite(.serialized) struct ImportEndToEndTests {
  /// Removes the state database (and its WAL files): the clusters stay, hk forgets them.
  static func forgetState(_ w: World) {
    for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: w.stateDB + suffix) }
  }

  @Test func importThenPlanShowsOnlyTheRealDifferences() throws {
    let w = try World()
    #expect(try w.apply(["dev"]).exitCode == 0)
    Self.forgetState(w)
    try w.changeLive("dev", version: "1.23.4") { $0.set(path: ["spec", "kubernetesVersion"], .string("1.23.18")) }

    let r = try w.hk(["import", "dev", "--format", "json"])
    #expect(r.exitCode == 0, "\(r)")
    #expect(r.stderr.contains("Imported dev: cluster dev.k8s.corp.local with 3 instance groups"), "\(r)")
    let plan = try JSONValue.parse(r.stdout)
    let changes = plan["environments"]?.arrayValue?.first?["changes"]?.arrayValue ?? []
    let real = changes.filter { $0["category"] != .string("igw") }
    #expect(real.count == 1, "\(changes)")
    #expect(real.first?["path"] == .string("spec.kubernetesVersion"))
    #expect(real.first?["before"] == .string("1.23.18") && real.first?["after"] == .string("1.23.17"))

    // The recorded revision: a fresh lineage, cloud updated, nothing owed, the gateway detached.
    let state = try #require(try w.store().recorded("dev"))
    #expect(state.serial == 1)
    #expect(state.cloudUpdated && state.pendingRolls.isEmpty && !state.igwAttached)
    #expect(state.kopsVersion == "1.23.4")
    #expect(!state.clusterYAML.contains("creationTimestamp") && !state.clusterYAML.contains("generation"))
    let run = try #require(try w.store().runs("dev", limit: 1).first)
    #expect(run.result == .succeeded)
    #expect(try w.store().locks().isEmpty)

    // Live equals what was imported: the only difference is pending, not drift.
    let drift = try w.hk(["drift", "dev", "--format", "json", "--detailed-exitcode"])
    #expect(drift.exitCode == 2, "\(drift)")
    let e = try #require(try DriftJSONView(drift.stdout)["dev"])
    #expect(e["status"] == .string("pending"))
    #expect(e["drift"] == .array([]))
    #expect(e["pending"]?.arrayValue?.map { $0["path"] } == [.string("spec.kubernetesVersion")])

    // Text output: the import line, then the plan.
    Self.forgetState(w)
    let text = try w.hk(["import", "dev"])
    #expect(text.exitCode == 0, "\(text)")
    #expect(text.stdout.contains("Desired files vs the imported state:"))
    #expect(text.stdout.contains("~ spec.kubernetesVersion: \"1.23.18\" → \"1.23.17\""), "\(text)")
  }

  @Test func importOfAnUnchangedClusterPlansNothing() throws {
    let w = try World()
    #expect(try w.apply(["staging", "prod"]).exitCode == 0)
    Self.forgetState(w)
    for env in ["staging", "prod"] {
      let r = try w.hk(["import", env])
      #expect(r.exitCode == 0, "\(r)")
      #expect(r.stdout.contains("No changes."), "\(r)")
    }
    let plan = try w.hk(["plan", "staging", "prod", "--detailed-exitcode"])
    #expect(plan.exitCode == 0, "\(plan)")
    let drift = try w.hk(["drift", "staging", "prod", "--detailed-exitcode"])
    #expect(drift.exitCode == 0, "\(drift)")
  }

  @Test func importRefusesRecordedStateUnlessForced() throws {
    let w = try World()
    #expect(try w.apply(["prod"]).exitCode == 0)
    let before = try #require(try w.store().recorded("prod"))
    let refused = try w.hk(["import", "prod"])
    #expect(refused.exitCode == 1, "\(refused)")
    #expect(refused.stderr.contains("already has recorded state"), "\(refused)")
    #expect(refused.stderr.contains("--force"))
    #expect(try w.store().recorded("prod") == before)

    let forced = try w.hk(["import", "prod", "--force"])
    #expect(forced.exitCode == 0, "\(forced)")
    let after = try #require(try w.store().recorded("prod"))
    #expect(after.serial == before.serial + 1)
    #expect(after.lineage != before.lineage)
  }

  @Test func importRefusesAClusterThatDoesNotExist() throws {
    let w = try World()
    let r = try w.hk(["import", "staging"])
    #expect(r.exitCode == 1, "\(r)")
    #expect(r.stderr.contains("cluster staging.k8s.corp.local does not exist in s3://corp-kops-state-staging"), "\(r)")
    #expect(try w.store().recorded("staging") == nil)
    #expect(try w.store().locks().isEmpty)
    let run = try #require(try w.store().runs("staging", limit: 1).first)
    #expect(run.result == .failed)
  }

  @Test func importWaitsForNoOneAndRefusesWhileLocked() throws {
    let w = try World()
    #expect(try w.apply(["prod"]).exitCode == 0)
    Self.forgetState(w)
    let store = try w.store()
    _ = try store.acquireLock("prod", actor: StoreActor(user: "ci", host: "runner-7", pid: 4242, command: "hk apply prod"))
    let r = try w.hk(["import", "prod"])
    #expect(r.exitCode == 1, "\(r)")
    #expect(r.stderr.contains("hk apply prod"), "\(r)")
    #expect(try store.recorded("prod") == nil)
  }

  @Test func importRecordsAGatewayLeftAttached() throws {
    let w = try World()
    #expect(try w.apply(["dev"]).exitCode == 0)
    Self.forgetState(w)
    let igw = try #require(w.igw["dev"])
    let vpc = try #require(w.vpc["dev"])
    try w.moto.attachInternetGateway(igw, vpc: vpc)
    let r = try w.hk(["import", "dev"])
    #expect(r.exitCode == 0, "\(r)")
    #expect(r.stdout.contains("internet gateway \(igw) is attached: the next apply detaches it"), "\(r)")
    #expect(try w.store().recorded("dev")?.igwAttached == true)
    let apply = try w.apply(["dev"])
    #expect(apply.exitCode == 0, "\(apply)")
    #expect(try w.attachedVPCs("dev").isEmpty)
  }

  @Test func importChecksTheKopsVersionFirst() throws {
    let w = try World()
    #expect(try w.apply(["prod"]).exitCode == 0)
    Self.forgetState(w)
    try w.edit("environments/prod/environment.yaml") { $0.replacingOccurrences(of: "kops-1.28.4", with: "kops-1.23.4") }
    let reads = w.kops.invocations().filter { $0.first == "get" }.count
    let r = try w.hk(["import", "prod"])
    #expect(r.exitCode == 1, "\(r)")
    #expect(r.stderr.contains("kops 1.23.4 does not match the environment's kopsVersion 1.28.4"), "\(r)")
    #expect(w.kops.invocations().filter { $0.first == "get" }.count == reads)
    #expect(try w.store().recorded("prod") == nil)
  }
}
