import Config
import Foundation
import HKTestSupport
import Model
import Store
import Testing

/// `hk validate` and `hk plan` as a user runs them: the real binary on a temporary copy of the
/// sample repository, with no kops, no aws and no credentials in its environment.
@Suite struct PlanCommandTests {
  final class Repo: @unchecked Sendable {
    let dir: TemporaryDirectory
    let hk: String
    var root: String { dir.path + "/repo" }
    init() throws {
      dir = try TemporaryDirectory(prefix: "hk-plan")
      hk = try TestProducts.executable("hk")
      try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
      try FileManager.default.copyItem(atPath: packageRoot + "/environments", toPath: root + "/environments")
    }
    /// A minimal environment: no kops or aws on PATH, no AWS variables.
    var env: [String: String] { ["PATH": "/usr/bin:/bin", "HOME": dir.path, "NO_COLOR": "1"] }
    func hk(_ args: [String]) throws -> ProcessResult {
      try runProcess(hk, args + ["--root", root], env: env, cwd: root, timeout: 60)
    }
    func git(_ args: [String]) throws {
      let r = try runProcess(
        "/usr/bin/git", ["-C", root] + args,
        env: env.merging(["GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@x"]) {
          $1
        })
      #expect(r.exitCode == 0, "git \(args): \(r)")
    }
    func edit(_ relative: String, _ old: String, _ new: String) throws {
      let path = root + "/" + relative
      let text = try String(contentsOfFile: path, encoding: .utf8)
      #expect(text.contains(old))
      try text.replacingOccurrences(of: old, with: new).write(toFile: path, atomically: true, encoding: .utf8)
    }
  }

  @Test func planOnTheSamplesNeedsNoCloudAndWritesNoState() throws {
    let repo = try Repo()
    let r = try repo.hk(["plan"])
    #expect(r.exitCode == 0, "\(r)")
    #expect(r.stdout.contains("Environment dev (dev.k8s.corp.local; nothing recorded yet)"))
    #expect(r.stdout.contains("Plan: 14 changes in 3 environments (13 steps)."))
    #expect(!FileManager.default.fileExists(atPath: repo.root + "/state/hk.sqlite"))
    let d = try repo.hk(["plan", "--detailed-exitcode", "prod"])
    #expect(d.exitCode == 2)
    let md = try repo.hk(["plan", "--format", "markdown"])
    #expect(md.stdout.hasPrefix("## hk plan"))
    #expect(md.stdout.contains("<details><summary><b>staging</b>"))
    let json = try JSONValue.parse(try repo.hk(["plan", "--format", "json"]).stdout)
    #expect(json["format_version"] == .string("1"))
    #expect(json["environments"]?.arrayValue?.count == 3)
  }

  /// A pull-request job may only read the state database (a read-only mount, another user's
  /// file): plan, state and lock list read a private snapshot and leave the file untouched;
  /// a command that writes is refused with advice.
  @Test func readOnlyStateIsPlannedFromASnapshot() throws {
    let repo = try Repo()
    let stateDir = repo.root + "/state"
    let db = stateDir + "/hk.sqlite"
    do {
      let store = try SQLiteStateStore(path: db)
      let env = try Repository(root: repo.root).load("dev")
      try store.record(
        RecordedStateDraft(
          environment: "dev", clusterYAML: YAMLEmitter.emit(env.cluster),
          instanceGroupsYAML: env.instanceGroups.map { YAMLEmitter.emit($0) },
          cloudUpdated: true, pendingRolls: [], igwAttached: false),
        expectedPrior: nil, actor: StoreActor(user: "t", host: "h", pid: 1, command: "test"), note: "seeded")
      try store.close()
    }
    let before = FileManager.default.contents(atPath: db)
    let listing = try FileManager.default.contentsOfDirectory(atPath: stateDir).sorted()
    #expect(chmod(db, 0o444) == 0 && chmod(stateDir, 0o555) == 0)
    defer {
      chmod(stateDir, 0o755)
      chmod(db, 0o644)
    }

    let plan = try repo.hk(["plan", "dev", "--detailed-exitcode"])
    #expect(plan.exitCode == 0, "\(plan)")
    #expect(plan.stdout.contains("Environment dev (dev.k8s.corp.local; recorded serial 1"), "\(plan.stdout)")
    #expect(plan.stdout.contains("No changes."))
    let list = try repo.hk(["state", "list"])
    #expect(list.exitCode == 0 && list.stdout.contains("dev"), "\(list)")
    let locks = try repo.hk(["lock", "list"])
    #expect(locks.exitCode == 0, "\(locks)")
    let unlock = try repo.hk(["lock", "unlock", "dev", "--force", "x"])
    #expect(unlock.exitCode == 1 && unlock.stderr.contains("read-only"), "\(unlock)")

    #expect(FileManager.default.contents(atPath: db) == before)
    #expect(try FileManager.default.contentsOfDirectory(atPath: stateDir).sorted() == listing)
  }

