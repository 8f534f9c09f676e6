import Config
import Foundation
import Model
import Testing

/// A throw-away GitOps repository in the temporary directory, removed when released.
final class TestRepository {
  let root: String

  init(_ files: [String: String] = [:]) throws {
    root = FileManager.default.temporaryDirectory.appendingPathComponent("hk-config-tests-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    for (path, text) in files { try write(path, text) }
  }

  deinit { try? FileManager.default.removeItem(atPath: root) }

  func write(_ path: String, _ text: String) throws {
    try write(path, bytes: Array(text.utf8))
  }

  func write(_ path: String, bytes: [UInt8]) throws {
    let full = root + "/" + path
    let dir = (full as NSString).deletingLastPathComponent
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    guard FileManager.default.createFile(atPath: full, contents: Data(bytes)) else {
      throw CocoaError(.fileWriteUnknown)
    }
  }

  func load(_ name: String = "t") throws(DiagnosticError) -> Environment {
    try Repository(root: root).load(name)
  }
}

/// YAML text with `👉` markers in front of the nodes a diagnostic must point at.
struct Marked {
  /// The text without markers.
  var text: String
  /// `line:column` of each marker, in order (1-based, columns in Unicode scalars).
  var positions: [String]

  init(_ marked: String) {
    var out = ""
    var positions: [String] = []
    var line = 1
    var column = 1
    for u in marked.unicodeScalars {
      if u == "👉" {
        positions.append("\(line):\(column)")
        continue
      }
      out.unicodeScalars.append(u)
      if u == "\n" {
        line += 1
        column = 1
      } else {
        column += 1
      }
    }
    text = out
    self.positions = positions
  }

  /// The first marker's position.
  var position: String { positions.first ?? "no marker" }
}

/// Builders for a small, valid environment `t` that each test bends in one place.
enum Sample {
  static let clusterFile = "environments/t/cluster.yaml"
  static let settingsFile = "environments/t/environment.yaml"

  /// With strategy temporary the sample Cluster (no egressProxy) says why it needs no proxy
  /// (`egress.withoutProxy`), unless `withoutProxy` is nil.
  static func settings(
    strategy: String = "none", kops: String = "1.28.4", igwID: String? = nil,
    withoutProxy: String? = "the sample reaches its registry through VPC endpoints"
  ) -> String {
    var s = """
      cluster: t.k8s.local
      stateStore: s3://state
      kopsVersion: \(kops)
      aws: {region: eu-west-1}
      internetGateway:
        strategy: \(strategy)

      """
    if let igwID { s += "  id: \(igwID)\n" }
    if strategy == "temporary", let withoutProxy { s += "egress: {withoutProxy: \"\(withoutProxy)\"}\n" }
    return s
  }

  /// The spec blocks of the sample Cluster, in order; a test replaces one by name, removes it
  /// with "", or adds a new one.
  static let specBlocks: [(String, String)] = [
    ("cloudProvider", "  cloudProvider: aws\n"),
    ("kubernetesVersion", "  kubernetesVersion: 1.28.9\n"),
    ("api", "  api:\n    loadBalancer:\n      type: Internal\n      class: Network\n"),
    ("networkCIDR", "  networkCIDR: 10.0.0.0/16\n"),
    ("networking", "  networking:\n    cilium: {}\n"),
    (
      "subnets",
      "  subnets:\n  - name: a\n    zone: eu-west-1a\n    cidr: 10.0.0.0/19\n    type: Private\n    egress: External\n"
    ),
  ]

  static let instanceGroup = """
    apiVersion: kops.k8s.io/v1alpha2
    kind: InstanceGroup
    metadata:
      name: nodes
      labels:
        kops.k8s.io/cluster: t.k8s.local
    spec:
      role: Node
      machineType: m5.large
      minSize: 1
      maxSize: 2
      subnets:
      - a

    """

  /// The Cluster document (with markers kept) followed by the InstanceGroups.
  static func cluster(
    _ overrides: [String: String] = [:], name: String = "t.k8s.local", instanceGroups: [String]? = nil
  ) -> String {
    var text = "apiVersion: kops.k8s.io/v1alpha2\nkind: Cluster\nmetadata:\n  name: \(name)\nspec:\n"
    var used = Set<String>()
    for (key, block) in specBlocks {
      used.insert(key)
      text += overrides[key] ?? block
    }
    for key in overrides.keys.sorted() where !used.contains(key) { text += overrides[key] ?? "" }
    for ig in instanceGroups ?? [instanceGroup] { text += "---\n" + ig }
    return text
  }

  /// A repository holding environment `t`; markers are removed from every file.
  static func repository(
    cluster: String = Sample.cluster(), settings: String = Sample.settings(), extra: [String: String] = [:]
  ) throws -> TestRepository {
    var files = [clusterFile: Marked(cluster).text, settingsFile: Marked(settings).text]
    for (k, v) in extra { files[k] = Marked(v).text }
    return try TestRepository(files)
  }

  /// Loads and validates environment `t` built from the given files.
  static func validate(
    cluster: String = Sample.cluster(), settings: String = Sample.settings(), extra: [String: String] = [:]
  ) throws -> [Diagnostic] {
    let repo = try repository(cluster: cluster, settings: settings, extra: extra)
    return Validator.validate(try repo.load())
  }
}

extension Diagnostic {
  /// `file:line:col` of the diagnostic, or "" without a location.
  var position: String {
    guard let l = location else { return "" }
    return "\(l.file):\(l.line):\(l.column)"
  }
}

/// Expects exactly one diagnostic of `rule`, with the given severity, at `file:position`.
@discardableResult
func expectFinding(
  _ diagnostics: [Diagnostic], _ rule: String, at position: String, file: String = Sample.clusterFile,
  severity: Diagnostic.Severity = .error, sourceLocation: Testing.SourceLocation = #_sourceLocation
) -> Diagnostic? {
  let matching = diagnostics.filter { $0.rule == rule }
  #expect(matching.count == 1, "expected one '\(rule)' in \(diagnostics.map(\.description))", sourceLocation: sourceLocation)
  guard let d = matching.first else { return nil }
  #expect(d.position == "\(file):\(position)", "\(d)", sourceLocation: sourceLocation)
  #expect(d.severity == severity, "\(d)", sourceLocation: sourceLocation)
  // Messages are lower-case with no trailing period.
  #expect(d.message.first?.isUppercase == false, "\(d)", sourceLocation: sourceLocation)
  #expect(!d.message.hasSuffix("."), "\(d)", sourceLocation: sourceLocation)
  return d
}

/// Expects no diagnostic of `rule`.
func expectNoFinding(
  _ diagnostics: [Diagnostic], _ rule: String, sourceLocation: Testing.SourceLocation = #_sourceLocation
) {
  let matching = diagnostics.filter { $0.rule == rule }
  #expect(matching.isEmpty, "unexpected: \(matching.map(\.description))", sourceLocation: sourceLocation)
}

/// The package root (the directory holding Package.swift), from this file's path.
func packageRoot(_ filePath: String = #filePath) -> String {
  var url = URL(fileURLWithPath: filePath)
  for _ in 0..<3 { url.deleteLastPathComponent() }
  return url.path
}
