import Config
import Foundation
import Model
import Testing

/// Conformance against kops's own manifests in `../shared/kops-fixtures` (read in place, never
/// copied). Every test passes with nothing to check when that directory is absent.
@Suite struct KopsFixtureTests {
  static var fixturesRoot: String {
    URL(fileURLWithPath: packageRoot()).deletingLastPathComponent().appendingPathComponent("shared/kops-fixtures").path
  }

  /// A fixture file holding a Cluster document, parsed.
  struct Fixture {
    var path: String
    var documents: [YAMLNode]
    var cluster: YAMLNode

    var isAWS: Bool {
      let node = cluster[path: "spec", "cloudProvider"]
      if let t = node?.text { return t == "aws" }
      return node?.pair("aws") != nil
    }
  }

  /// Every YAML file under the fixtures root (walking the tree) with a `kind: Cluster` document;
  /// nil when the directory is absent.
  static func fixtures() throws -> [Fixture]? {
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: fixturesRoot, isDirectory: &isDir), isDir.boolValue else { return nil }
    guard let walker = FileManager.default.enumerator(atPath: fixturesRoot) else { return nil }
    var out: [Fixture] = []
    for case let rel as String in walker where rel.hasSuffix(".yaml") || rel.hasSuffix(".yml") {
      let bytes = try FileReader.read(fixturesRoot + "/" + rel)
      let docs = try YAMLParser.parse(bytes, file: rel)
      guard let cluster = docs.first(where: { $0["kind"]?.text == "Cluster" }) else { continue }
      out.append(Fixture(path: rel, documents: docs, cluster: cluster))
    }
    return out.sorted { $0.path < $1.path }
  }

  @Test func fixturesParse() throws {
    guard let fixtures = try Self.fixtures() else { return }  // no fixtures on this machine: nothing to check
    #expect(fixtures.count >= 100)
    #expect(fixtures.contains { $0.isAWS })
    #expect(fixtures.contains { !$0.isAWS })
  }

  @Test func awsFixturesRoundTrip() throws {
    guard let fixtures = try Self.fixtures() else { return }
    var checked = 0
    for f in fixtures where f.isAWS {
      let emitted = YAMLEmitter.emit(documents: f.documents)
      let reparsed: [YAMLNode]
      do {
        reparsed = try YAMLParser.parse(emitted, file: f.path)
      } catch {
        Issue.record("\(f.path): emitted YAML does not parse: \(error)")
        continue
      }
      #expect(reparsed.count == f.documents.count, "\(f.path)")
      for (i, (a, b)) in zip(f.documents, reparsed).enumerated() {
        #expect(a == b, "\(f.path): document \(i) changed in the round trip")
      }
      // a second round trip is byte-stable
      #expect(YAMLEmitter.emit(documents: reparsed) == emitted, "\(f.path)")
      checked += 1
    }
    #expect(checked > 0)
  }

  @Test func awsFixturesValidateWithoutCrashing() throws {
    guard let fixtures = try Self.fixtures() else { return }
    for f in fixtures where f.isAWS {
      let diagnostics = Validator.validate(Self.environment(f))
      #expect(diagnostics.allSatisfy { ($0.location?.line ?? 0) >= 1 }, "\(f.path)")
      #expect(!diagnostics.contains { $0.rule == "cloud-not-aws" }, "\(f.path)")
    }
  }

  @Test func nonAWSFixturesAreRefused() throws {
    guard let fixtures = try Self.fixtures() else { return }
    var checked = 0
    for f in fixtures where !f.isAWS {
      let diagnostics = Validator.validate(Self.environment(f))
      let refusal = diagnostics.first { $0.rule == "cloud-not-aws" }
      #expect(refusal?.severity == .error, "\(f.path)")
      #expect(refusal?.message.contains("hk drives AWS clusters only") == true, "\(f.path)")
      #expect((refusal?.location?.line ?? 0) >= 1, "\(f.path)")
      #expect(refusal?.location?.file == f.path, "\(f.path)")
      checked += 1
    }
    #expect(checked > 0)
  }

  /// Fields of kops's own fixtures that no v1alpha2 type of their release defines (kops drops
  /// them silently; each checked against `pkg/apis/kops/v1alpha2` at that commit): the complex
  /// cluster's `serviceOIDCProvider` block (kops-contract §9), volume settings of two GCE
  /// fixtures written at the etcd cluster level (they belong to `etcdMembers[]`), their
  /// `rootVolume` blocks (v1alpha2 spells these `rootVolumeSize`… and maps `rootVolume` to `-`),
  /// and OpenStack's `openstackServiceAccount`.
  static let undefinedFixtureFields: Set<String> = {
    let u = "tests/integration/update_cluster/"
    var out: Set<String> = [
      "head/\(u)complex/in-legacy-v1alpha2.yaml spec.serviceOIDCProvider",
      "head/\(u)complex/in-v1alpha2.yaml spec.serviceOIDCProvider",
      "v1.24.0/\(u)complex/in-v1alpha2.yaml spec.serviceOIDCProvider",
      "head/\(u)minimal_openstack/in-v1alpha2.yaml spec.openstackServiceAccount",
      "head/\(u)openstack_floatingip/in-v1alpha2.yaml spec.openstackServiceAccount",
    ]
    for (fixture, groups) in [
      ("minimal_gce_plb", ["master-us-test1-a", "nodes"]),
      ("minimal_gce_plb_apiserver", ["master-us-test1-a", "apiserver-us-test1-a", "nodes"]),
    ] {
      let file = "head/\(u)\(fixture)/in-v1alpha2.yaml"
      for field in ["volumeIops", "volumeSize", "volumeThroughput", "type"] { out.insert("\(file) spec.etcdClusters[0].\(field)") }
      out.insert("\(file) spec.etcdClusters[1].type")
      for g in groups { out.insert("\(file) instancegroup \(g): spec.rootVolume") }
    }
    return out
  }()

  /// Conformance with kops's schema: every fixture field kops does not define is reported, and
  /// nothing else is (each fixture read with the schema of the release it comes from).
  @Test func unknownFieldsAreExactlyThoseKopsDoesNotDefine() throws {
    guard let fixtures = try Self.fixtures() else { return }
    var found: Set<String> = []
    for f in fixtures {
      for d in Validator.validate(Self.environment(f)) where d.rule == "unknown-field" {
        #expect(d.severity == .error, "\(d)")
        #expect(d.location?.file == f.path, "\(d)")
        found.insert("\(f.path) " + (d.message.components(separatedBy: ": kops ").first ?? ""))
      }
      for d in Validator.validate(Self.environment(f)) where d.rule == "field-type" {
        Issue.record("\(f.path): a fixture kops decodes has a type error: \(d)")
      }
    }
    #expect(found == Self.undefinedFixtureFields, "\(found.symmetricDifference(Self.undefinedFixtureFields).sorted())")
  }

  /// The kops release a fixture comes from (`head/` is 1.37 development).
  static func version(_ f: Fixture) -> KopsVersion {
    let top = f.path.prefix { $0 != "/" }
    return KopsVersion(String(top)) ?? KopsVersion(1, 37)
  }

  /// An environment around a fixture, with synthetic settings naming its cluster.
  static func environment(_ f: Fixture) -> Environment {
    let name = f.cluster[path: "metadata", "name"]?.text ?? "fixture"
    let settings = EnvironmentSettings(
      cluster: name, stateStore: "s3://fixtures", kopsVersion: version(f), region: "us-east-1", igwStrategy: .none)
    return Environment(
      name: "fixture", directory: "fixtures", settingsFile: "fixtures/environment.yaml", settings: settings, cluster: f.cluster,
      instanceGroups: f.documents.filter { $0["kind"]?.text == "InstanceGroup" }, kubernetesManifests: [], sourceFiles: [])
  }
}
