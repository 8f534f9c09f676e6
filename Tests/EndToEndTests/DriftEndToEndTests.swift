import Config
import Foundation
import HKTestSupport
import Model
import Store
import Testing

/// `hk drift` end to end: clusters created by the real hk binary through the kops double, the
/// real aws CLI against moto, a real SQLite file; changes made out of band with the double and
/// the aws CLI, as an operator would.
@Suite(.serialized) struct DriftEndToEndTests {
  // MARK: In sync

  @Test func justAppliedEnvironmentsAreInSyncAndDriftWritesOnlyReports() throws {
    let w = try World()
    let applied = try w.apply(["dev", "staging", "prod"])
    #expect(applied.exitCode == 0, "\(applied)")
    let store = try w.store()
    let before = try ["dev", "staging", "prod"].map { try (store.history($0).count, store.runs($0, limit: 50).count) }

    let r = try w.hk(["drift", "--format", "json", "--detailed-exitcode"])
    #expect(r.exitCode == 0, "\(r)")
    let envs = try DriftJSONView(r.stdout)
    #expect(envs.names == ["dev", "prod", "staging"])
    for e in envs.all {
      #expect(e["status"] == .string("in-sync"), "\(e.serialized(pretty: true))")
      #expect(e["drift"] == .array([]) && e["pending"] == .array([]) && e["error"] == .null)
    }
    #expect(envs["dev"]?["igw"]?["expected"] == .string("detached"))
    #expect(envs["dev"]?["igw"]?["actual"] == .string("detached"))
    #expect(envs["prod"]?["igw"] == .null)  // external-egress: no gateway to ask about

    // Nothing but one report per environment was written: no revision, no run, no lock.
    let after = try ["dev", "staging", "prod"].map { try (store.history($0).count, store.runs($0, limit: 50).count) }
    #expect(after.map(\.0) == before.map(\.0) && after.map(\.1) == before.map(\.1))
    #expect(try store.locks().isEmpty)
    #expect(try store.driftReports("dev", limit: 10).count == 1)
    #expect(try store.latestDriftReport("prod")?.status == "in-sync")

    let text = try w.hk(["drift"])
    #expect(text.exitCode == 0)
    #expect(text.stdout.hasSuffix("Drift: 0 drifted, 0 pending, 3 in sync, 0 errors (3 environments).\n"), "\(text)")
  }

  @Test func neverAppliedIsPendingWithoutAnyKopsCall() throws {
    let w = try World()
    let r = try w.hk(["drift", "staging", "--format", "json", "--detailed-exitcode"])
    #expect(r.exitCode == 2, "\(r)")
    let e = try #require(try DriftJSONView(r.stdout)["staging"])
    #expect(e["status"] == .string("pending"))
    #expect(e["pending"]?.arrayValue?.first?["path"] == .string("cluster[staging.k8s.corp.local]"))
    #expect(e["notes"]?.arrayValue?.first?.stringValue?.contains("never applied") == true)
    #expect(w.kops.invocations().isEmpty)
  }

  @Test func driftWorksWhileAnApplyHoldsTheLock() throws {
    let w = try World()
    #expect(try w.apply(["prod"]).exitCode == 0)
    let store = try w.store()
    let lock = try store.acquireLock("prod", actor: StoreActor(user: "ci", host: "runner-7", pid: 4242, command: "hk apply prod"))
    let r = try w.hk(["drift", "prod", "--detailed-exitcode"])
    #expect(r.exitCode == 0, "\(r)")
    #expect(r.stdout.contains("Environment prod (prod.k8s.corp.local; recorded serial 1): in sync"))
    #expect(try store.lock("prod")?.lockID == lock.lockID)
  }

  // MARK: Drifted

  @Test func anOutOfBandReplaceShowsExactlyThatField() throws {
    let w = try World()
    #expect(try w.apply(["prod"]).exitCode == 0)
    try w.changeLive("prod", version: "1.28.4") { $0.set(path: ["spec", "kubelet", "containerLogMaxFiles"], .int(7)) }

    let r = try w.hk(["drift", "prod", "--format", "json", "--detailed-exitcode"])
    #expect(r.exitCode == 2, "\(r)")
    let e = try #require(try DriftJSONView(r.stdout)["prod"])
    #expect(e["status"] == .string("drifted"))
    #expect(
      e["drift"]
        == .array([
          .obj([
            ("path", .string("spec.kubelet.containerLogMaxFiles")), ("recorded", .int(5)), ("live", .int(7)),
            ("new", .bool(true)),
          ])
        ]), "\(e.serialized(pretty: true))")
    #expect(e["pending"] == .array([]))

