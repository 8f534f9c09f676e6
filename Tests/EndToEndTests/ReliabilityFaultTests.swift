import Foundation
import HKTestSupport
import Model
import Store
import Testing

/// Issue 6, kops and aws faults: exit 1 at each kind of step, exit 255, a hang beyond the step
/// timeout, garbage YAML from `kops get`, the aws CLI missing or failing. Each must stop cleanly:
/// exit 1 with a next-step message, the failure in the journal, the gateway detached, the lock
/// released, no kops process left behind. The faults run as a chain on one environment (each
/// run gets one step further), and a last apply without faults must converge.
extension Reliability {
  @Suite(.serialized) struct Faults {
    /// A first apply, then the full plan (replace, create, resize, delete, gateway, update,
    /// roll, validate) with one fault per run.
    @Test func faultsAtEveryStepOfAnUpdateStopCleanlyAndLoseNothing() throws {
      let (w, name) = try Reliability.world.withNewEnvironment("fault")
      let base = try w.apply([name], env: ["HK_AWS": w.awsWrapper])
      try #require(base.exitCode == 0, "\(base)")
      try w.editForFullPlan(name)
      let chain: [FaultCase] = [
        FaultCase("garbage YAML from kops get", step: "preflight", env: ["FAKE_KOPS_GARBAGE": "get"], journal: nil),
        FaultCase(
          "kops replace (cluster) exit 1", step: "cluster-replace", env: ["FAKE_KOPS_FAIL": "replace:1"], journal: "cluster-replace"),
        FaultCase(
          "kops replace --force (new group) exit 1", step: "instancegroup-create", env: ["FAKE_KOPS_FAIL": "replace:2"],
          journal: "instancegroup-create"),
        FaultCase(
          "kops replace (group) exit 255", step: "instancegroup-replace", env: ["FAKE_KOPS_EXIT255": "replace:2"],
          journal: "instancegroup-replace"),
        FaultCase(
          "kops delete instancegroup exit 1", step: "instancegroup-delete", env: ["FAKE_KOPS_FAIL": "delete:1"],
          journal: "instancegroup-delete"),
        FaultCase(
          "aws attach-internet-gateway fails", step: "igw-attach", env: ["REL_MODE": "fail", "REL_MATCH": " attach-internet-gateway "],
          journal: "igw-attach"),
        // the kops-update step runs the dry run (call 1), then update --yes (call 2)
        FaultCase(
          "kops update (dry run) exit 1", step: "kops-update", env: ["FAKE_KOPS_FAIL": "update:1"], journal: "kops-update-dryrun"),
        FaultCase("kops update --yes exit 1", step: "kops-update", env: ["FAKE_KOPS_FAIL": "update:2"], journal: "kops-update"),
        FaultCase("kops update --yes exit 255", step: "kops-update", env: ["FAKE_KOPS_EXIT255": "update:2"], journal: "kops-update"),
        FaultCase(
          // The timeout holds every step of that run, the gateway's aws calls too: 8 s leaves
          // them room on a loaded 2-core runner (an attach took 3-5 s there), the hang never ends.
          "kops update hangs beyond --step-timeout", step: "kops-update", env: ["FAKE_KOPS_HANG": "update"],
          flags: ["--step-timeout", "8"],
          journal: "kops-update-dryrun"),
        FaultCase(
          "aws detach-internet-gateway fails once", step: "igw-detach",
          env: ["REL_MODE": "fail", "REL_MATCH": " detach-internet-gateway ", "REL_NTH": "1"], journal: "igw-detach"),
        FaultCase(
          "kops export kubeconfig exit 1", step: "rolling-update", env: ["FAKE_KOPS_FAIL": "export:1"], journal: "export-kubeconfig"),
        FaultCase(
          "kops rolling-update exit 1", step: "rolling-update", env: ["FAKE_KOPS_FAIL": "rolling-update:1"], journal: "rolling-update"),
        FaultCase(
          "kops validate never healthy", step: "validate", env: ["FAKE_KOPS_FAIL": "validate"], flags: ["--validate-timeout", "2"],
          journal: "validate"),
      ]
      var problems: [String] = []
      for (i, fault) in chain.enumerated() {
        let outcome = try fault.run(w: w, name: name, index: i)
        problems += outcome.map { "\(fault.label): \($0)" }
      }
      // Then: converged, and no non-idempotent step ran twice across the whole chain.
      let last = try w.apply([name], env: ["HK_AWS": w.awsWrapper])
      var o = CrashOutcome()
      o.check("last apply exit 0", last.exitCode == 0, "\(last)")
      CrashScenario(w: w, point: CrashPoint(kind: .none, step: "faults", match: "", next: nil, journalKind: ""), name: name)
        .convergence(&o, store: try w.store(), rollsBefore: 0, faultsInjected: true)
      ReliabilityReport.append(
        "faults-converged",
        [
          ("chain", .string("update chain (\(chain.count) faults)")), ("environment", .string(name)),
          ("converged", .bool(o.problems.isEmpty)), ("problems", .array(o.problems.map { .string(String($0.prefix(600))) })),
        ])
      problems += o.problems
      #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }

    /// A first apply with faults before and around the gateway: kops version, kops create, the
    /// aws CLI missing, aws exiting 255.
    @Test func faultsOfAFirstApplyStopCleanlyAndLoseNothing() throws {
      let (w, name) = try Reliability.world.withNewEnvironment("fault")
      let chain: [FaultCase] = [
        FaultCase("kops version exit 1", step: "preflight", env: ["FAKE_KOPS_FAIL": "version:1"], journal: "preflight-version"),
        FaultCase("kops create exit 1", step: "cluster-create", env: ["FAKE_KOPS_FAIL": "create:1"], journal: "cluster-create"),
        FaultCase(
          "the aws CLI missing", step: "igw-attach", env: ["HK_AWS": "/nonexistent/bin/aws"], journal: "igw-attach", gatewayIntentLeft: true
        ),
        FaultCase(
          "aws attach-internet-gateway exit 255", step: "igw-attach",
          env: ["REL_MODE": "exit255", "REL_MATCH": " attach-internet-gateway "],
          journal: "igw-attach"),
      ]
      var problems: [String] = []
      for (i, fault) in chain.enumerated() {
        problems += try fault.run(w: w, name: name, index: i).map { "\(fault.label): \($0)" }
      }
      let last = try w.apply([name], env: ["HK_AWS": w.awsWrapper])
      let plan = try w.hk(["plan", name, "--detailed-exitcode"], env: ["HK_AWS": w.awsWrapper])
      let drift = try w.hk(["drift", name, "--detailed-exitcode"], env: ["HK_AWS": w.awsWrapper])
      let attached = try w.attachedVPCs(name)
      let converged =
        last.exitCode == 0 && plan.exitCode == 0 && drift.exitCode == 0 && attached.isEmpty
        && w.kopsCalls(name).filter { $0.argv.first == "create" && $0.exit == 0 }.count == 1
      ReliabilityReport.append(
        "faults-converged",
        [("chain", .string("first-apply chain (\(chain.count) faults)")), ("environment", .string(name)), ("converged", .bool(converged))])
      if !converged { problems.append("did not converge: \(last)\n\(plan)\n\(drift)") }
      #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }
  }
}

/// One injected fault and what a clean stop means for it.
struct FaultCase {
  var label: String
  var step: String
  var env: [String: String]
  var flags: [String] = []
  /// The journal kind that must show the failure (nil: the run's message must say it).
  var journal: String?
  /// The aws CLI could not run at all, so the recorded gateway intent stays for the next apply
  /// to close (the gateway itself never got attached).
  var gatewayIntentLeft = false

