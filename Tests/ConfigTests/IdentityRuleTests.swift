import Model
import Testing

@testable import Config

/// Issue 16: a hybrid cluster with no way out, and an environment copied from another and not
/// fully renamed.
@Suite struct IdentityRuleTests {
  @Test func temporaryGatewayWithoutProxyIsAnError() throws {
    let settings = Sample.settings(strategy: "temporary", igwID: "igw-0abc", withoutProxy: nil)
    // absent: reported at the spec key
    let absent = try Sample.validate(cluster: Sample.cluster(), settings: settings)
    let d = expectFinding(absent, "egress-proxy-missing", at: "5:1")
    #expect(d?.message.contains("egress: {withoutProxy: \"reason\"}") == true)
    // null: at its key
    let null = Sample.cluster(["egressProxy": "  👉egressProxy: null\n"])
    expectFinding(try Sample.validate(cluster: null, settings: settings), "egress-proxy-missing", at: Marked(null).position)
  }

  @Test func aReasonOrAProxyOrAnotherStrategySatisfiesIt() throws {
    expectNoFinding(try Sample.validate(settings: Sample.settings(strategy: "temporary", igwID: "igw-0abc")), "egress-proxy-missing")
    let proxy = Sample.cluster([
      "egressProxy": "  egressProxy:\n    httpProxy: {host: proxy.corp.local, port: 3128}\n    excludes: corp.local\n"
    ])
    let withProxy = Sample.settings(strategy: "temporary", igwID: "igw-0abc", withoutProxy: nil)
    expectNoFinding(try Sample.validate(cluster: proxy, settings: withProxy), "egress-proxy-missing")
    expectNoFinding(try Sample.validate(settings: Sample.settings(strategy: "external-egress")), "egress-proxy-missing")
  }

  @Test func egressSettingNeedsAReason() throws {
    let settings = Sample.settings(strategy: "temporary", igwID: "igw-0abc", withoutProxy: "  ")
    #expect(throws: DiagnosticError.self) { try Sample.repository(settings: settings).load() }
    let unknown = Sample.settings(strategy: "none") + "egress: {direct: yes}\n"
    do {
      _ = try Sample.repository(settings: unknown).load()
      Issue.record("an unknown egress key loaded")
    } catch {
      #expect(
        (error as? DiagnosticError)?.diagnostics.contains { $0.rule == "settings-unknown-key" && $0.message.contains("egress.direct") }
          == true)
    }
  }

  @Test func configBaseMustBeTheStateStoreAndClusterName() throws {
    let wrong = Sample.cluster(["configBase": "  configBase: 👉s3://corp-kops-state-dev/dev.k8s.corp.local\n"])
    let d = expectFinding(try Sample.validate(cluster: wrong), "config-base-mismatch", at: Marked(wrong).position)
    #expect(d?.message.contains("'s3://state/t.k8s.local'") == true)
    let right = Sample.cluster(["configBase": "  configBase: s3://state/t.k8s.local\n"])
    expectNoFinding(try Sample.validate(cluster: right), "config-base-mismatch")
  }

  @Test func clusterNameMustBeWithinTheDNSZone() throws {
    let wrong = Sample.cluster(["dnsZone": "  dnsZone: 👉dev.k8s.corp.local\n"])
    expectFinding(try Sample.validate(cluster: wrong), "dns-zone-mismatch", at: Marked(wrong).position)
    for zone in ["k8s.local", "t.k8s.local.", "Z0123456789ABCDEFGHIJ"] {
      let ok = Sample.cluster(["dnsZone": "  dnsZone: \(zone)\n"])
      expectNoFinding(try Sample.validate(cluster: ok), "dns-zone-mismatch")
    }
    // a zone that only ends with the same letters is another zone
    let suffix = Sample.cluster(["dnsZone": "  dnsZone: 👉8s.local\n"])
    expectFinding(try Sample.validate(cluster: suffix), "dns-zone-mismatch", at: Marked(suffix).position)
  }

  /// Many environments on one network: each warning names at most three of the others.
  @Test func sharedNetworkWarningsStayShort() throws {
    let cluster = Sample.cluster(["networkID": "  networkID: vpc-0shared\n"])
    var files: [String: String] = [:]
    for name in ["t", "u1", "u2", "u3", "u4"] {
      files["environments/\(name)/cluster.yaml"] = Marked(cluster).text
      files["environments/\(name)/environment.yaml"] = Sample.settings()
    }
    let repo = try TestRepository(files)
    let envs = try ["t", "u1", "u2", "u3", "u4"].map { try repo.load($0) }
    let warnings = Validator.validate(together: envs)
    #expect(warnings.count == 5)
    let t = try #require(warnings["t"]?.first)
    #expect(t.severity == .warning && t.rule == "shared-network")
    #expect(t.message.contains("VPC (spec.networkID) vpc-0shared is also used by u1, u2, u3 and 1 more;"), "\(t)")
    #expect(Validator.validate(together: [envs[0]]).isEmpty)
  }
}
