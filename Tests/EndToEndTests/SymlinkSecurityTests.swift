import Foundation
import HKTestSupport
import Testing

/// Issue 17 item 7: symlinks a pull request commits never lead hk outside `environments/`: a
/// symlinked environment directory, `environment.yaml` or manifest is refused with a position,
/// and nothing of the target (a fake `~/.aws/credentials`, another checkout) is echoed;
/// `--changed-since` matches a shared file reached through a symlink where it leads.
@Suite struct SymlinkSecurityTests {
  static let credentials = """
    [default]
    aws_access_key_id = AKIAFAKEFAKEFAKE1234
    aws_secret_access_key = FakeCredKey123+/abcdefghijklmnopqrstuvwxyz

    """

  func expectRefused(_ repo: SecurityRepo, _ env: String, file: String) throws {
    for args in [["validate", env], ["plan", env, "--format", "json"], ["plan", env, "--format", "markdown"]] {
      let r = try repo.run(args, env: ["HK_KOPS": "/nonexistent/kops"])
      let output = r.stdout + r.stderr
      #expect(r.exitCode != 0, "\(args): \(r)")
      #expect(output.contains("\(file):1:1: error:") && output.contains("outside environments/"), "\(args): \(output)")
      for secret in ["FakeCredKey123", "AKIAFAKEFAKEFAKE1234", "OutsideSecret", "aws_secret_access_key", "home/"] {
        #expect(!output.contains(secret), "\(args) echoes \(secret): \(output)")
      }
    }
  }

  @Test func aSymlinkedManifestToCredentialsIsRefused() throws {
    let repo = try SecurityRepo()
    let creds = try repo.dir.write("home/.aws/credentials", Self.credentials)
    try FileManager.default.createSymbolicLink(atPath: repo.root + "/environments/dev/manifests/creds.yaml", withDestinationPath: creds)
    try expectRefused(repo, "dev", file: "environments/dev/manifests/creds.yaml")
  }

  @Test func aSymlinkedEnvironmentYAMLIsRefused() throws {
    let repo = try SecurityRepo()
    let outside = try repo.dir.write(
      "other-checkout/environment.yaml",
      try String(contentsOfFile: repo.root + "/environments/dev/environment.yaml", encoding: .utf8) + "# OutsideSecret\n")
    try FileManager.default.removeItem(atPath: repo.root + "/environments/dev/environment.yaml")
    try FileManager.default.createSymbolicLink(atPath: repo.root + "/environments/dev/environment.yaml", withDestinationPath: outside)
    try expectRefused(repo, "dev", file: "environments/dev/environment.yaml")
  }

  @Test func aSymlinkedEnvironmentDirectoryIsRefused() throws {
    let repo = try SecurityRepo()
    let other = repo.dir.path + "/other-checkout/environments/secret"
    try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: true)
    for f in ["environment.yaml", "cluster.yaml"] {
      let text = try String(contentsOfFile: repo.root + "/environments/dev/\(f)", encoding: .utf8)
      _ = try repo.dir.write(
        "other-checkout/environments/secret/\(f)",
        text.replacingOccurrences(of: "base: ../_base/cluster.yaml\n", with: "") + "# OutsideSecret\n")
    }
    try FileManager.default.createSymbolicLink(atPath: repo.root + "/environments/evil", withDestinationPath: other)
    try expectRefused(repo, "evil", file: "environments/evil/environment.yaml")
    // The whole environments/ directory as a symlink is refused too.
    let moved = repo.dir.path + "/real-environments"
    try FileManager.default.moveItem(atPath: repo.root + "/environments", toPath: moved)
    try FileManager.default.createSymbolicLink(atPath: repo.root + "/environments", withDestinationPath: moved)
    let r = try repo.run(["validate", "dev"])
    #expect(r.exitCode != 0 && (r.stdout + r.stderr).contains("environments/ is a symlink"), "\(r)")
  }

  /// A manifest shared through a symlink inside environments/ is allowed, and an edit of the
  /// shared file counts as a change of every environment that links it.
  @Test func changedSinceMatchesResolvedPaths() throws {
    let repo = try SecurityRepo()
    let shared = repo.root + "/environments/_shared"
    try FileManager.default.createDirectory(atPath: shared, withIntermediateDirectories: true)
    try FileManager.default.moveItem(atPath: repo.root + "/environments/dev/manifests/ingress.yaml", toPath: shared + "/ingress.yaml")
    try FileManager.default.createSymbolicLink(
      atPath: repo.root + "/environments/dev/manifests/ingress.yaml", withDestinationPath: "../../_shared/ingress.yaml")
    func git(_ args: [String]) throws {
      let r = try runProcess(
        "/usr/bin/env", ["git", "-C", repo.root] + args,
        env: [
          "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": repo.dir.path,
          "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@e",
        ],
        cwd: repo.root, timeout: 60)
      #expect(r.exitCode == 0, "git \(args): \(r)")
    }
    try git(["init", "-q"])
    try git(["add", "-A"])
    try git(["commit", "-qm", "init"])
    let validate = try repo.run(["validate", "dev"])
    #expect(validate.exitCode == 0, "a symlink inside environments/ is allowed: \(validate)")
    try repo.edit("environments/_shared/ingress.yaml") { $0.replacingOccurrences(of: "port: 443", with: "port: 8443") }
    let plan = try repo.run(["plan", "--changed-since", "HEAD"], env: ["HK_KOPS": "/nonexistent/kops"])
    #expect(plan.stdout.contains("Environment dev"), "the edit of a linked manifest does not plan dev: \(plan)")
    #expect(!plan.stdout.contains("Environment prod"), "\(plan)")
  }
}
