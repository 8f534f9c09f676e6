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
