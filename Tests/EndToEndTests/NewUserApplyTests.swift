import Foundation
import HKTestSupport
import Model
import Store
import Testing

/// Issue 16 end to end: the AWS account kops acts in, clusters hk did not create, applying what
/// a merge changed, and reading the journal.
@Suite(.serialized) struct NewUserApplyTests {
  /// Every kops call (pre-flight, steps, drift's reads) gets the environment's profile and
  /// region, even when the shell names another account and region.
  @Test func everyKopsCallGetsTheEnvironmentsProfileAndRegion() throws {
    let w = try World()
    w.faults["AWS_PROFILE"] = "corp-prod"
    w.faults["AWS_REGION"] = "us-west-2"
    w.faults["AWS_DEFAULT_REGION"] = "us-west-2"
    #expect(try w.apply(["dev"]).exitCode == 0)
    let drift = try w.hk(["drift", "dev"])
    #expect(drift.exitCode == 0, "\(drift)")
    let starts = w.kops.logEntries().filter { $0["event"]?.stringValue == "start" }
    #expect(starts.count >= 6)
    let subcommands = Set(starts.compactMap { $0["argv"]?.arrayValue?.first?.stringValue })
    #expect(subcommands.isSuperset(of: ["version", "get", "create", "update", "validate"]), "\(subcommands)")
    for call in starts {
      let env = call["env"]
      #expect(env?["AWS_PROFILE"] == .string("corp-dev"), "\(call.serialized())")
      #expect(env?["AWS_REGION"] == .string("ap-northeast-1"), "\(call.serialized())")
      #expect(env?["AWS_DEFAULT_REGION"] == .string("ap-northeast-1"), "\(call.serialized())")
    }
  }

  /// An empty state against a live cluster already equal to git (another state tracks it, or
  /// the database was lost): apply refuses and points to import; `--adopt` records it.
  @Test func applyRefusesAClusterItDidNotCreateUnlessAdopting() throws {
    let w = try World()
    #expect(try w.apply(["dev"]).exitCode == 0)
    ImportEndToEndTests.forgetState(w)
    let creates = w.successfulCalls("create").count
    let refused = try w.apply(["dev"])
    #expect(refused.exitCode == 1, "\(refused)")
    #expect(refused.stdout.contains("apply refused"), "\(refused)")
    #expect(refused.stdout.contains("hk import dev"), "\(refused)")
    #expect(!refused.stdout.contains("interrupted"), "\(refused)")
    #expect(try w.store().recorded("dev") == nil)
    let adopted = try w.apply(["dev"], extra: ["--adopt"])
    #expect(adopted.exitCode == 0, "\(adopted)")
    #expect(adopted.stdout.contains("recording it (--adopt)"), "\(adopted)")
    #expect(!adopted.stdout.contains("interrupted"), "\(adopted)")
    #expect(w.successfulCalls("create").count == creates)
    #expect(try w.store().recorded("dev")?.serial == 1)

    // A crash between 'kops create' and recording it (journaled, nothing recorded) is still
    // recognised and recorded without --adopt.
    ImportEndToEndTests.forgetState(w)
    do {
      let store = try w.store()
      let actor = StoreActor(user: "t", host: "h", pid: 1, command: "hk apply dev")
      let run = try store.beginRun(environment: "dev", command: "hk apply dev", planID: nil, actor: actor)
      _ = try store.journalStepStarted(runID: run, stepID: 1, kind: "cluster-create", argv: ["kops", "create"])
      try store.close()
    }
    let resumed = try w.apply(["dev"])
    #expect(resumed.exitCode == 0, "\(resumed)")
    #expect(resumed.stdout.contains("an earlier apply was interrupted after 'kops create'"), "\(resumed)")
    #expect(w.successfulCalls("create").count == creates)
  }

