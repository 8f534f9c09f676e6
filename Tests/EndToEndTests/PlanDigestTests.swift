import Foundation
import HKTestSupport
import Model
import Planner
import Store
import Testing

/// What was reviewed is what runs (DESIGN.md §3): `hk apply --plan FILE` and `--expect-digest`
/// re-plan and compare digests, and never execute an argv read from a file. End to end: the real
/// hk binary, the kops double as a separate process, the real aws CLI against moto, real SQLite.
@Suite(.serialized) struct PlanDigestTests {
  /// Saves `hk plan dev --out`, returns the file's path and its JSON.
  func savedPlan(_ w: World, _ name: String = "dev.plan.json", extra: [String] = []) throws -> (String, JSONValue) {
    let path = w.dir.path + "/" + name
    let r = try w.hk(["plan", "dev", "--out", path] + extra)
    #expect(r.exitCode == 0, "\(r)")
    return (path, try JSONValue.parse(String(contentsOfFile: path, encoding: .utf8)))
  }

  /// Replaces `environments[0][key]` of a plan, optionally re-computing the file's plan_digest
  /// as an attacker who read DESIGN.md would.
  func edited(_ plan: JSONValue, _ key: String, recomputeDigest: Bool, _ change: (JSONValue) -> JSONValue) -> JSONValue {
    guard case .object(var top) = plan, let i = top.firstIndex(where: { $0.key == "environments" }),
      var envs = top[i].value.arrayValue, case .object(var env) = envs[0], let k = env.firstIndex(where: { $0.key == key })
    else {
      Issue.record("unexpected plan shape")
      return plan
    }
    env[k].value = change(env[k].value)
    envs[0] = .object(env)
    top[i].value = .array(envs)
    if recomputeDigest, let d = top.firstIndex(where: { $0.key == "plan_digest" }) {
      top[d].value = .string(PlanDigest.digest(environmentEntries: envs))
    }
    return .object(top)
  }

  func write(_ plan: JSONValue, to path: String) throws {
    try plan.serialized(pretty: true).write(toFile: path, atomically: true, encoding: .utf8)
  }

  /// Nothing ran and nothing was recorded.
  func expectNothingRan(_ w: World, _ r: ProcessResult, sourceLocation: SourceLocation = #_sourceLocation) throws {
    #expect(r.exitCode == 1, "\(r)", sourceLocation: sourceLocation)
    #expect(w.kops.invocations().isEmpty, "kops ran: \(w.kops.invocations())", sourceLocation: sourceLocation)
    let recorded = FileManager.default.fileExists(atPath: w.stateDB) ? try w.store().recorded("dev") : nil
    #expect(recorded == nil, sourceLocation: sourceLocation)
    #expect(try w.attachedVPCs("dev").isEmpty, sourceLocation: sourceLocation)
  }

  @Test func theDigestIsPrintedUnderEveryFormatAndIsTheSame() throws {
    let w = try World()
    let json = try JSONValue.parse(try w.hk(["plan", "dev", "--format", "json"]).stdout)
    let digest = try #require(json["plan_digest"]?.stringValue)
    #expect(PlanDigest.isWellFormed(digest))
    // one environment: its entry's digest is the plan's
    #expect(json["environments"]?.arrayValue?.first?["plan_digest"]?.stringValue == digest)
    #expect(try w.hk(["plan", "dev"]).stdout.contains("plan_digest: \(digest)\n"))
    #expect(try w.hk(["plan", "dev", "--format", "markdown"]).stdout.contains("`plan_digest: \(digest)`"))
    // Plans name kops and aws, never this machine's paths (kopsPath is set in the World).
    let text = try w.hk(["plan", "dev"]).stdout
    #expect(text.contains(". kops create -f "), "\(text)")
    #expect(!text.contains(w.dir.path), "\(text)")
    #expect(!json.serialized().contains(w.dir.path))
  }

