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

  /// An environment around a fixture, with synthetic settings naming its cluster.
  static func environment(_ f: Fixture) -> Environment {
    let name = f.cluster[path: "metadata", "name"]?.text ?? "fixture"
    let settings = EnvironmentSettings(
      cluster: name, stateStore: "s3://fixtures", kopsVersion: KopsVersion(1, 36), region: "us-east-1", igwStrategy: .none)
    return Environment(
      name: "fixture", directory: "fixtures", settingsFile: "fixtures/environment.yaml", settings: settings, cluster: f.cluster,
      instanceGroups: f.documents.filter { $0["kind"]?.text == "InstanceGroup" }, kubernetesManifests: [], sourceFiles: [])
  }
}
