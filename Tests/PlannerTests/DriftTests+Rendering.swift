import Config
import Foundation
import Model
import Planner
import Testing

/// The drift JSON contract (DESIGN.md §6) and the text and markdown renderers.
extension DriftTests {
  // MARK: JSON contract

  static func sampleReport() -> DriftReport {
    DriftReport(environments: [
      EnvironmentDrift(
        name: "prod", cluster: "prod.k8s.corp.local", recorded: PriorState(serial: 7, lineage: "lin"),
        drift: [Self.item("spec.kubelet.containerLogMaxFiles", .int(5), .int(7), new: true)],
        pending: [PendingItem(category: "spec", action: "update", path: "spec.egressProxy.excludes")],
        gateway: GatewayCheck(id: "igw-1", vpc: "vpc-1", expected: .detached, actual: .attached, isNew: true),
        ignored: [
          IgnoredField(path: "spec.kubernetesVersion", rule: "spec.kubernetesVersion", reason: "oob", until: "2027-01-31", expired: false)
        ]),
      EnvironmentDrift(name: "dev", cluster: "dev.k8s.corp.local", error: "kops 1.28.4 does not match kopsVersion 1.23.4"),
      EnvironmentDrift(name: "staging", cluster: "staging.k8s.corp.local", recorded: PriorState(serial: 2, lineage: "l2")),
    ])
  }

  @Test func jsonHasTheContractShape() throws {
    let json = try JSONValue.parse(DriftJSON.render(Self.sampleReport()))
    #expect(json["format_version"] == .string("1"))
    let envs = try #require(json["environments"]?.arrayValue)
    #expect(envs.count == 3)
    let prod = envs[0]
    let keys = (prod.members ?? []).map(\.key)
    #expect(Array(keys.prefix(7)) == ["name", "status", "drift", "pending", "igw", "ignored", "error"])
    #expect(prod["name"] == .string("prod"))
    #expect(prod["status"] == .string("drifted"))
    let drift = try #require(prod["drift"]?.arrayValue?.first)
    #expect(Array((drift.members ?? []).map(\.key).prefix(4)) == ["path", "recorded", "live", "new"])
    #expect(drift["path"] == .string("spec.kubelet.containerLogMaxFiles"))
    #expect(drift["recorded"] == .int(5) && drift["live"] == .int(7) && drift["new"] == .bool(true))
    let pending = try #require(prod["pending"]?.arrayValue?.first)
    #expect(pending["category"] == .string("spec") && pending["path"] == .string("spec.egressProxy.excludes"))
    let igw = try #require(prod["igw"])
    #expect(Array((igw.members ?? []).map(\.key).prefix(3)) == ["expected", "actual", "finding"])
    #expect(igw["expected"] == .string("detached") && igw["actual"] == .string("attached"))
    #expect(igw["finding"] == .string("IGW attached outside an apply"))
    let ignored = try #require(prod["ignored"]?.arrayValue?.first)
    #expect(Array((ignored.members ?? []).map(\.key).prefix(4)) == ["path", "reason", "until", "expired"])
    #expect(ignored["until"] == .string("2027-01-31") && ignored["expired"] == .bool(false))
    #expect(prod["error"] == .null)

    #expect(envs[1]["status"] == .string("error"))
    #expect(envs[1]["error"]?.stringValue?.contains("kopsVersion") == true)
    #expect(envs[1]["igw"] == .null)
    #expect(envs[2]["status"] == .string("in-sync"))
    #expect(envs[2]["drift"] == .array([]) && envs[2]["pending"] == .array([]) && envs[2]["ignored"] == .array([]))
    #expect(json["summary"]?["drifted"] == .int(1) && json["summary"]?["errors"] == .int(1) && json["summary"]?["in_sync"] == .int(1))
  }