  /// The attack of issue 13: a step's command edited to a shell. Refused whether or not the
  /// attacker also re-computes plan_digest; the shell never runs.
  @Test func anEditedArgvIsRefusedAndNeverRuns() throws {
    let w = try World()
    let (path, plan) = try savedPlan(w)
    let marker = w.dir.path + "/MARKER"
    let evil: (JSONValue) -> JSONValue = { steps in
      guard case .array(var items) = steps, case .object(var first) = items[0],
        let c = first.firstIndex(where: { $0.key == "command" })
      else { return steps }
      first[c].value = .array(["/bin/sh", "-c", "touch \(marker)"].map(JSONValue.string))
      items[0] = .object(first)
      return .array(items)
    }
    for recompute in [false, true] {
      try write(edited(plan, "steps", recomputeDigest: recompute, evil), to: path)
      let r = try w.apply([], extra: ["--plan", path])
      try expectNothingRan(w, r)
      #expect(!FileManager.default.fileExists(atPath: marker))
      #expect(r.stderr.contains("nothing was run"), "\(r)")
      #expect(r.stderr.contains(recompute ? "dev: the steps differ" : "edited after hk wrote it"), "\(r.stderr)")
      #expect(r.stderr.split(separator: "\n").filter { !$0.hasPrefix("hk: ") }.count == 1, "\(r.stderr)")
    }
  }

  @Test func anEditedChangeIsRefused() throws {
    let w = try World()
    let (path, plan) = try savedPlan(w)
    let plan2 = edited(plan, "changes", recomputeDigest: true) { changes in
      guard case .array(var items) = changes, case .object(var first) = items[0],
        let a = first.firstIndex(where: { $0.key == "path" })
      else { return changes }
      first[a].value = .string("spec.somethingHarmless")
      items[0] = .object(first)
      return .array(items)
    }
    try write(plan2, to: path)
    let r = try w.apply([], extra: ["--plan", path])
    try expectNothingRan(w, r)
    #expect(r.stderr.contains("dev: the changes differ"), "\(r.stderr)")
  }

  @Test func aReorderedStepIsRefused() throws {
    let w = try World()
    let (path, plan) = try savedPlan(w)
    let plan2 = edited(plan, "steps", recomputeDigest: true) { steps in
      guard case .array(var items) = steps, items.count > 2 else { return steps }
      items.swapAt(1, 2)
      return .array(items)
    }
    try write(plan2, to: path)
    let r = try w.apply([], extra: ["--plan", path])
    try expectNothingRan(w, r)
    #expect(r.stderr.contains("dev: the steps differ"), "\(r.stderr)")
  }

