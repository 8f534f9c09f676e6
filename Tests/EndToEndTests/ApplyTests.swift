import Foundation
import HKTestSupport
import Model
import Store
import Testing

/// `hk apply` end to end: the real hk binary, the kops double as a separate process, the real
/// aws CLI against moto on loopback, a real SQLite file.
@Suite(.serialized) struct ApplyTests {
  @Test func applyFromEmptyCreatesTheClusterWithTheGatewayOnlyAroundUpdate() throws {
    let w = try World()
    let r = try w.apply(["dev"])
    #expect(r.exitCode == 0, "\(r)")
    #expect(r.stdout.contains("[1/5] "))
    #expect(r.stdout.contains("dev: applied 5 steps; recorded serial 1."))
    // The gateway is detached again, and kops update ran while it was attached (the double's
    // IGW rule fails update --yes otherwise).
    #expect(try w.attachedVPCs("dev").isEmpty)
    #expect(w.successfulCalls("update").count == 1)
    let store = try w.store()
    let state = try #require(try store.recorded("dev"))
    #expect(state.serial == 1)
    #expect(state.cloudUpdated)
    #expect(!state.igwAttached)
    #expect(state.pendingRolls.isEmpty)
    // Step order from the journal: attach just before update, detach just after.
    let run = try #require(try store.runs("dev", limit: 1).first)
    #expect(run.result == .succeeded)
    let kinds = try store.journal(runID: run.id).map(\.kind).filter { !$0.hasPrefix("preflight") && $0 != "export-kubeconfig" }
    #expect(kinds == ["cluster-create", "igw-attach", "kops-update", "igw-detach", "validate"])
    // Never the user's kubeconfig.
    #expect(!FileManager.default.fileExists(atPath: w.kops.defaultKubeconfig))
    for call in w.kops.logEntries() where call["argv"]?.arrayValue?.first?.stringValue == "update" {
      #expect(call["argv"]?.arrayValue?.contains(.string("--create-kube-config=false")) == true)
    }
    // validate ran with a scratch kubeconfig (kops 1.23 needs one), since deleted.
    let validates = w.kops.logEntries().filter {
      $0["argv"]?.arrayValue?.first?.stringValue == "validate" && $0["event"]?.stringValue == "start"
    }
    let kc = try #require(validates.first?["kubeconfig"]?.stringValue)
    #expect(!kc.hasPrefix(w.kops.home))
    #expect(!FileManager.default.fileExists(atPath: kc))
    // Nothing left to do.
    let plan = try w.hk(["plan", "dev", "--detailed-exitcode"])
    #expect(plan.exitCode == 0, "\(plan)")
    #expect(plan.stdout.contains("No changes."))
  }

  @Test func editsPlanTheirCategoriesAndApplyRollsOnlyWhatNeedsIt() throws {
    let w = try World()
    #expect(try w.apply(["dev", "prod"]).exitCode == 0)
    // egressProxy + additionalPolicies + logOpt on dev
    try w.edit("environments/dev/cluster.yaml") {
      $0.replacingOccurrences(
        of: "ecr.ap-northeast-1.amazonaws.com\"", with: "ecr.ap-northeast-1.amazonaws.com,sts.ap-northeast-1.amazonaws.com\""
      )
      .replacingOccurrences(of: "awslogs-group=/k8s/dev", with: "awslogs-group=/k8s/dev-v2")
    }
    try w.edit("environments/_base/cluster.yaml") {
      $0.replacingOccurrences(
        of:
          "\"logs:DescribeLogStreams\"],\n          \"Resource\": [\"arn:aws:logs:ap-northeast-1:*:log-group:/k8s/*\"]\n        }\n      ]\n    node:",
        with:
          "\"logs:DescribeLogStreams\", \"logs:PutRetentionPolicy\"],\n          \"Resource\": [\"arn:aws:logs:ap-northeast-1:*:log-group:/k8s/*\"]\n        }\n      ]\n    node:"
      )
    }
    let plan = try w.hk(["plan", "dev", "--format", "json"])
    #expect(plan.exitCode == 0, "\(plan)")
    let json = try JSONValue.parse(plan.stdout)
    let changes = json["environments"]?.arrayValue?.first?["changes"]?.arrayValue ?? []
    let categories = Set(changes.compactMap { $0["category"]?.stringValue })
    #expect(categories.isSuperset(of: ["spec", "iam", "logging", "igw"]), "\(categories)")
    // rolls are the rolling-update calls with --yes (without it, hk only asks kops for its verdict)
    func rollCalls() -> [[String]] { w.successfulCalls("rolling-update").filter { $0.contains("--yes") } }
    let before = rollCalls().count
    let r = try w.apply(["dev"])
    #expect(r.exitCode == 0, "\(r)")
    #expect(!r.stdout.contains("prediction miss"), "\(r.stdout)")
    let rolls = rollCalls().dropFirst(before)
    #expect(rolls.count == 1)
    let igs = rolls.first.flatMap { argv in argv.firstIndex(of: "--instance-group").map { argv[$0 + 1] } }
    #expect(igs == "control-plane-ap-northeast-1a,nodes-ap-northeast-1a,nodes-ap-northeast-1c")
    #expect(try w.attachedVPCs("dev").isEmpty)
    #expect(try w.store().recorded("dev")?.serial == 2)

    // An IAM-only edit on prod rolls nothing.
    try w.edit("environments/prod/cluster.yaml") {
      $0.replacingOccurrences(
        of: "  kubelet:\n",
        with:
          "  additionalPolicies:\n    node: |\n      [{\"Effect\": \"Allow\", \"Action\": [\"logs:CreateLogStream\", \"logs:PutLogEvents\", \"s3:GetObject\"], \"Resource\": [\"*\"]}]\n  kubelet:\n"
      )
    }
    let rollsBefore = rollCalls().count
    let p = try w.apply(["prod"])
    #expect(p.exitCode == 0, "\(p)")
    #expect(rollCalls().count == rollsBefore)
    #expect(p.stdout.contains("[widens IAM]"))
  }

