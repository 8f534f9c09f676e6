import Config
import Foundation
import HKTestSupport
import Model
import Testing

/// kops's own Cluster manifests (`../shared/kops-fixtures`, read in place) as running clusters:
/// each AWS one the kops double accepts is created with `kops create -f`, adopted with
/// `hk import`, and must then report in sync: what kops adds or rewrites is normalised away.
/// Passes with nothing to check when the fixtures are absent.
@Suite(.serialized) struct DriftFixtureTests {
  static var fixturesRoot: String {
    URL(fileURLWithPath: packageRoot).deletingLastPathComponent().appendingPathComponent("shared/kops-fixtures").path
  }

  /// The AWS fixture files holding a Cluster, with that Cluster's name; nil when absent.
  static func awsFixtures() -> [(path: String, text: String, cluster: String)]? {
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: fixturesRoot, isDirectory: &isDir), isDir.boolValue,
      let walker = FileManager.default.enumerator(atPath: fixturesRoot)
    else { return nil }
    var out: [(String, String, String)] = []
    for case let rel as String in walker where rel.hasSuffix(".yaml") || rel.hasSuffix(".yml") {
      guard let text = try? String(contentsOfFile: fixturesRoot + "/" + rel, encoding: .utf8),
        let docs = try? YAMLParser.parse(text, file: rel),
        let cluster = docs.first(where: { $0["kind"]?.text == "Cluster" }),
        docs.filter({ $0["kind"]?.text == "Cluster" }).count == 1,
        let name = cluster[path: "metadata", "name"]?.text
      else { continue }
      let provider = cluster[path: "spec", "cloudProvider"]
      guard provider?.text == "aws" || provider?.pair("aws") != nil else { continue }
      out.append((rel, text, name))
    }
    return out.sorted { $0.0 < $1.0 }
  }

  @Test func everyAcceptedAWSFixtureImportsInSync() throws {
    guard let fixtures = Self.awsFixtures() else { return }  // no fixtures on this machine
    let w = try World()
    var imported: [(env: String, fixture: String)] = []
    var rejectedByKops = 0
    var importFailures: [String] = []
    for (i, fixture) in fixtures.enumerated() {
      let env = "fx-\(i + 1)"
      let bucket = "kops-fixtures-\(i + 1)"
      try FileManager.default.createDirectory(atPath: w.kops.s3Root + "/" + bucket, withIntermediateDirectories: true)
      // kops's test zones (us-test-1a) do not exist in EC2; everything else is as kops wrote it.
      let text = fixture.text.replacingOccurrences(of: "us-test-1", with: "us-east-1")
      let file = try w.dir.write("fixtures/\(env).yaml", text)
      let created = try w.kops.run(["create", "-f", file, "--state", "s3://\(bucket)"])
      guard created.exitCode == 0 else {
        rejectedByKops += 1
        continue
      }
      // hk's cluster.yaml holds the Cluster and its InstanceGroups only (kops also takes addons).
      var desired = text
      let docs = try YAMLParser.parse(text, file: fixture.path)
      let kopsDocs = docs.filter { ["Cluster", "InstanceGroup"].contains($0["kind"]?.text ?? "") }
      if kopsDocs.count != docs.filter({ !$0.isNull }).count { desired = YAMLEmitter.emit(documents: kopsDocs) }
      try w.dir.write("repo/environments/\(env)/cluster.yaml", desired)
      try w.dir.write(
        "repo/environments/\(env)/environment.yaml",
        """
        cluster: \(fixture.cluster)
        stateStore: s3://\(bucket)
        kopsVersion: \(w.kops.version)
        kopsPath: \(w.kops.binary)
        aws: {region: us-east-1}
        internetGateway: {strategy: none}

        """)
      let r = try w.hk(["import", env])
      if r.exitCode == 0 {
        imported.append((env, fixture.path))
      } else {
        importFailures.append("\(fixture.path): \(r.stderr.prefix(400))")
      }
    }
    #expect(importFailures.isEmpty, "hk import failed for fixtures kops accepts:\n\(importFailures.joined(separator: "\n"))")
    #expect(imported.count >= 80, "only \(imported.count) fixtures imported (\(rejectedByKops) rejected by the double)")

    let r = try w.hk(["drift"] + imported.map(\.env) + ["--format", "json", "--parallel", "4"], timeout: 600)
    #expect(r.exitCode == 0, "\(r.stderr)")
    let report = try DriftJSONView(r.stdout)
    #expect(report.all.count == imported.count)
    for (env, fixture) in imported {
      let e = report[env]
      #expect(e?["status"] == .string("in-sync"), "\(fixture): \(e?.serialized(pretty: true) ?? "missing")")
    }
  }
}
