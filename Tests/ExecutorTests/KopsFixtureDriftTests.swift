import Config
import Foundation
import HKTestSupport
import Model
import Planner
import Testing

/// Conformance with kops's own manifests in `../shared/kops-fixtures` (read in place): every AWS
/// fixture hk's validation accepts drifts clean right after it is applied. Each fixture's objects
/// are written into the kops double's state store with `create -f` (as apply does), read back
/// with `get … -o yaml` (as `hk drift` does) and compared with hk's drift comparison against the
/// objects as written (what apply records). Nothing to check when the directory is absent.
@Suite struct KopsFixtureDriftTests {
  /// `<package root>/../shared/kops-fixtures`, from this file's path.
  static var fixturesRoot: String {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<4 { url.deleteLastPathComponent() }
    return url.appendingPathComponent("shared/kops-fixtures").path
  }

  struct Fixture {
    var path: String
    var documents: [YAMLNode]
    var cluster: YAMLNode
    var instanceGroups: [YAMLNode] { documents.filter { $0["kind"]?.text == "InstanceGroup" } }
    var name: String { cluster[path: "metadata", "name"]?.text ?? "fixture" }
    /// The kops release the fixture comes from (`head/` is 1.37 development).
    var version: KopsVersion { KopsVersion(String(path.prefix { $0 != "/" })) ?? KopsVersion(1, 37) }
  }

  /// The AWS fixtures (a `kind: Cluster` document with `cloudProvider: aws`); nil without the directory.
  static func awsFixtures() throws -> [Fixture]? {
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: fixturesRoot, isDirectory: &isDir), isDir.boolValue,
      let walker = FileManager.default.enumerator(atPath: fixturesRoot)
    else { return nil }
    var out: [Fixture] = []
    for case let rel as String in walker where rel.hasSuffix(".yaml") || rel.hasSuffix(".yml") {
      let docs = try YAMLParser.parse(try FileReader.read(fixturesRoot + "/" + rel), file: rel)
      guard let cluster = docs.first(where: { $0["kind"]?.text == "Cluster" }) else { continue }
      let cloud = cluster[path: "spec", "cloudProvider"]
      guard cloud?.text == "aws" || cloud?.pair("aws") != nil else { continue }
      out.append(Fixture(path: rel, documents: docs, cluster: cluster))
    }
    return out.sorted { $0.path < $1.path }
  }

  /// An environment around a fixture, as its user would write it: the state store its
  /// `configBase` names (hk refuses a `configBase` outside the environment's store).
  static func environment(_ f: Fixture) -> Environment {
    var store = "s3://fixtures"
    if let base = f.cluster[path: "spec", "configBase"]?.text, let slash = base.lastIndex(of: "/") {
      store = String(base[..<slash])
    }
    let settings = EnvironmentSettings(
      cluster: f.name, stateStore: store, kopsVersion: f.version, region: "us-east-1", igwStrategy: .none)
    return Environment(
      name: "fixture", directory: "fixtures", settingsFile: "fixtures/environment.yaml", settings: settings, cluster: f.cluster,
      instanceGroups: f.instanceGroups, kubernetesManifests: [], sourceFiles: [])
  }

  /// The fixtures hk would apply: no validation error (those with one are refused before
  /// anything runs, so they are never applied and cannot drift).
  static func applicable(_ fixtures: [Fixture]) -> [Fixture] {
    fixtures.filter { f in !Validator.validate(environment(f)).contains { $0.severity == .error } }
  }

  /// The fixture's objects with kops's test region `us-test-1` (which only kops's mock cloud
  /// knows) moved to `us-east-1`, the same on the written and the recorded side.
  static func localized(_ f: Fixture) throws -> (cluster: YAMLNode, instanceGroups: [YAMLNode]) {
    func move(_ n: YAMLNode) throws -> YAMLNode {
      let text = YAMLEmitter.emit(n).replacingOccurrences(of: "us-test-1", with: "us-east-1")
      return try #require(try YAMLParser.parse(text, file: f.path).first)
    }
    return (try move(f.cluster), try f.instanceGroups.map(move))
  }

  @Test func everyAppliedFixtureDriftsCleanRightAfterApply() throws {
    guard let fixtures = try Self.awsFixtures() else { return }  // no fixtures on this machine: nothing to check
    let applicable = Self.applicable(fixtures)
    #expect(!applicable.isEmpty)
    let dir = try TemporaryDirectory(prefix: "hk-fixture-drift")
    let moto = try MotoServer(region: "us-east-1")
    defer { moto.stop() }
    var checked = 0
    for (i, f) in applicable.enumerated() {
      // the double imitates the fixture's release (`head` as the newest release hk supports)
      let version = f.version.atLeast(1, 37) ? "1.36.0" : "\(f.version)"
      let kops = try FakeKops(directory: dir.file("kops-\(i)"), version: version, moto: moto)
      let (recordedCluster, recordedIGs) = try Self.localized(f)
      // the file apply's `create -f` step writes (ApplyEngine.writeManifest)
      let objects = [recordedCluster] + recordedIGs
      let file = try dir.write("fixture-\(i).yaml", objects.map { YAMLEmitter.emit($0) }.joined(separator: "\n---\n"))
      let created = try kops.run(["create", "-f", file])
      guard created.exitCode == 0 else {
        Issue.record("\(f.path): kops create -f failed: \(created)")
        continue
      }
      let cluster = try kops.run(["get", "cluster", f.name, "-o", "yaml"])
      let groups = try kops.run(["get", "instancegroups", "--name", f.name, "-o", "yaml"])
      try #require(cluster.exitCode == 0 && groups.exitCode == 0, "\(f.path): \(cluster) \(groups)")
      let liveCluster = try YAMLParser.parse(cluster.stdout, file: "live").first
      let liveIGs = try YAMLParser.parse(groups.stdout, file: "live").filter { $0["kind"]?.text == "InstanceGroup" }
      let drift = LiveComparison.differences(
        recordedCluster: recordedCluster, recordedIGs: recordedIGs, liveCluster: liveCluster, liveIGs: liveIGs)
      let shown = drift.map { "\($0.path): \($0.recorded.map { $0.serialized() } ?? "-") → \($0.live.map { $0.serialized() } ?? "-")" }
      #expect(drift.isEmpty, "\(f.path): drifted right after apply: \(shown)")
      checked += 1
    }
    #expect(checked == applicable.count)
  }
}