  /// A plan made on a laptop (another kops path) has the same digest and runs with the
  /// applying machine's kops.
  @Test func aPlanMadeWithAnotherKopsPathRunsWithThisMachinesKops() throws {
    let w = try World()
    // dev resolves kops from --kops here (no kopsPath in its environment.yaml).
    let wrapper = try #require(
      try String(contentsOfFile: w.root + "/environments/dev/environment.yaml", encoding: .utf8)
        .split(separator: "\n").first { $0.hasPrefix("kopsPath: ") }?.dropFirst("kopsPath: ".count))
    try w.edit("environments/dev/environment.yaml") { $0.replacingOccurrences(of: "kopsPath: \(wrapper)\n", with: "") }
    let (laptop, plan) = try savedPlan(w, "laptop.json", extra: ["--kops", "/Users/someone/bin/kops"])
    let (_, here) = try savedPlan(w, "runner.json", extra: ["--kops", String(wrapper)])
    #expect(plan["plan_digest"] == here["plan_digest"])
    #expect(!plan.serialized().contains("/Users/someone"))
    // A plan that names the laptop's kops (as older hk wrote them) is another plan: refused.
    let named = edited(plan, "steps", recomputeDigest: true) { steps in
      .array(
        (steps.arrayValue ?? []).map { step in
          guard case .object(var m) = step, let c = m.firstIndex(where: { $0.key == "command" }), case .array(var argv) = m[c].value,
            argv.first == .string("kops")
          else { return step }
          argv[0] = .string("/Users/someone/bin/kops")
          m[c].value = .array(argv)
          return .object(m)
        })
    }
    try write(named, to: w.dir.path + "/named.json")
    let refused = try w.apply([], extra: ["--plan", w.dir.path + "/named.json", "--kops", String(wrapper)])
    try expectNothingRan(w, refused)
    #expect(refused.stderr.contains("dev: the steps differ"), "\(refused.stderr)")
    let r = try w.apply([], extra: ["--plan", laptop, "--kops", String(wrapper)])
    #expect(r.exitCode == 0, "\(r)")
    #expect(w.successfulCalls("create").count == 1)
    #expect(try w.store().recorded("dev")?.serial == 1)
  }

  @Test func aStalePlanIsRefusedAndTheExpectedDigestBindsTheReview() throws {
    let w = try World()
    let (path, _) = try savedPlan(w)
    let reviewed = try #require(try JSONValue.parse(try w.hk(["plan", "dev", "--format", "json"]).stdout)["plan_digest"]?.stringValue)
    // A wrong digest (another review) is refused with the digest of now.
    let other = "sha256:" + String(repeating: "0", count: 64)
    let wrong = try w.apply(["dev"], extra: ["--expect-digest", other])
    try expectNothingRan(w, wrong)
    #expect(wrong.stderr.contains("has digest \(reviewed), not the expected \(other)"), "\(wrong.stderr)")
    #expect(try w.apply(["dev"], extra: ["--expect-digest", "nonsense"]).exitCode == 64)
    // The reviewed digest applies.
    let ok = try w.apply(["dev"], extra: ["--expect-digest", reviewed])
    #expect(ok.exitCode == 0, "\(ok)")
    let calls = w.kops.invocations().count
    // Now both the file and the digest are stale: refused, nothing more runs.
    let stale = try w.apply([], extra: ["--plan", path])
    #expect(stale.exitCode == 1)
    #expect(stale.stderr.contains("stale"))
    #expect(stale.stderr.contains("dev: recorded state moved from empty state to serial 1"), "\(stale.stderr)")
    let again = try w.apply(["dev"], extra: ["--expect-digest", reviewed])
    #expect(again.exitCode == 1)
    #expect(again.stderr.contains("not the expected \(reviewed)"))
    #expect(w.kops.invocations().count == calls)
    #expect(try w.store().recorded("dev")?.serial == 1)
  }

  @Test func badPlanFilesAreOneClearLineAndRunNothing() throws {
    let w = try World()
    let (path, plan) = try savedPlan(w)
    let text = plan.serialized(pretty: true)
    let otherVersion = text.replacingOccurrences(of: "\"format_version\" : \"1\"", with: "\"format_version\" : \"2\"")
      .replacingOccurrences(of: "\"format_version\": \"1\"", with: "\"format_version\": \"2\"")
    #expect(otherVersion != text)
    let unknown = text.replacingOccurrences(of: "\"name\": \"dev\"", with: "\"name\": \"nosuchenv\"")
      .replacingOccurrences(of: "\"name\" : \"dev\"", with: "\"name\" : \"nosuchenv\"")
    #expect(unknown != text)
    let cases: [(String, String)] = [
      ("not a plan file\n", "invalid JSON"),
      (String(text.prefix(text.count / 2)), "invalid JSON"),
      (otherVersion, "format_version \"2\""),
      (unknown, "nosuchenv"),
      ("", "invalid JSON"),
      ("{\"format_version\": \"1\", \"environments\": [{\"name\": \"dev\"}]}", "lacks name, cluster or desired_digest"),
    ]
    for (content, message) in cases {
      try content.write(toFile: path, atomically: true, encoding: .utf8)
      let r = try w.apply([], extra: ["--plan", path])
      try expectNothingRan(w, r)
      #expect(r.stderr.contains(message), "\(r.stderr)")
      #expect(r.stderr.split(separator: "\n").filter { !$0.hasPrefix("hk: ") }.count == 1, "\(r.stderr)")
    }
  }
}
