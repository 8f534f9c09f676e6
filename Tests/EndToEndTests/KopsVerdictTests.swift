import Foundation
import HKTestSupport
import Model
import Store
import Testing

/// kops has the last word on rolls (DESIGN.md §5): the dry run before `update --yes` stops on
/// what the plan did not predict, and kops's `NeedsUpdate` listing after it decides the rolls.
@Suite struct KopsVerdictTests {
  static let cluster = "prod.k8s.corp.local"
  static let state = "s3://corp-kops-state-prod"

  /// Changes instance group `group`'s machine type in the kops state store behind hk's back.
  static func editOutOfBand(_ w: World, group: String) throws {
    let got = try w.kops.run(
      ["get", "instancegroups", "--name", cluster, "--state", state, "-o", "yaml"], env: ["FAKE_KOPS_VERSION": "1.28.4"])
    try #require(got.exitCode == 0, "\(got)")
    let doc = try #require(got.stdout.components(separatedBy: "\n---\n").first { $0.contains("name: \(group)\n") })
    let file = try w.dir.write("oob-\(group).yaml", doc.replacingOccurrences(of: "m5.2xlarge", with: "m5.4xlarge"))
    let replaced = try w.kops.run(["replace", "-f", file, "--state", state], env: ["FAKE_KOPS_VERSION": "1.28.4"])
    try #require(replaced.exitCode == 0, "\(replaced)")
  }

  /// An IAM-only edit in git (the plan rolls nothing).
  static func editIAM(_ w: World) throws {
    try w.edit("environments/prod/cluster.yaml") {
      $0.replacingOccurrences(
        of: "  kubelet:\n",
        with:
          "  additionalPolicies:\n    node: |\n      [{\"Effect\": \"Allow\", \"Action\": [\"s3:GetObject\"], \"Resource\": [\"*\"]}]\n  kubelet:\n"
      )
    }
  }

  func updates(_ w: World) -> Int { w.successfulCalls("update").filter { $0.contains("--yes") }.count }
  func rolls(_ w: World) -> [[String]] { w.successfulCalls("rolling-update").filter { $0.contains("--yes") } }

  @Test func aLaunchTemplateChangeThePlanDidNotPredictStopsBeforeYesThenRollsAsKopsSays() throws {
    let w = try World()
    #expect(try w.apply(["prod"]).exitCode == 0)
    try Self.editOutOfBand(w, group: "nodes-ap-northeast-1c")
    try Self.editIAM(w)
    let updatesBefore = updates(w)

    // The plan rolls nothing; kops's dry run shows the group's launch template changing.
    let stopped = try w.apply(["prod"], extra: ["--allow-drift"])
    #expect(stopped.exitCode == 1, "\(stopped)")
    #expect(
      stopped.stdout.contains("kops would change the launch template of instance group nodes-ap-northeast-1c"), "\(stopped.stdout)")
    #expect(stopped.stdout.contains("--allow-surprises"))
    #expect(updates(w) == updatesBefore, "update --yes must not run")
    let store = try w.store()
    let run = try #require(try store.runs("prod", limit: 1).first)
    #expect(try store.journal(runID: run.id).contains { $0.kind == "kops-update-dryrun" && $0.status == .succeeded })
    #expect(try store.recorded("prod")?.cloudUpdated == false)

    // Allowed: kops's NeedsUpdate verdict is rolled too, and the miss is journaled and counted.
    let rollsBefore = rolls(w).count
    let allowed = try w.apply(["prod"], extra: ["--allow-drift", "--allow-surprises"])
    #expect(allowed.exitCode == 0, "\(allowed)")
    #expect(allowed.stdout.contains("prediction miss: kops marks nodes-ap-northeast-1c NeedsUpdate"), "\(allowed.stdout)")
    let newRolls = rolls(w).dropFirst(rollsBefore)
    #expect(newRolls.count == 1)
    let igs = newRolls.first.flatMap { argv in argv.firstIndex(of: "--instance-group").map { argv[$0 + 1] } }
    #expect(igs == "nodes-ap-northeast-1c")
    let last = try #require(try store.runs("prod", limit: 1).first)
    let misses = try store.journal(runID: last.id).filter { $0.kind == "prediction-miss" }
    #expect(misses.map(\.argv) == [["NeedsUpdate", "nodes-ap-northeast-1c"]])
    #expect(try store.recorded("prod")?.pendingRolls == [])
    let show = try w.hk(["state", "show", "prod"])
    #expect(show.stdout.contains("# prediction misses (rolls kops decided that a plan did not predict): 1"), "\(show.stdout)")
  }

  @Test func withManualRollsKopsVerdictIsWhatStaysOwed() throws {
    let w = try World()
    try w.edit("environments/prod/environment.yaml") { $0.replacingOccurrences(of: "rollingUpdate: auto", with: "rollingUpdate: manual") }
    #expect(try w.apply(["prod"]).exitCode == 0)
    try Self.editOutOfBand(w, group: "nodes-ap-northeast-1a")
    try Self.editIAM(w)
    let rollsBefore = rolls(w).count
    let r = try w.apply(["prod"], extra: ["--allow-drift", "--allow-surprises"])
    #expect(r.exitCode == 0, "\(r)")
    #expect(rolls(w).count == rollsBefore, "manual: hk rolls nothing")
    #expect(try w.store().recorded("prod")?.pendingRolls == ["nodes-ap-northeast-1a"])
  }
}