    // Without --detailed-exitcode drift is not an error.
    let again = try w.hk(["drift", "prod"])
    #expect(again.exitCode == 0, "\(again)")
    #expect(again.stdout.contains("~ spec.kubelet.containerLogMaxFiles: recorded 5 → live 7\n"), "\(again)")
    #expect(!again.stdout.contains("[new]"))
    #expect(again.stdout.contains("Drift: 1 drifted, 0 pending, 0 in sync, 0 errors (1 environment)."))

    // Markdown for a pull request or issue.
    let md = try w.hk(["drift", "prod", "--format", "markdown"])
    #expect(md.stdout.contains("<details><summary><b>prod</b> (prod.k8s.corp.local): drifted — 1 field</summary>"), "\(md)")

    // Each run was stored; --history lists them newest first.
    let history = try w.hk(["drift", "--history", "prod"])
    #expect(history.exitCode == 0, "\(history)")
    let rows = history.stdout.split(separator: "\n").dropFirst()
    #expect(rows.count == 3)
    #expect(rows.allSatisfy { $0.contains("drifted") })
    #expect(rows.last?.contains("drifted  1      1") == true, "\(history.stdout)")
  }

  @Test func anInstanceGroupChangedLiveIsDriftOfThatGroup() throws {
    let w = try World()
    #expect(try w.apply(["dev"]).exitCode == 0)
    try w.changeLiveInstanceGroup("dev", "nodes-ap-northeast-1c", version: "1.23.4") {
      $0.set(path: ["spec", "maxSize"], .int(9))
    }
    let r = try w.hk(["drift", "dev", "--format", "json"])
    #expect(r.exitCode == 0, "\(r)")
    let e = try #require(try DriftJSONView(r.stdout)["dev"])
    let drift = e["drift"]?.arrayValue ?? []
    #expect(drift.map { $0["path"] } == [.string("instancegroup[nodes-ap-northeast-1c].spec.maxSize")])
    #expect(drift.first?["recorded"] == .int(4) && drift.first?["live"] == .int(9))
  }

  @Test func aGatewayAttachedOutOfBandIsASecurityFinding() throws {
    let w = try World()
    #expect(try w.apply(["dev"]).exitCode == 0)
    let igw = try #require(w.igw["dev"])
    let vpc = try #require(w.vpc["dev"])
    try w.moto.attachInternetGateway(igw, vpc: vpc)

    let r = try w.hk(["drift", "dev", "--format", "json", "--detailed-exitcode"])
    #expect(r.exitCode == 2, "\(r)")
    let e = try #require(try DriftJSONView(r.stdout)["dev"])
    #expect(e["status"] == .string("drifted"))
    #expect(e["drift"] == .array([]))
    #expect(e["igw"]?["expected"] == .string("detached"))
    #expect(e["igw"]?["actual"] == .string("attached"))
    #expect(e["igw"]?["finding"] == .string("IGW attached outside an apply"))
    #expect(e["igw"]?["id"] == .string(igw))
    // drift only reads: the gateway is still attached
    #expect(try w.attachedVPCs("dev") == [vpc])

    let text = try w.hk(["drift", "dev"])
    #expect(text.stdout.contains("! IGW attached outside an apply: internet gateway \(igw) is attached to \(vpc)"), "\(text)")
    #expect(text.stdout.contains("Security:"))
  }

  // MARK: Ignore rules

  @Test func anIgnoreRuleSuppressesAFieldAndAnExpiredOneDoesNot() throws {
    let w = try World()
    #expect(try w.apply(["prod"]).exitCode == 0)
    try w.changeLive("prod", version: "1.28.4") {
      $0.set(path: ["spec", "kubernetesVersion"], .string("1.28.10"))
      $0.set(path: ["spec", "kubelet", "containerLogMaxFiles"], .int(7))
    }
    // Replace the sample's rules with one active and one expired rule.
    try w.edit("environments/prod/environment.yaml") { text in
      // drop the sample's `ignore:` block (the key and its indented lines), keep the rest
      var kept: [Substring] = []
      var inIgnore = false
      for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
        if line.hasPrefix("ignore:") {
          inIgnore = true
          continue
        }
        if inIgnore && (line.hasPrefix(" ") || line.hasPrefix("-")) { continue }
        inIgnore = false
        kept.append(line)
      }
      return kept.joined(separator: "\n") + "\n" + """
        ignore:
          - path: spec.kubernetesVersion
            reason: "the platform team patches control planes out of band"
            until: 2999-12-31
          - path: spec.kubelet.containerLogMaxFiles
            reason: "log retention experiment"
            until: 2001-01-31

        """
    }
    let r = try w.hk(["drift", "prod", "--format", "json"])
    #expect(r.exitCode == 0, "\(r)")
    let e = try #require(try DriftJSONView(r.stdout)["prod"])
    #expect(e["status"] == .string("drifted"))
    let drift = e["drift"]?.arrayValue ?? []
    #expect(drift.map { $0["path"] } == [.string("spec.kubelet.containerLogMaxFiles")], "\(e.serialized(pretty: true))")
    let ignored = e["ignored"]?.arrayValue ?? []
    #expect(ignored.count == 2)
    let active = ignored.first { $0["path"] == .string("spec.kubernetesVersion") }
    #expect(active?["reason"] == .string("the platform team patches control planes out of band"))
    #expect(active?["until"] == .string("2999-12-31") && active?["expired"] == .bool(false))
    let expired = ignored.first { $0["path"] == .string("spec.kubelet.containerLogMaxFiles") }
    #expect(expired?["expired"] == .bool(true) && expired?["until"] == .string("2001-01-31"))

    // With the kubelet rule active as well, the environment is in sync (ignored, with reasons).
    try w.edit("environments/prod/environment.yaml") { $0.replacingOccurrences(of: "2001-01-31", with: "2999-01-31") }
    let quiet = try w.hk(["drift", "prod", "--detailed-exitcode"])
    #expect(quiet.exitCode == 0, "\(quiet)")
    #expect(quiet.stdout.contains("in sync"))
    #expect(quiet.stdout.contains("= spec.kubernetesVersion: the platform team patches control planes out of band (until 2999-12-31)"))
  }

  // MARK: Errors and concurrency

  @Test func aWrongKopsVersionIsAnErrorOfThatEnvironmentOnly() throws {
    let w = try World()
    #expect(try w.apply(["dev", "prod"]).exitCode == 0)
    // dev now points at the 1.28 binary although its kopsVersion is 1.23.4
    try w.edit("environments/dev/environment.yaml") { $0.replacingOccurrences(of: "kops-1.23.4", with: "kops-1.28.4") }
    let r = try w.hk(["drift", "dev", "prod", "--format", "json", "--detailed-exitcode"])
    #expect(r.exitCode == 1, "\(r)")
    let envs = try DriftJSONView(r.stdout)
    #expect(envs["dev"]?["status"] == .string("error"))
    let message = envs["dev"]?["error"]?.stringValue ?? ""
    #expect(message.contains("kops 1.28.4 does not match the environment's kopsVersion 1.23.4"), "\(message)")
    #expect(message.contains("--kops-map"))
    #expect(envs["prod"]?["status"] == .string("in-sync"))
    // the version check comes first: dev never read objects with the wrong kops
    let devReads = w.kops.invocations().filter { $0.first == "get" && $0.contains("dev.k8s.corp.local") }
    let devReadsBefore = devReads.count
    _ = try w.hk(["drift", "dev"])
    #expect(w.kops.invocations().filter { $0.first == "get" && $0.contains("dev.k8s.corp.local") }.count == devReadsBefore)
  }

  @Test func twentyEnvironmentsInParallelWithOneFailing() throws {
    let w = try World()
    let names = (1...20).map { String(format: "p%02d", $0) }
    for name in names { try w.cloneProd(as: name) }
    let applied = try w.apply(names, timeout: 600)
    #expect(applied.exitCode == 0, "\(applied)")
    try w.edit("environments/p07/environment.yaml") { text in
      text.split(separator: "\n").map { $0.hasPrefix("kopsPath:") ? "kopsPath: /nonexistent/bin/kops" : String($0) }
        .joined(separator: "\n") + "\n"
    }
    let logStart = w.kops.logEntries().count
    w.faults["FAKE_KOPS_SLEEP"] = "0.3"  // long enough for the checks to overlap
    let r = try w.hk(["drift"] + names + ["--format", "json", "--parallel", "4"], timeout: 300)
    w.faults = [:]
    #expect(r.exitCode == 1, "\(r)")
    let envs = try DriftJSONView(r.stdout)
    #expect(envs.names == names.sorted())
    #expect(envs.all.count == 20)
    #expect(envs.all.filter { $0["status"] == .string("in-sync") }.count == 19)
    #expect(envs["p07"]?["status"] == .string("error"))
    let message = envs["p07"]?["error"]?.stringValue ?? ""
    #expect(message.contains("/nonexistent/bin/kops"), "\(message)")
    #expect(message.contains("--kops-map"), "\(message)")

    // At most 4 kops calls ran at once, and more than one did.
    var open = 0
    var peak = 0
    for entry in w.kops.logEntries().dropFirst(logStart) {
      open += entry["event"] == .string("start") ? 1 : -1
      peak = max(peak, open)
    }
    #expect(peak >= 2 && peak <= 4, "peak concurrency \(peak)")

    // One `kops version` for the kops binary the 19 share (asked once, answered to all), then
    // one read per environment.
    let calls = w.kops.logEntries().dropFirst(logStart).filter { $0["event"] == .string("start") }.map {
      ($0["argv"]?.arrayValue ?? []).compactMap(\.stringValue)
    }
    #expect(calls.filter { $0.first == "version" }.count == 1, "\(calls.map { $0.prefix(2).joined(separator: " ") })")
    #expect(calls.filter { $0.first == "get" }.count == 19)

    let text = try w.hk(["drift"] + names)
    #expect(text.stdout.contains("Drift: 0 drifted, 0 pending, 19 in sync, 1 error (20 environments)."), "\(text)")
  }
}