/// The double reads objects back as kops does (kops-contract §9), so hk's drift comparison is
/// tested against kops's output, not against a copy of its own input.
@Suite struct FakeKopsReadBackTests {
  static let extraSpec = """
      cloudLabels: {}
      kubeAPIServer:
        auditWebhookBatchThrottleQps: 3.14
        auditWebhookBatchThrottleBurst: 0
        anonymousAuth: false
    """

  @Test func zeroValuesOfNonPointerFieldsAreOmittedAndQuantitiesCanonical() throws {
    let f = try FakeKopsFixture()
    let cluster = f.clusterYAML(extraSpec: Self.extraSpec).replacingOccurrences(
      of: "iam: {allowContainerRegistry: true}", with: "iam: {allowContainerRegistry: false}")
    let file = try f.manifest("cluster.yaml", [cluster] + FakeKopsFixture.defaultGroups)
    let created = try f.kops.run(["create", "-f", file])
    try #require(created.exitCode == 0, "\(created)")
    let live = try f.liveCluster()
    // non-pointer omitempty at zero: not read back
    #expect(live[path: "spec", "iam", "allowContainerRegistry"] == nil)
    #expect(live[path: "spec", "cloudLabels"] == nil)
    // pointer fields keep their zero value
    #expect(live[path: "spec", "kubeAPIServer", "anonymousAuth"]?.boolValue == false)
    #expect(live[path: "spec", "kubeAPIServer", "auditWebhookBatchThrottleBurst"]?.intValue == 0)
    // quantities in canonical form
    #expect(live[path: "spec", "kubeAPIServer", "auditWebhookBatchThrottleQps"]?.text == "3140m")

    // and hk's drift comparison of what it wrote with what kops reads back is clean
    let recorded = try #require(try YAMLParser.parse(cluster, file: "cluster.yaml").first)
    let igs = try FakeKopsFixture.defaultGroups.compactMap { try YAMLParser.parse($0, file: "ig.yaml").first }
    let liveIGs = try YAMLParser.parse(
      try f.kops.run(["get", "instancegroups", "--name", FakeKopsFixture.cluster, "-o", "yaml"]).stdout, file: "igs.yaml")
    let drift = LiveComparison.differences(recordedCluster: recorded, recordedIGs: igs, liveCluster: live, liveIGs: liveIGs)
    #expect(drift.isEmpty, "\(drift)")
  }

  @Test(arguments: [
    ("3.14", "3140m"), ("1024Mi", "1Gi"), ("1000", "1k"), ("1536Mi", "1536Mi"), ("0.5Ki", "512"), ("100m", "100m"),
    ("1500", "1500"), ("2e3", "2e3"), ("0", "0"), ("1.5Gi", "1536Mi"), ("0.1", "100m"),
  ])
  func quantitiesAreReadBackCanonical(input: String, expected: String) throws {
    let f = try FakeKopsFixture()
    let cluster = f.clusterYAML(extraSpec: "  kubeAPIServer:\n    auditWebhookBatchThrottleQps: \"\(input)\"")
    let file = try f.manifest("cluster.yaml", [cluster])
    let created = try f.kops.run(["create", "-f", file])
    try #require(created.exitCode == 0, "\(created)")
    #expect(try f.liveCluster()[path: "spec", "kubeAPIServer", "auditWebhookBatchThrottleQps"]?.text == expected)
  }
}