/// A kops upgrade is a planned change (DESIGN.md §5): the version guard compares the whole
/// version, and a `kopsVersion` edit plans `update --yes` and a roll of every group.
@Suite struct KopsUpgradeTests {
  @Test func aPatchUpgradeIsPlannedUpdatedAndRolled() throws {
    let w = try World()
    let path = w.dir.path + "/bin/kops-1.28.5"
    _ = try w.dir.write("bin/kops-1.28.5", "#!/bin/sh\nFAKE_KOPS_VERSION=1.28.5 exec '\(w.kops.binary)' \"$@\"\n")
    chmod(path, 0o755)
    #expect(try w.apply(["prod"]).exitCode == 0)
    #expect(try w.store().recorded("prod")?.updatedByKops == "1.28.4")

    // The guard compares the whole version: kops 1.28.4 is refused for kopsVersion 1.28.5.
    try w.edit("environments/prod/environment.yaml") { $0.replacingOccurrences(of: "kopsVersion: 1.28.4", with: "kopsVersion: 1.28.5") }
    let refused = try w.apply(["prod"])
    #expect(refused.exitCode == 1, "\(refused)")
    #expect(refused.stdout.contains("kops 1.28.4 does not match the environment's kopsVersion 1.28.5"), "\(refused.stdout)")

    try w.edit("environments/prod/environment.yaml") { $0.replacingOccurrences(of: "bin/kops-1.28.4", with: "bin/kops-1.28.5") }
    let plan = try w.hk(["plan", "prod", "--format", "json"])
    let changes = try JSONValue.parse(plan.stdout)["environments"]?.arrayValue?.first?["changes"]?.arrayValue ?? []
    let upgrade = try #require(changes.first { $0["category"]?.stringValue == "upgrade" }, "\(plan.stdout)")
    #expect(upgrade["path"]?.stringValue == "kopsVersion")
    #expect(upgrade["before"]?.stringValue == "1.28.4" && upgrade["after"]?.stringValue == "1.28.5")
    let all = ["control-plane-ap-northeast-1a", "nodes-ap-northeast-1a", "nodes-ap-northeast-1c"]
    #expect(upgrade["rolls"]?.arrayValue?.compactMap(\.stringValue) == all)

    let rollsBefore = w.successfulCalls("rolling-update").filter { $0.contains("--yes") }.count
    let r = try w.apply(["prod"])
    #expect(r.exitCode == 0, "\(r)")
    #expect(!r.stdout.contains("prediction miss"), "\(r.stdout)")
    let rolls = w.successfulCalls("rolling-update").filter { $0.contains("--yes") }.dropFirst(rollsBefore)
    let igs = rolls.first.flatMap { argv in argv.firstIndex(of: "--instance-group").map { argv[$0 + 1] } }
    #expect(igs == all.joined(separator: ","))
    let state = try #require(try w.store().recorded("prod"))
    #expect(state.updatedByKops == "1.28.5" && state.pendingRolls.isEmpty)
    #expect(try w.hk(["plan", "prod", "--detailed-exitcode"]).exitCode == 0)
  }
}

/// kops splits a manifest file on "\n---\n": the create file keeps a blank line before each
/// `---`, so a block scalar ending the Cluster document keeps its line break (kops-contract §9).
@Suite struct BlockScalarTests {
  @Test func aBlockScalarEndingTheClusterDocumentDriftsCleanAfterCreate() throws {
    let w = try World()
    try w.edit("environments/prod/cluster.yaml") { text in
      guard let r = text.range(of: "\n---\n") else { return text }
      return text.replacingCharacters(
        in: r, with: "\n  fileAssets:\n  - name: motd\n    path: /etc/motd\n    content: |\n      hello\n---\n")
    }
    #expect(try w.apply(["prod"]).exitCode == 0)
    let drift = try w.hk(["drift", "prod", "--detailed-exitcode"])
    #expect(drift.exitCode == 0, "\(drift)")
  }
}
