import Foundation
import Model
import Testing

@testable import Config

/// An environment's files are opened from its directory's descriptor (`openat`, no symlink
/// followed) when they are plain regular files; everything else takes containment's checks and
/// a read by path. These tests load environments of odd shapes both ways (symlinks inside and
/// outside `environments/`, a symlinked environment or `manifests/`, `manifests` as a file, a
/// FIFO, a directory named like a manifest, a file over the limit) and compare the results.
@Suite struct DirectoryReadTests {
  static let cluster =
    "apiVersion: kops.k8s.io/v1alpha2\nkind: Cluster\nmetadata:\n  name: NAME.k8s.local\nspec:\n  kubernetesVersion: 1.28.9\n"
  static let manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-configuration-of-this-cluster\n"

  static func settings(_ name: String) -> String {
    "cluster: \(name).k8s.local\nstateStore: s3://state-bucket-\(name)\nkopsVersion: 1.28.4\naws: {region: ap-northeast-1}\ninternetGateway: {strategy: none}\n"
  }

  /// What a load gives: the files read (paths, digests, resolved paths) and the trees, or the
  /// diagnostics.
  static func outcome(_ repository: Repository, _ name: String) -> String {
    do throws(DiagnosticError) {
      let env = try repository.load(name)
      let files = env.sourceFiles.map { "\($0.path) \($0.digest) \($0.resolvedPath ?? "-")" }
      let trees = ([env.cluster] + env.instanceGroups + env.kubernetesManifests).map {
        YAMLEmitter.emit($0) + " @\($0.mark)"
      }
      return "ok\n" + (files + trees).joined(separator: "\n")
    } catch {
      return "refused "
        + error.diagnostics.map { "\($0.rule ?? "") \($0.location.map { "\($0.file):\($0.line)" } ?? "") \($0.message)" }
        .joined(separator: ";")
    }
  }

  @Test func bothWaysAgree() throws {
    var files: [String: String] = ["outside/secret.yaml": Self.manifest, "environments/_shared/ingress.yaml": Self.manifest]
    let names = [
      "plain", "manifests-link", "manifests-file", "file-links", "fifo", "dir-manifest", "big", "alias-target", "outside-env",
      "no-manifests",
    ]
    for n in names {
      files["environments/\(n)/environment.yaml"] = Self.settings(n)
      files["environments/\(n)/cluster.yaml"] = Self.cluster.replacingOccurrences(of: "NAME", with: n)
      if n != "no-manifests" && n != "manifests-link" && n != "manifests-file" {
        files["environments/\(n)/manifests/app.yaml"] = Self.manifest
      }
    }
    files["environments/manifests-file/manifests"] = Self.manifest
    files["environments/big/manifests/huge.yaml"] = String(repeating: "# padding\n", count: 200) + Self.manifest
    files["environments/outside-env/environment.yaml"] = nil
    files["outside/env/environment.yaml"] = Self.settings("outside-env")
    let repo = try TestRepository(files)
    let r = repo.root
    let fm = FileManager.default
    func link(_ at: String, _ to: String) throws { try fm.createSymbolicLink(atPath: r + "/" + at, withDestinationPath: to) }
    try link("environments/manifests-link/manifests", "../plain/manifests")
    try link("environments/file-links/manifests/inside.yaml", "../../_shared/ingress.yaml")
    try link("environments/file-links/manifests/outside.yaml", r + "/outside/secret.yaml")
    try link("environments/file-links/manifests/z-dangling.yaml", "nowhere.yaml")
    try link("environments/outside-env/environment.yaml", r + "/outside/env/environment.yaml")
    try link("environments/alias", "alias-target")
    #expect(mkfifo(r + "/environments/fifo/manifests/pipe.yaml", 0o600) == 0)
    try fm.createDirectory(atPath: r + "/environments/dir-manifest/manifests/sub.yaml", withIntermediateDirectories: true)

    var limits = YAMLLimits.default
    limits.maxBytes = 1000
    for name in names + ["alias", "missing"] {
      let fast = Repository(root: r, limits: limits)
      var slow = Repository(root: r, limits: limits)
      slow.opensFromDirectory = false
      let a = Self.outcome(fast, name)
      #expect(a == Self.outcome(slow, name), "\(name)")
      if name == "plain" || name == "no-manifests" || name == "alias" { #expect(a.hasPrefix("ok"), "\(name): \(a)") }
    }
    // the refusals are
    let repository = Repository(root: r, limits: limits)
    #expect(Self.outcome(repository, "file-links").contains("path-outside"))
    #expect(Self.outcome(repository, "outside-env").contains("path-outside"))
    #expect(Self.outcome(repository, "fifo").contains("not a regular file"))
    #expect(Self.outcome(repository, "dir-manifest").contains("is a directory"))
    #expect(Self.outcome(repository, "big").contains("yaml-size"))
  }

  @Test func readRegularFileMatchesRead() throws {
    let dir = try TemporaryFolder()
    let sizes = [0, 1, 15, 4095, 4096, 4097, 70_000]
    for size in sizes {
      let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 % 251) }
      try Data(bytes).write(to: URL(fileURLWithPath: dir.path + "/f\(size)"))
    }
    let fd = open(dir.path, O_RDONLY | O_DIRECTORY)
    defer { close(fd) }
    for size in sizes {
      #expect(FileReader.readRegularFile(in: fd, "f\(size)", limit: 1 << 20) == (try FileReader.read(dir.path + "/f\(size)")))
      #expect(FileReader.readRegularFile(in: fd, "f\(size)", limit: size) != nil)
      if size > 0 { #expect(FileReader.readRegularFile(in: fd, "f\(size)", limit: size - 1) == nil) }
    }
    try FileManager.default.createSymbolicLink(atPath: dir.path + "/link", withDestinationPath: dir.path + "/f15")
    #expect(FileReader.readRegularFile(in: fd, "link", limit: 100) == nil)
    #expect(FileReader.readRegularFile(in: fd, "missing", limit: 100) == nil)
    try FileManager.default.createDirectory(atPath: dir.path + "/sub", withIntermediateDirectories: false)
    #expect(FileReader.readRegularFile(in: fd, "sub", limit: 100) == nil)
    #expect(mkfifo(dir.path + "/pipe", 0o600) == 0)
    #expect(FileReader.readRegularFile(in: fd, "pipe", limit: 100) == nil)
  }
}

/// A temporary directory removed when released.
final class TemporaryFolder {
  let path: String
  init() throws {
    path = FileManager.default.temporaryDirectory.appendingPathComponent("hk-dirread-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  }
  deinit { try? FileManager.default.removeItem(atPath: path) }
}