  @Test func storedEntryRoundTrips() throws {
    for e in Self.sampleReport().environments {
      let decoded = try DriftJSON.decodeEnvironment(DriftJSON.encode(e).serialized())
      #expect(decoded == e)
    }
  }

  @Test func damagedStoredEntryIsAnErrorNotACrash() {
    #expect(throws: DriftJSON.DecodeError.self) { try DriftJSON.decodeEnvironment("{not json") }
    #expect(throws: DriftJSON.DecodeError.self) { try DriftJSON.decodeEnvironment("[1,2]") }
  }

  // MARK: Renderers

  @Test func textGroupsPerEnvironmentAndEndsWithTheSummary() throws {
    let text = DriftRenderer().text(Self.sampleReport())
    #expect(text.contains("Drift: 1 drifted, 0 pending, 1 in sync, 1 error (3 environments)."))
    #expect(text.contains("Environment prod (prod.k8s.corp.local; recorded serial 7): drifted"))
    #expect(text.contains("~ spec.kubelet.containerLogMaxFiles: recorded 5 → live 7  [new]"))
    #expect(text.contains("! IGW attached outside an apply"))
    #expect(text.contains("= spec.kubernetesVersion: oob (until 2027-01-31)"))
    #expect(text.contains("Environment dev (dev.k8s.corp.local; nothing recorded): error"))
    #expect(text.contains("Environment staging (staging.k8s.corp.local; recorded serial 2): in sync"))
    #expect(text.contains("Security:"))
    #expect(!text.contains("\u{1B}["))
    let prodAt = try #require(text.range(of: "Environment prod")?.lowerBound)
    let devAt = try #require(text.range(of: "Environment dev")?.lowerBound)
    #expect(prodAt < devAt)
  }

  @Test func textColoursOnlyWhenAsked() {
    let coloured = DriftRenderer(color: true).text(Self.sampleReport())
    #expect(coloured.contains("\u{1B}[31mdrifted\u{1B}[0m"))
    #expect(coloured.contains("\u{1B}[32min sync\u{1B}[0m"))
  }

  @Test func summaryCountsPlurals() {
    let one = DriftReport(environments: [EnvironmentDrift(name: "a", cluster: nil)])
    #expect(DriftRenderer().summary(one) == "Drift: 0 drifted, 0 pending, 1 in sync, 0 errors (1 environment).")
  }

  @Test func markdownHasADetailsBlockPerEnvironment() throws {
    let parts = DriftRenderer().markdown(Self.sampleReport())
    #expect(parts.count == 1)
    let md = try #require(parts.first)
    #expect(md.hasPrefix("## hk drift\n\nDrift: 1 drifted, 0 pending, 1 in sync, 1 error (3 environments)."))
    #expect(md.components(separatedBy: "<details>").count - 1 == 3)
    #expect(md.components(separatedBy: "</details>").count - 1 == 3)
    #expect(md.contains("<summary><b>prod</b> (prod.k8s.corp.local): drifted — 1 field, IGW finding, 2 new</summary>"))
    #expect(md.contains("**Security findings**"))
    #expect(md.contains("```diff\n~ spec.kubelet.containerLogMaxFiles: recorded 5 → live 7  [new]\n```"))
    #expect(!md.contains("\u{1B}["))
  }

