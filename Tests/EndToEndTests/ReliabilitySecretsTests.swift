import Foundation
import HKTestSupport
import Model
import Store
import Testing

/// Issue 6, secrets: a proxy URL with credentials and token-like values in an IAM policy
/// condition never appear in plan output (text, markdown, json), saved plans (the file and the
/// database copy), apply output, the journal, run messages, revision notes, `hk state`, drift
/// reports (printed and stored) — through a first apply, an update, a failing apply and an
/// out-of-band change.
extension Reliability {
  @Suite(.serialized) struct Secrets {
    @Test func secretsNeverReachOutputJournalOrSavedPlans() throws {
      let (w, name) = try Reliability.world.withNewEnvironment("secret")
      var leak = SecretLeakCheck()
      let common = ["HK_AWS": w.awsWrapper]

      // Phase 1: the first apply, through a saved plan.
      var s = SecretValues(phase: "a")
      try w.edit("environments/\(name)/cluster.yaml") { s.install(in: $0) }
      for format in ["text", "markdown", "json"] {
        leak.scan("plan (\(format)), first apply", try w.hk(["plan", name, "--format", format], env: common), s)
      }
      let planFile = w.dir.path + "/\(name).plan.json"
      leak.scan("plan --out (output)", try w.hk(["plan", name, "--out", planFile], env: common), s)
      let saved = (try? String(contentsOfFile: planFile, encoding: .utf8)) ?? ""
      leak.scan("saved plan file", saved, s)
      leak.scan(
        "apply --plan (output)",
        try w.hk(["apply", "--plan", planFile, "--yes", "--validate-interval", "0.2", "--validate-timeout", "20"], env: common), s)
      let store = try w.store()
      // Saved under its plan_digest (the re-plan that ran equals the file).
      let planID = (try? JSONValue.parse(saved))?["plan_digest"]?.stringValue ?? ""
      leak.scan("saved plan in the database", try store.savedPlan(id: planID)?.planJSON ?? "", s)
      #expect(try store.savedPlan(id: planID) != nil, "the applied plan was not saved in the database")

      // Phase 2: new secret values: an update (before and after both hold secrets).
      let old = s
      s = SecretValues(phase: "b")
      try w.edit("environments/\(name)/cluster.yaml") { old.replace(with: s, in: $0) }
      for format in ["text", "markdown", "json"] {
        leak.scan("plan (\(format)), update", try w.hk(["plan", name, "--format", format], env: common), s, old)
      }
      leak.scan("apply (output), update", try w.apply([name], env: common), s, old)

      // Phase 3: a failing apply (kops update fails), then the apply that finishes it.
      let previous = s
      s = SecretValues(phase: "c")
      try w.edit("environments/\(name)/cluster.yaml") { previous.replace(with: s, in: $0) }
      let failing = try w.apply(
        [name], env: common.merging(["FAKE_KOPS_FAIL": "update", "FAKE_KOPS_COUNTERS": w.dir.path + "/\(name).counters"]) { $1 })
      #expect(failing.exitCode == 1, "\(failing)")
      leak.scan("apply (output), failing", failing, s, previous)
      leak.scan("apply (output), finishing", try w.apply([name], env: common), s, previous)

      // Phase 4: drift: the live cluster changed out of band to other secret values.
      let live = SecretValues(phase: "d")
      try w.changeLive(name, version: "1.23.4") { cluster in
        cluster.set(path: ["spec", "egressProxy", "httpProxy", "host"], .string(live.proxyURL))
        if let policy = cluster[path: "spec", "additionalPolicies", "node"]?.text {
          cluster.set(path: ["spec", "additionalPolicies", "node"], .string(s.replace(with: live, in: policy)))
        }
      }
      for format in ["text", "markdown", "json"] {
        let r = try w.hk(["drift", name, "--format", format], env: common)
        leak.scan("drift (\(format))", r, s, live)
        if format == "json" { #expect(r.stdout.contains("\"status\": \"drifted\""), "\(r)") }
      }
      leak.scan("drift --history", try w.hk(["drift", "--history", name, "--format", "json"], env: common), s, live)
      for report in try store.driftReports(name, limit: 50) { leak.scan("stored drift reports", report.reportJSON, s, live) }

      // Everything the database keeps about the runs (the recorded manifests themselves keep
      // the values: hk needs them to diff).
      let all = [SecretValues(phase: "a"), SecretValues(phase: "b"), s, live]
      for run in try store.runs(name, limit: 100) {
        leak.scan("run messages", run.message + "\n" + run.command, all)
        for entry in try store.journal(runID: run.id) {
          leak.scan("journal (argv)", entry.argv.joined(separator: " "), all)
          leak.scan("journal (output tails)", entry.outputTail, all)
        }
      }
      leak.scan("revision notes", try store.history(name).map(\.note).joined(separator: "\n"), all)
      leak.scan("hk state show", try w.hk(["state", "show", name], env: common), all)
      leak.scan("hk state history", try w.hk(["state", "history", name], env: common), all)

      for (surface, found) in leak.surfaces {
        ReliabilityReport.append(
          "secrets",
          [("surface", .string(surface)), ("checked", .int(Int64(found.checked))), ("leaks", .array(found.leaks.map { .string($0) }))])
      }
      let leaks = leak.surfaces.filter { !$0.value.leaks.isEmpty }
      #expect(leaks.isEmpty, "\(leaks.map { "\($0.key): \($0.value.leaks)" }.joined(separator: "\n"))")
    }
  }
}

/// One set of secret values, unique per phase: proxy credentials in a URL, and two token-like
/// values in an IAM policy condition (one under a key named like a token, one a GitHub-style
/// token under a plain key).
struct SecretValues {
  var phase: String
  var proxyPassword: String { "Pr0xyPassw0rd\(phase)Zq" }
  var proxyURL: String { "http://hkproxy:\(proxyPassword)@proxy.corp.local" }
  var namedToken: String { "tok-\(phase)8f3a2c9d7e6b5a41" }
  var githubToken: String { "ghp_\(phase)R3l1ab1l1tyT0k3nV4lu3abcdefghijklmn".prefix(40).description }
  var all: [(String, String)] { [("proxy password", proxyPassword), ("named token", namedToken), ("ghp token", githubToken)] }