// MARK: Helpers

/// The `environments` of a drift JSON report, by name.
struct DriftJSONView {
  var all: [JSONValue]
  init(_ text: String) throws {
    let json = try JSONValue.parse(text)
    #expect(json["format_version"] == .string("1"))
    all = json["environments"]?.arrayValue ?? []
  }
  var names: [String] { all.compactMap { $0["name"]?.stringValue } }
  subscript(_ name: String) -> JSONValue? { all.first { $0["name"] == .string(name) } }
}

extension World {
  /// The state store of a sample (or cloned) environment.
  func stateStore(_ env: String) -> String { "s3://corp-kops-state-\(env)" }

  /// Reads the live Cluster through the double, changes it, and writes it back with
  /// `kops replace -f` (as an operator would, out of band).
  func changeLive(_ env: String, version: String, _ change: (inout YAMLNode) -> Void) throws {
    let name = "\(env).k8s.corp.local"
    let got = try kops.run(["get", "cluster", name, "--state", stateStore(env), "-o", "yaml"], env: ["FAKE_KOPS_VERSION": version])
    #expect(got.exitCode == 0, "\(got)")
    var cluster = try #require(try YAMLParser.parse(got.stdout, file: "live.yaml").first)
    change(&cluster)
    try replaceLive(YAMLEmitter.emit(cluster), env: env, version: version)
  }

