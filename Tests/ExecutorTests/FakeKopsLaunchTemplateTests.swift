import Foundation
import HKTestSupport
import Model
import Testing

/// The kops double decides `NeedsUpdate` as kops does: from a fingerprint of each group's launch
/// template inputs (kops-contract §9), not from hk's roll table.
@Suite struct FakeKopsLaunchTemplateTests {
  func update(_ f: FakeKopsFixture, env: [String: String] = [:]) throws {
    let r = try f.kops.run(["update", "cluster", FakeKopsFixture.cluster, "--yes", "--create-kube-config=false"], env: env)
    try #require(r.exitCode == 0, "\(r)")
  }

  func needsUpdate(_ f: FakeKopsFixture) throws -> [String] {
    let r = try f.kops.run(
      ["rolling-update", "cluster", FakeKopsFixture.cluster, "--cloudonly"], env: ["KUBECONFIG": try f.exportKubeconfig()])
    return FakeKopsFixture.rollingRows(r.stdout).values.filter { $0.count > 1 && $0[1] == "NeedsUpdate" }.map { $0[0] }.sorted()
  }

  @Test func launchTemplateInputsDecideNeedsUpdate() throws {
    let f = try FakeKopsFixture()
    try f.create(egress: "External")
    try update(f)
    #expect(try needsUpdate(f) == [])

    // kops recomputes the default excludes at update: replacing with the user's original list
    // changes no node (kops-contract §8, corrected).
    try #require(try f.kops.run(["replace", "-f", try f.manifest("orig.yaml", [f.clusterYAML(egress: "External")])]).exitCode == 0)
    try update(f)
    let afterOriginal = try needsUpdate(f)
    #expect(afterOriginal == [], "the excludes kops recomputes are the same: \(afterOriginal)")

    // topology.dns Private → Public: from 1.26 kops fills masterPublicName for public DNS only,
    // and update joins it to every group's no_proxy.
    let pub = f.clusterYAML(egress: "External").replacingOccurrences(of: "dns: {type: Private}", with: "dns: {type: Public}")
    try #require(try f.kops.run(["replace", "-f", try f.manifest("pub.yaml", [pub])]).exitCode == 0)
    try update(f)
    #expect(try needsUpdate(f) == ["control-plane-a", "nodes-a", "nodes-b"])
    for group in ["control-plane-a", "nodes-a", "nodes-b"] {
      let r = try f.kops.run(
        ["rolling-update", "cluster", FakeKopsFixture.cluster, "--cloudonly", "--yes", "--instance-group", group],
        env: ["KUBECONFIG": try f.exportKubeconfig()])
      try #require(r.exitCode == 0, "\(r)")
    }
    #expect(try needsUpdate(f) == [])

    // kubeDNS reaches every kubelet's clusterDNS.
    let dns = try f.manifest(
      "dns.yaml", [f.clusterYAML(egress: "External", extraSpec: "  kubeDNS:\n    provider: CoreDNS\n    nodeLocalDNS: {enabled: true}")])
    try #require(try f.kops.run(["replace", "-f", dns]).exitCode == 0)
    try update(f)
    #expect(try needsUpdate(f) == ["control-plane-a", "nodes-a", "nodes-b"])
  }

  @Test func anotherKopsReleaseRewritesEveryLaunchTemplate() throws {
    let f = try FakeKopsFixture()
    try f.create(egress: "External")
    try update(f)
    let dry = try f.kops.run(["update", "cluster", FakeKopsFixture.cluster], env: ["FAKE_KOPS_VERSION": "1.28.5"])
    #expect(dry.stdout.contains("Will modify resources:"), "\(dry.stdout)")
    #expect(dry.stdout.contains("  LaunchTemplate/nodes-a.c1.k8s.test\n"), "\(dry.stdout)")
    try update(f, env: ["FAKE_KOPS_VERSION": "1.28.5"])
    #expect(try needsUpdate(f) == ["control-plane-a", "nodes-a", "nodes-b"])
  }
}