  /// Adds the proxy and the policy to an environment's cluster.yaml (the dev layout: the
  /// Cluster document comes first).
  func install(in text: String) -> String {
    let policy =
      "  additionalPolicies:\n    node: |\n"
      + "      [{\"Effect\": \"Allow\", \"Action\": [\"logs:CreateLogStream\", \"logs:PutLogEvents\"], \"Resource\": [\"*\"],\n"
      + "        \"Condition\": {\"StringEquals\": {\"aws:RequestTag/deploy-token\": \"\(namedToken)\", \"aws:PrincipalTag/ci\": \"\(githubToken)\"}}}]\n"
    return Self.replacingFirst(
      "  subnets:\n", with: policy + "  subnets:\n",
      in: Self.replacingFirst(
        "  egressProxy:\n", with: "  egressProxy:\n    httpProxy:\n      host: \(proxyURL)\n      port: 3128\n", in: text))
  }

  static func replacingFirst(_ target: String, with replacement: String, in text: String) -> String {
    guard let r = text.range(of: target) else { return text }
    return text.replacingCharacters(in: r, with: replacement)
  }

  /// `text` with this phase's values replaced by `other`'s.
  func replace(with other: SecretValues, in text: String) -> String {
    text.replacingOccurrences(of: proxyPassword, with: other.proxyPassword).replacingOccurrences(of: namedToken, with: other.namedToken)
      .replacingOccurrences(of: githubToken, with: other.githubToken)
  }
}

/// Collects, per surface, which secret values appeared.
struct SecretLeakCheck {
  var surfaces: [String: (checked: Int, leaks: [String])] = [:]

  mutating func scan(_ surface: String, _ result: ProcessResult, _ values: SecretValues...) {
    scan(surface, result.stdout + "\n" + result.stderr, values)
  }

  mutating func scan(_ surface: String, _ text: String, _ values: SecretValues...) { scan(surface, text, values) }

  mutating func scan(_ surface: String, _ result: ProcessResult, _ values: [SecretValues]) {
    scan(surface, result.stdout + "\n" + result.stderr, values)
  }

  mutating func scan(_ surface: String, _ text: String, _ values: [SecretValues]) {
    var entry = surfaces[surface] ?? (0, [])
    entry.checked += 1
    for v in values {
      for (what, secret) in v.all where text.contains(secret) {
        let label = "\(what) (\(v.phase))"
        if !entry.leaks.contains(label) { entry.leaks.append(label) }
      }
    }
    surfaces[surface] = entry
  }
}

/// The token shapes the redaction recognises without a secret-named key, and look-alikes it
/// must leave alone (digests, AMI paths, EC2 ids appear in every plan).
@Suite struct ReliabilityTokenShapeTests {
  @Test(arguments: [
    ("ghp_0123456789abcdefghijklmnopqrstuvwxyz", true), ("github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", true),
    ("xoxb-1234567890-abcdefghij", true), ("AKIAIOSFODNN7EXAMPLE", true), ("glpat-abcdefghij0123456789", true),
    ("hvs.CAESIJ0123456789abcdefghijklmn", true),
    ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", true),
    ("ghp_short", false), ("xghp_0123456789abcdefghijklmnopqrstuvwxyz", false), ("AKIAIOSFODNN7EXAMPLEX", false),
    ("sha256:977934124fe1407e5a940fb1e573415d4014c0cbde0c39134615194308a5aa99", false),
    ("099720109477/ubuntu/images/hvm-ssd/ubuntu-focal-20.04-amd64-server-20230112", false), ("eyJhbGciOiJIUzI1NiJ9", false),
    ("igw-0a1b2c3d4e5f60718", false), ("i-0abcdef1234567890", false), ("tasks_live_0123456789abcdefghij", false),
  ])
  func tokenShapes(value: String, secret: Bool) {
    let text = "condition=\(value) end"
    let r = Redaction.redact(text: text)
    #expect(r == (secret ? "condition=\(Redaction.mask) end" : text))
    let json = Redaction.redact(JSONValue.obj([("aws:PrincipalTag/ci", .string(value))]))
    #expect((json["aws:PrincipalTag/ci"]?.stringValue == Redaction.mask) == secret)
  }

  @Test func aPolicyInsideAYAMLStringIsRedactedAsJSON() throws {
    let node = YAMLNode.mapping([
      YAMLPair(key: "node", value: .string(#"[{"Condition": {"StringEquals": {"aws:RequestTag/deploy-token": "abc123", "x": "y"}}}]"#))
    ])
    let r = Redaction.redact(node)["node"]?.stringValue ?? ""
    #expect(!r.contains("abc123"))
    #expect(r.contains("\"x\":\"y\""))
  }
}
