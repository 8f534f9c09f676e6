import Foundation
import HKTestSupport
import Model
import Store
import Testing

/// Issue 17 item 5: secrets in the forms that slipped past redaction — kops's scheme-less
/// proxy `user:pass@host`, a URL password holding `/`, `Authorization: Basic …`, `curl -u
/// user:pass`, `AWS_SECRET_ACCESS_KEY=…` in user data and file assets — never reach plan
/// output (text, markdown, json), `hk state show`, a failed apply's `Why:` line, nor an error
/// about a malformed state row; contents show as digest and length unless `--show-content`.
@Suite struct SecretsSecurityTests {
  static let secrets = ["Pr0xyPa55", "Sl/ash/Pass", "HookPass99", "SG9va0F1dGgtc2VjcmV0", "FileAssetSecret123", "UserDataSecret456"]

  static func install(_ text: String) -> String {
    var t = text.replacingOccurrences(
      of: "  egressProxy:\n",
      with: """
          assets:
            containerProxy: http://mirror-user:Sl/ash/Pass@mirror.corp.local
          hooks:
          - name: fetch.service
            manifest: |
              ExecStart=/usr/bin/curl -u hookuser:HookPass99 -H 'Authorization: Basic SG9va0F1dGgtc2VjcmV0' http://x/a
          fileAssets:
          - name: creds
            path: /etc/creds
            content: |
              AWS_SECRET_ACCESS_KEY=FileAssetSecret123

          egressProxy:
            httpProxy:
              host: squid-user:Pr0xyPa55@proxy.corp.local
              port: 3128

        """)
    t = t.replacingOccurrences(
      of: "  machineType: m5.large\n",
      with: """
          machineType: m5.large
          additionalUserData:
          - name: setup.sh
            type: text/x-shellscript
            content: |
              #!/bin/sh
              export AWS_SECRET_ACCESS_KEY="UserDataSecret456"

        """)
    return t
  }

  func expectNoSecret(_ what: String, _ text: String) {
    for s in Self.secrets { #expect(!text.contains(s), "\(what) shows \(s):\n\(text)") }
    #expect(!text.contains("row:") && !text.contains("createdAt"), "\(what) prints a database row:\n\(text)")
  }

  @Test func secretsNeverReachPlanStateOrErrors() throws {
    let repo = try SecurityRepo()
    try repo.edit("environments/dev/cluster.yaml", Self.install)
    let validate = try repo.run(["validate", "dev"])
    #expect(validate.exitCode == 0, "\(validate)")
    for format in ["text", "markdown", "json"] {
      let plan = try repo.run(["plan", "dev", "--format", format])
      #expect(plan.exitCode == 0, "\(plan)")
      expectNoSecret("plan --format \(format)", plan.stdout + plan.stderr)
      // A created cluster is cut short in text and markdown; JSON holds whole values.
      if format == "json" { #expect(plan.stdout.contains("(content: "), "contents are not summarised:\n\(plan.stdout)") }
      let shown = try repo.run(["plan", "dev", "--format", format, "--show-content"])
      expectNoSecret("plan --show-content --format \(format)", shown.stdout + shown.stderr)
      if format == "json" { #expect(shown.stdout.contains("AWS_SECRET_ACCESS_KEY"), "--show-content hides the content") }
    }

    // A failed apply: kops's error text (the closing Why: line) holds the secrets.
    let kops = repo.dir.path + "/bin/leaky-kops"
    try FileManager.default.createDirectory(atPath: repo.dir.path + "/bin", withIntermediateDirectories: true)
    try """
    #!/bin/sh
    echo "Error: cannot reach proxy squid-user:Pr0xyPa55@proxy.corp.local or http://m:Sl/ash/Pass@mirror" >&2
    echo "request had Authorization: Basic SG9va0F1dGgtc2VjcmV0 and AWS_SECRET_ACCESS_KEY=UserDataSecret456" >&2
    exit 1

    """.write(toFile: kops, atomically: true, encoding: .utf8)
    chmod(kops, 0o755)
    let failed = try repo.run(["apply", "dev", "--yes", "--kops", kops])
    #expect(failed.exitCode != 0)
    expectNoSecret("a failed apply", failed.stdout + failed.stderr)

    // The recorded state: hk state show.
    let text = try String(contentsOfFile: repo.root + "/environments/dev/cluster.yaml", encoding: .utf8)
    let docs = text.components(separatedBy: "\n---\n")
    let store = try SQLiteStateStore(path: repo.stateDB)
    try store.record(
      RecordedStateDraft(
        environment: "dev", clusterYAML: docs[0], instanceGroupsYAML: Array(docs.dropFirst()), cloudUpdated: true, pendingRolls: [],
        igwAttached: false),
      expectedPrior: nil, actor: StoreActor(user: "t", host: "h", pid: 1, command: "test"), note: "test")
    let show = try repo.run(["state", "show", "dev"])
    #expect(show.exitCode == 0, "\(show)")
    expectNoSecret("state show", show.stdout + show.stderr)
    #expect(show.stdout.contains("(content: "))
    let showAll = try repo.run(["state", "show", "dev", "--show-content"])
    expectNoSecret("state show --show-content", showAll.stdout + showAll.stderr)
    #expect(showAll.stdout.contains("AWS_SECRET_ACCESS_KEY"))

    // A malformed row: hk says the row cannot be read, and prints none of it.
    let sql = try runProcess(
      "/usr/bin/env", ["sqlite3", repo.stateDB, "UPDATE revision SET createdAt = 'not a date';"], env: [:],
      cwd: repo.dir.path, timeout: 30)
    #expect(sql.exitCode == 0, "\(sql)")
    // (`hk state list`'s crash on such a row is item 6, the store's.)
    for args in [["plan", "dev"], ["state", "show", "dev"], ["state", "history", "dev"], ["drift", "dev"]] {
      let r = try repo.run(args, env: ["HK_KOPS": "/nonexistent/kops"])
      expectNoSecret("\(args.joined(separator: " ")) on a malformed row", r.stdout + r.stderr)
    }
  }
}
