import Foundation
import Model
import Testing

@testable import Config

/// `PathContainment.resolve` skips `realpath` for a path below `environments/` whose components
/// all exist and none is a symlink (`lstat`). These tests compare it with the `realpath` way
/// (``PathContainment/resolveThroughRealpath(_:)``, what every path took before) on a tree of
/// plain files, symlinks inside and outside `environments/`, symlinked directories, dangling
/// and chained links, `.`/`..` and empty components, and a root reached through a symlink.
@Suite struct PathContainmentTests {
  /// The same path, or the same refusal (rule and location), both ways.
  static func outcome(_ f: () throws(DiagnosticError) -> String) -> String {
    do throws(DiagnosticError) {
      return "ok " + (try f())
    } catch {
      return "refused " + error.diagnostics.map { "\($0.rule ?? "") \($0.location?.file ?? "")" }.joined(separator: ";")
    }
  }

  static func tree() throws -> (TestRepository, [String]) {
    let repo = try TestRepository([
      "environments/dev/environment.yaml": "a: 1\n",
      "environments/dev/cluster.yaml": "a: 1\n",
      "environments/dev/manifests/app.yaml": "a: 1\n",
      "environments/_base/cluster.yaml": "a: 1\n",
      "environments/_shared/ingress.yaml": "a: 1\n",
      "outside/secret.yaml": "secret: 1\n",
      "outside/env/environment.yaml": "a: 1\n",
    ])
    let fm = FileManager.default
    let r = repo.root
    func link(_ at: String, _ to: String) throws { try fm.createSymbolicLink(atPath: r + "/" + at, withDestinationPath: to) }
    try link("environments/dev/manifests/inside.yaml", "../../_shared/ingress.yaml")
    try link("environments/dev/manifests/absolute-inside.yaml", r + "/environments/_shared/ingress.yaml")
    try link("environments/dev/manifests/outside.yaml", r + "/outside/secret.yaml")
    try link("environments/dev/manifests/relative-outside.yaml", "../../../outside/secret.yaml")
    try link("environments/dev/manifests/dangling.yaml", "nowhere.yaml")
    try link("environments/dev/manifests/chain.yaml", "inside.yaml")
    try link("environments/dev/manifests/chain-out.yaml", "outside.yaml")
    try link("environments/evil", r + "/outside/env")
    try link("environments/alias", "dev")
    try link("environments/dev/up", "..")
    try link("environments/rootlink", r)
    let rels = [
      "environments/dev/environment.yaml", "environments/dev/cluster.yaml", "environments/dev/manifests/app.yaml",
      "environments/_base/cluster.yaml", "environments/dev/manifests/inside.yaml", "environments/dev/manifests/absolute-inside.yaml",
      "environments/dev/manifests/outside.yaml", "environments/dev/manifests/relative-outside.yaml",
      "environments/dev/manifests/dangling.yaml", "environments/dev/manifests/chain.yaml", "environments/dev/manifests/chain-out.yaml",
      "environments/evil/environment.yaml", "environments/alias/cluster.yaml", "environments/dev/up/_base/cluster.yaml",
      "environments/rootlink/outside/secret.yaml", "environments/rootlink/environments/dev/cluster.yaml",
      "environments/dev/missing.yaml", "environments/missing/cluster.yaml", "environments/dev/./cluster.yaml",
      "environments/dev/../dev/cluster.yaml", "environments/dev//cluster.yaml", "environments/dev/", "environments/",
      "environments", "environments/dev", "environments/dev/cluster.yaml/x", "environments/../outside/secret.yaml",
      "outside/secret.yaml", "environments/dev/manifests",
    ]
    return (repo, rels)
  }

  @Test func theLstatPathAgreesWithRealpath() throws {
    let (repo, rels) = try Self.tree()
    let roots = [repo.root, repo.root + "/", repo.root + "/environments/.."]
    for root in roots {
      let c = try PathContainment(root: root)
      #expect(c.environmentsIsCanonical)
      for rel in rels {
        let fast = Self.outcome { () throws(DiagnosticError) -> String in try c.resolve(rel) }
        let reference = Self.outcome { () throws(DiagnosticError) -> String in try c.resolveThroughRealpath(rel) }
        #expect(fast == reference, "\(root) \(rel)")
      }
    }
    // the ones that must be refused are
    let c = try PathContainment(root: repo.root)
    for rel in [
      "environments/dev/manifests/outside.yaml", "environments/dev/manifests/relative-outside.yaml",
      "environments/dev/manifests/chain-out.yaml", "environments/evil/environment.yaml", "environments/rootlink/outside/secret.yaml",
    ] {
      #expect(Self.outcome { () throws(DiagnosticError) -> String in try c.resolve(rel) }.hasPrefix("refused path-outside"), "\(rel)")
    }
  }

  /// A repository root reached through a symlink resolves the same both ways.
  @Test func aSymlinkedRootAgrees() throws {
    let (repo, rels) = try Self.tree()
    let linkedRoot = repo.root + "-link"
    try FileManager.default.createSymbolicLink(atPath: linkedRoot, withDestinationPath: repo.root)
    defer { try? FileManager.default.removeItem(atPath: linkedRoot) }
    let c = try PathContainment(root: linkedRoot)
    for rel in rels {
      let fast = Self.outcome { () throws(DiagnosticError) -> String in try c.resolve(rel) }
      let reference = Self.outcome { () throws(DiagnosticError) -> String in try c.resolveThroughRealpath(rel) }
      #expect(fast == reference, "\(rel)")
    }
  }

  /// With `environments/` a symlink, every environment is refused alike, the first one and later
  /// ones (the containment is made once per repository value).
  @Test func aSymlinkedEnvironmentsDirectoryIsRefusedForEveryEnvironment() throws {
    let repo = try TestRepository([
      "real/dev/environment.yaml": "cluster: dev.k8s.local\n", "real/dev/cluster.yaml": "a: 1\n",
    ])
    try FileManager.default.createSymbolicLink(atPath: repo.root + "/environments", withDestinationPath: repo.root + "/real")
    let repository = Repository(root: repo.root)
    for _ in 0..<3 {
      #expect(throws: DiagnosticError.self) { try repository.load("dev") }
      do {
        _ = try repository.load("dev")
      } catch {
        #expect(error.diagnostics.first?.message.contains("environments/ is a symlink") == true)
      }
    }
  }
}
