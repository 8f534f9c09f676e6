import Foundation
import Model
import Testing

@testable import Config

/// Validation remembers the base subtrees its whole-tree checks (the kops schema walk, YAML 1.1
/// booleans) found clean, for the run. These tests compare, environment by environment, the
/// diagnostics with the memo (cold and warm) and without it, on a base that has findings of
/// its own (an unknown field, a YAML 1.1 boolean, a wrong type, a field of other kops
/// releases), environments at several kops releases and overlays that replace, delete or keep
/// the faulty subtrees, and with the sample environments and kops's fixtures.
@Suite struct SharedSubtreeMemoTests {
  /// A diagnostic as compared: rule, severity, position and message.
  static func text(_ d: Diagnostic) -> String { "\(d.rule ?? "-") \(d.description)" }

  static func read(_ rel: String) throws -> String {
    try String(contentsOfFile: packageRoot() + "/" + rel, encoding: .utf8)
  }

  /// The sample base with findings of its own in several subtrees.
  static func faultyBase() throws -> String {
    try read("environments/_base/cluster.yaml")
      .replacingOccurrences(of: "  kubeProxy:\n    enabled: true\n", with: "  kubeProxy:\n    enabled: yes\n    enabeld: true\n")
      .replacingOccurrences(of: "      name: a\n  - name: events\n", with: "      name: a\n      encryptedVolume: [1]\n  - name: events\n")
      .replacingOccurrences(of: "  authorization:\n    rbac: {}\n", with: "  authorization:\n    rbac: {}\n    alwaysAllow: {}\n")
      .replacingOccurrences(of: "    legacy: false\n", with: "    legacy: false\n    useServiceAccountExternalPermissions: \"no\"\n")
  }

  /// Environments `e0`… over the faulty base: kops releases and overlays vary.
  static func repository() throws -> (TestRepository, [String]) {
    var files = ["environments/_base/cluster.yaml": try faultyBase()]
    let clusters = try ["dev", "staging", "prod"].map { try read("environments/\($0)/cluster.yaml") }
    let settings = try ["dev", "staging", "prod"].map { try read("environments/\($0)/environment.yaml") }
    let overlays: [(String) -> String] = [
      { $0 },
      { $0 + "  kubeProxy:\n    enabled: false\n" },
      { $0 + "  kubeProxy: null\n  authorization:\n    rbac: {}\n" },
      { $0 + "  etcdClusters:\n  - name: main\n    etcdMembers:\n    - instanceGroup: control-plane-ap-northeast-1a\n      name: a\n" },
      { $0 + "  iam:\n    legacy: off\n" },
    ]
    var names: [String] = []
    for i in 0..<30 {
      let name = "e\(i)"
      names.append(name)
      let kops = ["1.19.0", "1.23.4", "1.28.4", "1.30.0", "1.34.1"][i % 5]
      let k = i % 3
      var s = settings[k].replacingOccurrences(of: #"kopsVersion: [0-9.]+"#, with: "kopsVersion: \(kops)", options: .regularExpression)
      s = s.replacingOccurrences(of: #"cluster: [a-z.]+"#, with: "cluster: \(name).k8s.corp.local", options: .regularExpression)
      var c = clusters[k].replacingOccurrences(
        of: #"name: [a-z]+\.k8s\.corp\.local"#, with: "name: \(name).k8s.corp.local", options: .regularExpression)
      // the overlay's spec additions go right after the `spec:` line of the Cluster document
      if let r = c.range(of: "\nspec:\n") {
        let extra = overlays[(i / 3) % overlays.count]("")
        c.replaceSubrange(r, with: "\nspec:\n" + extra)
      }
      files["environments/\(name)/environment.yaml"] = s
      files["environments/\(name)/cluster.yaml"] = c
    }
    return (try TestRepository(files), names)
  }

  @Test func theMemoChangesNoDiagnostic() throws {
    let (repo, names) = try Self.repository()
    let repository = Repository(root: repo.root)
    var sawBaseFinding = false
    for round in 0..<2 {
      for name in names {
        let env = try repository.load(name)
        let reference = Validator.validate(env, remembersSharedSubtrees: false).map(Self.text)
        let remembered = Validator.validate(env).map(Self.text)
        #expect(remembered == reference, "\(name), round \(round)")
        sawBaseFinding = sawBaseFinding || reference.contains { $0.hasPrefix("unknown-field environments/_base/cluster.yaml") }
      }
    }
    #expect(sawBaseFinding)
    #expect(SchemaRules.memo.count > 0 && TypeRules.booleanMemo.count > 0)
  }

  @Test func theSampleEnvironmentsAndTheFixturesAlike() throws {
    let repository = Repository(root: packageRoot())
    for name in try repository.environmentNames() {
      let env = try repository.load(name)
      let reference = Validator.validate(env, remembersSharedSubtrees: false).map(Self.text)
      for _ in 0..<2 { #expect(Validator.validate(env).map(Self.text) == reference, "\(name)") }
    }
    guard let fixtures = try KopsFixtureTests.fixtures() else { return }
    for f in fixtures where f.isAWS {
      let env = KopsFixtureTests.environment(f)
      let reference = Validator.validate(env, remembersSharedSubtrees: false).map(Self.text)
      #expect(Validator.validate(env).map(Self.text) == reference, "\(f.path)")
    }
  }

  /// Same elements, same storage: a copy is found clean, a changed copy is not.
  @Test func aChangedSubtreeIsNotTakenForTheRememberedOne() throws {
    let memo = SharedSubtreeMemo<Int>()
    let doc = try #require(try YAMLParser.parse("a:\n  b: 1\n  c: [1, 2]\n", file: "memo-base.yaml").first)
    let a = try #require(doc["a"])
    memo.markClean(a, 1)
    let copy = a
    #expect(memo.isClean(copy, 1))
    #expect(!memo.isClean(copy, 2))
    var changed = a
    changed.set("b", .int(2))
    #expect(!memo.isClean(changed, 1))
    #expect(!memo.isClean(try #require(a["c"]), 1))
  }
}
