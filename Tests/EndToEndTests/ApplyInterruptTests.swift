import Foundation
import HKTestSupport
import Model
import Store
import Testing

/// SIGTERM/SIGINT during an apply, and the pre-flight drift guard.
@Suite(.serialized) struct ApplyInterruptTests {
  func startApply(_ w: World, _ env: [String: String]) throws -> (Process, Pipe) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: w.hk)
    process.arguments = ["apply", "dev", "--yes", "--root", w.root, "--state-db", w.stateDB]
    process.environment = env
    let out = Pipe()
    process.standardOutput = out
    process.standardError = out
    try withDefaultSignalMask { try process.run() }
    return (process, out)
  }

  @Test(arguments: [SIGTERM, SIGINT])
  func aSignalStopsTheStepDetachesRecordsAndReleases(_ sig: Int32) throws {
    let w = try World()
    var env = w.environment
    env["FAKE_KOPS_HANG"] = "update"
    let (process, out) = try startApply(w, env)
    w.waitForKops("update")
    #expect(try w.attachedVPCs("dev") == [w.vpc["dev"] ?? ""])
    kill(process.processIdentifier, sig)
    process.waitUntilExit()
    let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    #expect(process.terminationStatus == 1, "\(text)")
    #expect(text.contains("interrupted"))
    #expect(try w.attachedVPCs("dev").isEmpty)
    let store = try w.store()
    #expect(try store.locks().isEmpty)
    let run = try #require(try store.runs("dev", limit: 1).first)
    #expect(run.result == .interrupted)
    #expect(try store.journal(runID: run.id).contains { $0.kind == "kops-update" && $0.status == .interrupted })
    #expect(try store.recorded("dev")?.igwAttached == false)
    // the hung kops call was stopped with hk (its process group)
    w.killHungKops()
    let again = try w.apply(["dev"])
    #expect(again.exitCode == 0, "\(again)")
    #expect(try w.hk(["plan", "dev", "--detailed-exitcode"]).exitCode == 0)
  }

  @Test func liveChangesOutsideHkAreRefusedUnlessAllowed() throws {
    let w = try World()
    #expect(try w.apply(["prod"]).exitCode == 0)
    // someone edits the cluster with kops directly
    let get = try w.kops.run(
      ["get", "cluster", "prod.k8s.corp.local", "--state", "s3://corp-kops-state-prod", "-o", "yaml"], env: w.environment)
    #expect(get.exitCode == 0, "\(get)")
    let edited = get.stdout.replacingOccurrences(of: "containerLogMaxFiles: 5", with: "containerLogMaxFiles: 9")
    #expect(edited != get.stdout)
    let file = try w.dir.write("oob.yaml", edited)
    let replaced = try w.kops.run(["replace", "-f", file, "--state", "s3://corp-kops-state-prod"], env: w.environment)
    #expect(replaced.exitCode == 0, "\(replaced)")
    // an unrelated desired change
    try w.edit("environments/prod/cluster.yaml") { $0.replacingOccurrences(of: "maxSize: 4", with: "maxSize: 5") }
    let refused = try w.apply(["prod"])
    #expect(refused.exitCode == 1)
    #expect(refused.stdout.contains("spec.kubelet.containerLogMaxFiles: recorded 5, live 9"), "\(refused.stdout)")
    #expect(refused.stdout.contains("--allow-drift"))
    #expect(w.successfulCalls("replace").count == 1)  // only the out-of-band one
    // Applying over the drift: kops's dry run shows every launch template changing (the
    // out-of-band kubelet edit reaches every node), which the plan does not roll: a surprise.
    let surprised = try w.apply(["prod"], extra: ["--allow-drift"])
    #expect(surprised.exitCode == 1, "\(surprised)")
    #expect(surprised.stdout.contains("kops would change the launch template of instance group nodes-ap-northeast-1a"))
    let allowed = try w.apply(["prod"], extra: ["--allow-drift", "--allow-surprises"])
    #expect(allowed.exitCode == 0, "\(allowed)")
  }
}