  /// The first replace after a create must keep what kops assigned at create (default egressProxy
  /// excludes, …): otherwise every node config changes and an IAM-only edit leaves all nodes
  /// behind. kops itself is the judge: its rolling-update dry run must see nothing to roll.
  @Test(arguments: ["dev", "prod"])
  func anIAMOnlyEditAfterCreateLeavesNoNodeBehind(_ env: String) throws {
    let w = try World()
    #expect(try w.apply([env]).exitCode == 0)
    try w.edit("environments/_base/cluster.yaml") {
      $0.replacingOccurrences(of: "\"logs:DescribeLogStreams\"]", with: "\"logs:DescribeLogStreams\", \"logs:PutRetentionPolicy\"]")
    }
    let r = try w.apply([env])
    #expect(r.exitCode == 0, "\(r)")
    #expect(!r.stdout.split(separator: "\n").contains { $0.hasPrefix("[") && $0.contains("kops rolling-update cluster") })
    let cluster = "\(env).k8s.corp.local"
    let version = env == "prod" ? "1.28.4" : "1.23.4"
    // a kubeconfig context for kops ≤ 1.30's rolling-update
    let kc = w.dir.path + "/kc-\(env)"
    _ = try w.kops.run(
      ["export", "kubeconfig", cluster, "--state", "s3://corp-kops-state-\(env)", "--admin=1h", "--kubeconfig", kc],
      env: ["FAKE_KOPS_VERSION": version])
    let dry = try w.kops.run(
      ["rolling-update", "cluster", cluster, "--state", "s3://corp-kops-state-\(env)"],
      env: ["FAKE_KOPS_VERSION": version, "KUBECONFIG": kc])
    #expect(dry.exitCode == 0, "\(dry)")
    #expect(dry.stdout.contains("No rolling-update required."), "\(dry.stdout)")
  }

  @Test func aFailingKopsStepLeavesTheGatewayDetachedAndTheLockReleased() throws {
    let w = try World()
    w.faults["FAKE_KOPS_FAIL"] = "update:1"
    let r = try w.apply(["dev"])
    #expect(r.exitCode == 1)
    #expect(r.stdout.contains("Failed:  3 kops-update"), "\(r.stdout)")
    #expect(r.stdout.contains("was detached"))
    #expect(r.stdout.contains("Next:"))
    #expect(try w.attachedVPCs("dev").isEmpty)
    let store = try w.store()
    #expect(try store.locks().isEmpty)
    let state = try #require(try store.recorded("dev"))
    #expect(!state.cloudUpdated)
    #expect(!state.igwAttached)
    let run = try #require(try store.runs("dev", limit: 1).first)
    #expect(run.result == .failed)
    #expect(try store.journal(runID: run.id).contains { $0.kind == "kops-update" && $0.status == .failed })
    // The next plan owes exactly the update; the next apply converges without re-creating.
    let plan = try w.hk(["plan", "dev"])
    #expect(plan.stdout.contains("kops update --yes has not run"), "\(plan.stdout)")
    #expect(!plan.stdout.contains("kops create"))
    w.faults = [:]
    let again = try w.apply(["dev"])
    #expect(again.exitCode == 0, "\(again)")
    #expect(w.kops.invocations().filter { $0.first == "create" }.count == 1)
    #expect(try w.hk(["plan", "dev", "--detailed-exitcode"]).exitCode == 0)
  }