  init(
    _ label: String, step: String, env: [String: String], flags: [String] = [], journal: String?, gatewayIntentLeft: Bool = false
  ) {
    self.label = label
    self.step = step
    self.env = env
    self.flags = flags
    self.journal = journal
    self.gatewayIntentLeft = gatewayIntentLeft
  }

  /// Runs the apply with the fault; returns the problems found (empty: a clean stop).
  func run(w: World, name: String, index: Int) throws -> [String] {
    let clock = ContinuousClock()
    let started = clock.now
    let dir = w.reliabilityDir + "/\(name)-\(index)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    var extra = ["HK_AWS": w.awsWrapper, "FAKE_KOPS_COUNTERS": dir + "/counters", "REL_DIR": dir]
    for (k, v) in env { extra[k] = v }
    let store = try w.store()
    let runsBefore = try store.runs(name, limit: 1).first?.id ?? 0
    let entriesBefore = w.kops.logEntries().count
    let r = try w.apply([name], env: extra, flags: flags)
    var problems: [String] = []
    func check(_ what: String, _ ok: Bool, _ detail: @autoclosure () -> String = "") -> Bool {
      if !ok { problems.append("\(what): \(detail())") }
      return ok
    }
    let exit1 = check("exit 1", r.exitCode == 1, "\(r)")
    let next = check("a next-step message", r.stdout.contains("Next:"), r.stdout)
    let run = try store.runs(name, limit: 1).first
    let recordedSteps = try run.map { try store.journal(runID: $0.id) } ?? []
    var journaled = check(
      "a new run recorded as failed", (run?.id ?? 0) > runsBefore && run?.result == .failed, "\(String(describing: run))")
    if let kind = journal {
      journaled =
        check(
          "the journal records the failed \(kind)",
          recordedSteps.contains { $0.kind == kind && ($0.status == .failed || $0.status == .interrupted) },
          recordedSteps.map { "\($0.kind) \($0.status.rawValue)" }.joined(separator: ", ")) && journaled
    } else {
      journaled = check("the run's message says why", !(run?.message ?? "").isEmpty, run?.message ?? "") && journaled
    }
    let attached = try w.attachedVPCs(name)
    let detached = check("gateway detached", attached.isEmpty, "\(attached)")
    let recorded = try store.recorded(name)
    if gatewayIntentLeft {
      let plan = try w.hk(["plan", name], env: ["HK_AWS": w.awsWrapper])
      _ = check("the next plan detaches first", plan.stdout.contains("left attached"), plan.stdout)
      _ = check("the account says the gateway may be attached", r.stdout.contains("may still be attached"), r.stdout)
    } else {
      _ = check("recorded gateway detached", recorded?.igwAttached != true, "")
    }
    let unlocked = check("lock released", (try store.lock(name)) == nil, "")
    // No kops call left running (a call without an end line must be gone).
    let entries = w.kops.logEntries()
    let ended = Set(entries.filter { $0["event"]?.stringValue == "end" }.compactMap { $0["pid"]?.intValue })
    let unfinished = entries.dropFirst(entriesBefore).filter { e in
      e["event"]?.stringValue == "start" && (e["argv"]?.arrayValue ?? []).contains(.string(w.stateStoreURL(name)))
        && !ended.contains(e["pid"]?.intValue ?? -1)
    }
    var alive = 0
    for e in unfinished {
      guard let pid = e["pid"]?.intValue, processIsRunning(pid_t(pid)) else { continue }
      alive += 1
      kill(pid_t(pid), SIGKILL)
    }
    let clean = check("no kops process left running", alive == 0, "\(alive) of \(unfinished.count) unfinished calls still alive")
    w.killHungWrappers(dir)
    let d = clock.now - started
    ReliabilityReport.append(
      "faults",
      [
        ("fault", .string(label)), ("step", .string(step)), ("exit", .int(Int64(r.exitCode))), ("exit1", .bool(exit1)),
        ("journal", .bool(journaled)), ("igwDetached", .bool(detached)), ("lockReleased", .bool(unlocked)), ("nextStep", .bool(next)),
        ("clean", .bool(clean)), ("ok", .bool(problems.isEmpty)), ("problems", .array(problems.map { .string(String($0.prefix(600))) })),
        ("seconds", .double((Double(d.components.seconds) * 10).rounded() / 10)),
      ])
    return problems
  }
}

/// Whether `pid` is a live process: it exists and is not a zombie (a killed child whose parent
/// died is reparented to pid 1, which in a container may never reap it).
func processIsRunning(_ pid: pid_t) -> Bool {
  guard kill(pid, 0) == 0 else { return false }
  guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
    let close = stat.range(of: ")", options: .backwards)
  else { return true }
  return !stat[close.upperBound...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
}