  /// A report too large for one pull-request comment is split between environments into parts
  /// under the limit, each numbered; every environment appears once, whole.
  @Test func largeMarkdownIsSplitIntoCommentSizedParts() throws {
    let envs = (0..<400).map { i in
      EnvironmentDrift(
        name: "env-\(i)", cluster: "env-\(i).k8s.corp.local", recorded: PriorState(serial: 3, lineage: "lin"),
        drift: (0..<8).map { j in
          Self.item("spec.subnets[name=private-\(j)].cidr", .string("10.\(j).0.0/19"), .string("10.\(j).32.0/19"), new: true)
        })
    }
    let parts = DriftRenderer().markdown(DriftReport(environments: envs))
    #expect(parts.count > 1)
    for (i, part) in parts.enumerated() {
      #expect(part.count < MarkdownParts.limit)
      #expect(part.hasPrefix("*Part \(i + 1) of \(parts.count)*"))
      #expect(part.components(separatedBy: "<details>").count == part.components(separatedBy: "</details>").count)
    }
    #expect(parts[0].contains("## hk drift"))
    let all = parts.joined()
    for i in 0..<400 { #expect(all.components(separatedBy: "<summary><b>env-\(i)</b>").count == 2) }
    // Small limits split too, and a section larger than a whole part is cut with a pointer.
    let small = DriftRenderer().markdown(DriftReport(environments: Array(envs.prefix(3))), sectionLimit: 100_000, partLimit: 700)
    #expect(small.count >= 3)
    #expect(small.joined().contains("see `hk drift --format json` for the full report"))
  }

  @Test func markdownEscapesHTML() {
    let report = DriftReport(environments: [EnvironmentDrift(name: "a", cluster: nil, error: "<script>x</script>")])
    let md = DriftRenderer().markdown(report).joined()
    #expect(!md.contains("<script>"))
    #expect(md.contains("&#60;script&#62;"))
  }

  // MARK: Golden files

  /// The four shapes of a drift report, each evaluated from a sample environment: in sync (prod,
  /// just applied), drifted (dev: a field changed live and the gateway attached outside an
  /// apply), unreachable (staging: kops could not be asked) and the gateway bracket (dev with a
  /// desired change: pending lists the change, never the attach/detach bracket around it;
  /// staging with the bracket left open by an interrupted apply: the detach is pending, no finding).
  static func goldenReports() throws -> [String: DriftReport] {
    let prod = try sample("prod")
    let dev = try sample("dev")
    let staging = try sample("staging")
    let vpc = try #require(dev.clusterView.networkID)
    let today = "2026-01-01"
    let inSync = DriftEvaluator.evaluate(
      prod, recorded: recorded(prod), observation: observe(prod, attachments: []), previous: nil, today: today)
    let drifted = DriftEvaluator.evaluate(
      dev, recorded: recorded(dev),
      observation: observe(dev, attachments: [vpc]) { $0.set(path: ["spec", "kubernetesVersion"], .string("1.23.99")) },
      previous: nil, today: today)
    let unreachable = DriftEvaluator.failure(
      name: staging.name, cluster: staging.settings.cluster,
      message: "'kops get all --name staging.k8s.corp.local -o yaml' failed: dial tcp: lookup s3.amazonaws.com: no such host",
      recorded: recorded(staging))
    var changed = dev
    changed.setCluster("spec.kubelet.containerLogMaxFiles", .int(9))
    let bracket = DriftEvaluator.evaluate(
      changed, recorded: recorded(dev), observation: observe(dev, attachments: []), previous: nil, today: today)
    let stagingVPC = try #require(staging.clusterView.networkID)
    let leftOpen = DriftEvaluator.evaluate(
      staging, recorded: recorded(staging, igwAttached: true), observation: observe(staging, attachments: [stagingVPC]),
      previous: nil, today: today)
    return [
      "in-sync": DriftReport(environments: [inSync]),
      "drifted": DriftReport(environments: [drifted]),
      "unreachable": DriftReport(environments: [unreachable]),
      "gateway-bracket": DriftReport(environments: [bracket, leftOpen]),
    ]
  }

  @Test(arguments: ["in-sync", "drifted", "unreachable", "gateway-bracket"])
  func goldenDriftRendering(_ name: String) throws {
    let report = try #require(try Self.goldenReports()[name])
    try golden.check(DriftRenderer().text(report), named: "drift-\(name).txt")
    try golden.check(DriftRenderer().markdown(report).joined(separator: "\n---\n"), named: "drift-\(name).md")
    try golden.check(DriftJSON.render(report), named: "drift-\(name).json")
  }
}