  @Test func changedSinceAsksGit() throws {
    let repo = try Repo()
    try repo.git(["init", "-q"])
    try repo.git(["add", "-A"])
    try repo.git(["commit", "-qm", "samples"])
    var r = try repo.hk(["plan", "--changed-since", "HEAD"])
    #expect(r.exitCode == 0)
    #expect(r.stderr.contains("No environment changed since HEAD"))
    try repo.edit("environments/staging/cluster.yaml", "maxSize: 4", "maxSize: 6")
    r = try repo.hk(["plan", "--changed-since", "HEAD", "--format", "json"])
    let names = try JSONValue.parse(r.stdout)["environments"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
    #expect(names == ["staging"])
    // a change of the base concerns every environment that uses it
    try repo.git(["commit", "-qam", "staging"])
    try repo.edit("environments/_base/cluster.yaml", "port: 3128", "port: 8080")
    r = try repo.hk(["plan", "--changed-since", "HEAD", "--format", "json"])
    let all = try JSONValue.parse(r.stdout)["environments"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
    #expect(all == ["dev", "prod", "staging"])
    // an untracked new file counts
    try repo.git(["commit", "-qam", "base"])
    _ = try repo.dir.write("repo/environments/prod/manifests/extra.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    r = try repo.hk(["plan", "--changed-since", "HEAD", "--format", "json"])
    #expect(try JSONValue.parse(r.stdout)["environments"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["prod"])
    let bad = try repo.hk(["plan", "--changed-since", "no-such-ref"])
    #expect(bad.exitCode == 1)
    #expect(bad.stderr.contains("git failed"))
  }

  @Test func validateReportsPositionsAndExitsOneOnErrors() throws {
    let repo = try Repo()
    var r = try repo.hk(["validate"])
    #expect(r.exitCode == 0, "\(r)")
    #expect(r.stdout.contains("3 environments checked: 0 errors"))
    try repo.edit(
      "environments/_base/cluster.yaml", "      type: Internal            # no IGW: a public load balancer cannot work",
      "      type: Public")
    r = try repo.hk(["validate", "dev"])
    #expect(r.exitCode == 1)
    #expect(
      r.stdout.contains(
        "environments/_base/cluster.yaml:11:13: error: spec.api.loadBalancer.type Public cannot work without an internet gateway"),
      "\(r.stdout)")
    let p = try repo.hk(["plan", "dev"])
    #expect(p.exitCode == 1)
    #expect(p.stdout.contains("error: spec.api.loadBalancer.type Public"), "\(p)")
  }

  @Test func badEnvironmentNamesAreRefusedBeforeAnyFileIsOpened() throws {
    let repo = try Repo()
    for name in ["../etc", "Dev", "a;rm -rf /", "-x", ""] {
      let r = try repo.hk(["plan", "--", name])
      #expect(r.exitCode != 0, "\(name)")
      #expect(!r.stderr.isEmpty)
    }
    let r = try repo.hk(["plan", "nope"])
    #expect(r.exitCode == 1)
    #expect(r.stderr.contains("no environment 'nope'"))
    #expect(!FileManager.default.fileExists(atPath: repo.root + "/state/hk.sqlite"))
  }
}