  /// Same for one InstanceGroup.
  func changeLiveInstanceGroup(_ env: String, _ ig: String, version: String, _ change: (inout YAMLNode) -> Void) throws {
    let name = "\(env).k8s.corp.local"
    let got = try kops.run(
      ["get", "instancegroups", ig, "--name", name, "--state", stateStore(env), "-o", "yaml"], env: ["FAKE_KOPS_VERSION": version])
    #expect(got.exitCode == 0, "\(got)")
    var node = try #require(try YAMLParser.parse(got.stdout, file: "live.yaml").first)
    change(&node)
    try replaceLive(YAMLEmitter.emit(node), env: env, version: version)
  }

  func replaceLive(_ yaml: String, env: String, version: String) throws {
    let file = try dir.write("out-of-band-\(UUID().uuidString.prefix(8)).yaml", yaml)
    let replaced = try kops.run(["replace", "-f", file, "--state", stateStore(env)], env: ["FAKE_KOPS_VERSION": version])
    #expect(replaced.exitCode == 0, "\(replaced)")
  }

  /// Copies the prod sample to a new environment with its own cluster name and state store.
  func cloneProd(as name: String) throws {
    let fm = FileManager.default
    let source = root + "/environments/prod"
    let target = root + "/environments/" + name
    try fm.createDirectory(atPath: target, withIntermediateDirectories: true)
    for file in ["environment.yaml", "cluster.yaml"] {
      let text = try String(contentsOfFile: source + "/" + file, encoding: .utf8)
        .replacingOccurrences(of: "prod.k8s.corp.local", with: "\(name).k8s.corp.local")
        .replacingOccurrences(of: "corp-kops-state-prod", with: "corp-kops-state-\(name)")
      try text.write(toFile: target + "/" + file, atomically: true, encoding: .utf8)
    }
    try fm.createDirectory(atPath: kops.s3Root + "/corp-kops-state-\(name)", withIntermediateDirectories: true)
  }
}