  /// `hk apply --changed-since REF` applies only the environments the merge changed.
  @Test func applyChangedSinceAppliesWhatChanged() throws {
    let w = try World()
    #expect(try w.apply(["dev", "staging"]).exitCode == 0)
    let identity = ["GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@x"]
    func git(_ args: [String]) throws -> String {
      let r = try runProcess("/usr/bin/git", ["-C", w.root] + args, env: w.environment.merging(identity) { $1 })
      #expect(r.exitCode == 0, "\(r)")
      return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }
    // As in a real repository, the state file is ignored: hk refuses one tracked by git (#17).
    try "state/\n".write(toFile: w.root + "/.gitignore", atomically: true, encoding: .utf8)
    for args in [["init", "-q"], ["add", "-A"], ["commit", "-qm", "applied"]] { _ = try git(args) }
    let nothing = try w.apply([], extra: ["--changed-since", "HEAD"])
    #expect(nothing.exitCode == 0, "\(nothing)")
    #expect(nothing.stderr.contains("No environment changed since HEAD"), "\(nothing)")
    try w.edit("environments/staging/cluster.yaml") { $0.replacingOccurrences(of: "maxSize: 4", with: "maxSize: 6") }
    let r = try w.apply([], extra: ["--changed-since", "HEAD"])
    #expect(r.exitCode == 0, "\(r)")
    #expect(r.stdout.contains("Applying staging"), "\(r)")
    #expect(!r.stdout.contains("Applying dev"), "\(r)")
    #expect(!r.stdout.contains("Applying prod"), "\(r)")
    #expect(try w.store().recorded("prod") == nil)

    // Revisions record the git commit of the desired files (-dirty: they differed from it).
    let head = try git(["rev-parse", "HEAD"])
    #expect(try w.store().recorded("staging")?.gitCommit == head + "-dirty")
    #expect(try w.store().recorded("dev")?.gitCommit == nil)
    try w.edit("environments/staging/cluster.yaml") { $0.replacingOccurrences(of: "maxSize: 6", with: "maxSize: 7") }
    _ = try git(["commit", "-qam", "staging 7"])
    let clean = try git(["rev-parse", "HEAD"])
    #expect(try w.apply(["staging"]).exitCode == 0)
    #expect(try w.store().recorded("staging")?.gitCommit == clean)
    let shown = try w.hk(["state", "show", "staging"])
    #expect(shown.stdout.contains("# git commit of the desired files: \(clean)"), "\(shown)")
    let both = try w.hk(["apply", "--plan", "x.json", "--changed-since", "HEAD", "--yes"])
    #expect(both.exitCode == 64, "\(both)")
  }

  /// After a failed update the account says the gateway was detached and does not also list
  /// the detach among the steps not run.
  @Test func aFailedUpdateDoesNotListTheDetachAsNotRun() throws {
    let w = try World()
    w.faults["FAKE_KOPS_FAIL"] = "update"
    let r = try w.apply(["dev"])
    #expect(r.exitCode == 1, "\(r)")
    #expect(r.stdout.contains("was detached"), "\(r)")
    let notRun = r.stdout.split(separator: "\n").first { $0.contains("Not run:") }.map(String.init) ?? ""
    #expect(!notRun.contains("igw-detach"), "\(r)")
    #expect(try w.attachedVPCs("dev").isEmpty)

    // The journal of that run, as 'hk state show --run' prints it.
    let run = try #require(try w.store().runs("dev", limit: 1).first)
    let shown = try w.hk(["state", "show", "dev", "--run", String(run.id)])
    #expect(shown.exitCode == 0, "\(shown)")
    #expect(shown.stdout.contains("Run \(run.id) of dev: hk apply dev"), "\(shown)")
    #expect(shown.stdout.contains("result: failed"), "\(shown)")
    #expect(shown.stdout.contains("[1] cluster-create: succeeded, exit 0, "), "\(shown)")
    #expect(shown.stdout.contains("[3] kops-update: failed, exit 1, "), "\(shown)")
    #expect(shown.stdout.contains("update cluster dev.k8s.corp.local --state s3://corp-kops-state-dev --yes"), "\(shown)")
    #expect(shown.stdout.contains("| Error: fake-kops: injected failure of update call 1 (FAKE_KOPS_FAIL)"), "\(shown)")
    let missing = try w.hk(["state", "show", "dev", "--run", "999"])
    #expect(missing.exitCode == 1 && missing.stderr.contains("no run 999 of dev"), "\(missing)")
  }

  /// A missing kops is said once, before any plan is printed.
  @Test func aMissingKopsIsSaidOnceBeforeThePlan() throws {
    let w = try World()
    try w.edit("environments/dev/environment.yaml") { text in
      text.split(separator: "\n").filter { !$0.hasPrefix("kopsPath:") }.joined(separator: "\n") + "\n"
    }
    var env = w.environment
    env["PATH"] = "/usr/bin:/bin"
    let r = try runProcess(
      w.hk, ["apply", "dev", "--yes", "--root", w.root, "--state-db", w.stateDB], env: env, cwd: w.root, timeout: 60)
    #expect(r.exitCode == 1, "\(r)")
    #expect(!r.stdout.contains("Environment dev"), "\(r)")
    #expect(r.stderr.contains("kops not found on PATH"), "\(r)")
    #expect(r.stderr.components(separatedBy: "PATH=").count == 2, "\(r)")
    #expect(r.stderr.components(separatedBy: "install kops").count == 2, "\(r)")
    #expect(!FileManager.default.fileExists(atPath: w.stateDB))
  }
}