  @Test func sigkillMidApplyThenUnlockAndReapplyConverges() throws {
    let w = try World()
    w.faults["FAKE_KOPS_HANG"] = "update"
    try w.sigkillApplyDuringKopsUpdate(env: w.environment)

    let store = try w.store()
    #expect(try store.integrityCheck() == "ok")
    let lock = try #require(try store.locks().first)
    #expect(lock.isStale)
    let run = try #require(try store.runs("dev", limit: 1).first)
    #expect(try store.journal(runID: run.id).last?.kind == "kops-update")
    #expect(try store.journal(runID: run.id).last?.status == .started)
    // A second apply is refused, naming the holder.
    w.faults = [:]
    let refused = try w.apply(["dev"])
    #expect(refused.exitCode == 1)
    #expect(refused.stdout.contains("locked") || refused.stderr.contains("locked"), "\(refused)")
    let list = try w.hk(["lock", "list"])
    #expect(list.stdout.contains("stale"))
    #expect(try w.hk(["lock", "unlock", "dev", "--force", lock.lockID]).exitCode == 0)
    let plan = try w.hk(["plan", "dev"])
    #expect(plan.stdout.contains("left attached"), "\(plan.stdout)")
    let again = try w.apply(["dev"])
    #expect(again.exitCode == 0, "\(again)")
    #expect(try w.attachedVPCs("dev").isEmpty)
    #expect(w.kops.invocations().filter { $0.first == "create" }.count == 1)
    #expect(try w.hk(["plan", "dev", "--detailed-exitcode"]).exitCode == 0)
  }

  @Test func twoConcurrentAppliesOneWinsTheOtherNamesTheHolder() throws {
    let w = try World()
    var env = w.environment
    env["FAKE_KOPS_SLEEP"] = "1"
    let first = Process()
    first.executableURL = URL(fileURLWithPath: w.hk)
    first.arguments = ["apply", "dev", "--yes", "--root", w.root, "--state-db", w.stateDB, "--validate-interval", "0.2"]
    first.environment = env
    first.standardOutput = FileHandle.nullDevice
    first.standardError = FileHandle.nullDevice
    try first.run()
    let deadline = Date().addingTimeInterval(30)
    while Date() < deadline, (try? SQLiteStateStore(path: w.stateDB).locks().isEmpty) ?? true { usleep(50_000) }
    let second = try w.apply(["dev"])
    first.waitUntilExit()
    #expect(first.terminationStatus == 0)
    #expect(second.exitCode == 1)
    let text = second.stdout + second.stderr
    #expect(text.contains("locked by"), "\(text)")
    #expect(text.contains("pid \(first.processIdentifier)"))
  }

  @Test func aStaleSavedPlanIsRefused() throws {
    let w = try World()
    let planFile = w.dir.path + "/dev.plan.json"
    #expect(try w.hk(["plan", "dev", "--out", planFile]).exitCode == 0)
    #expect(try w.hk(["plan", "dev", "--out", w.dir.path + "/dev2.plan.json"]).exitCode == 0)
    // applying the saved plan works while it is fresh
    let r = try w.hk(["apply", "--plan", planFile, "--yes", "--validate-interval", "0.2"])
    #expect(r.exitCode == 0, "\(r)")
    // the second saved plan was made against the empty state: now stale
    let stale = try w.hk(["apply", "--plan", w.dir.path + "/dev2.plan.json", "--yes"])
    #expect(stale.exitCode == 1)
    #expect(stale.stderr.contains("stale"), "\(stale)")
    #expect(stale.stderr.contains("recorded state moved from empty state to serial 1"))
    // desired files changed since a plan → stale too
    #expect(try w.hk(["plan", "dev", "--out", planFile]).exitCode == 0)
    try w.edit("environments/dev/cluster.yaml") { $0.replacingOccurrences(of: "maxSize: 4", with: "maxSize: 5") }
    let changed = try w.hk(["apply", "--plan", planFile, "--yes"])
    #expect(changed.exitCode == 1)
    #expect(changed.stderr.contains("desired files changed"), "\(changed)")
  }

  @Test func applyWithoutATerminalRefusesUnlessYes() throws {
    let w = try World()
    let r = try w.hk(["apply", "dev"])
    #expect(r.exitCode == 1)
    #expect(r.stderr.contains("no terminal"))
    let recorded = FileManager.default.fileExists(atPath: w.stateDB) ? try w.store().recorded("dev") : nil
    #expect(recorded == nil)
    #expect(w.kops.invocations().isEmpty)
  }
}
