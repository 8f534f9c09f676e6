import Config
import Foundation
import HKTestSupport
import Model
import Store
import Testing

/// Issue 17 item 3: a pull request that changes `stateStore`, `aws.profile`, `aws.region`,
/// `kopsPath` or the gateway plans a `settings` change with a review banner (it planned "No
/// changes"); an apply that moves `stateStore` is refused without `--allow-state-store-change`.
@Suite struct SettingsSecurityTests {
  @Test func settingsChangesArePlannedAndAStateStoreMoveIsRefused() throws {
    let repo = try SecurityRepo()
    // No configBase: it would have to follow the stateStore (config-base-mismatch).
    try repo.edit("environments/dev/cluster.yaml") {
      $0.replacingOccurrences(of: "  configBase: s3://corp-kops-state-dev/dev.k8s.corp.local\n", with: "")
    }
    let env = try Repository(root: repo.root).load("dev")
    let store = try SQLiteStateStore(path: repo.stateDB)
    try store.record(
      RecordedStateDraft(
        environment: "dev", clusterYAML: YAMLEmitter.emit(env.cluster), instanceGroupsYAML: env.instanceGroups.map { YAMLEmitter.emit($0) },
        cloudUpdated: true, pendingRolls: [], igwAttached: false, settings: env.settings.recorded),
      expectedPrior: nil, actor: StoreActor(user: "t", host: "h", pid: 1, command: "test"), note: "applied")
    let noKops = ["HK_KOPS": "/nonexistent/kops"]
    let before = try repo.run(["plan", "dev", "--detailed-exitcode"], env: noKops)
    #expect(before.exitCode == 0 && before.stdout.contains("No changes"), "\(before)")

    try repo.edit("environments/dev/environment.yaml") {
      $0.replacingOccurrences(of: "s3://corp-kops-state-dev", with: "s3://attacker-state")
        .replacingOccurrences(of: "profile: corp-dev", with: "profile: corp-prod")
        .replacingOccurrences(of: "igw-0a1b2c3d4e5f60718", with: "igw-0fffffffffffffff0") + "kopsPath: /opt/kops-elsewhere/kops\n"
    }
    let plan = try repo.run(["plan", "dev", "--detailed-exitcode", "--format", "json"], env: noKops)
    #expect(plan.exitCode == 2, "\(plan)")
    let json = try JSONValue.parse(plan.stdout)
    let changes = json["environments"]?.arrayValue?.first?["changes"]?.arrayValue ?? []
    let settings = changes.filter { $0["category"]?.stringValue == "settings" }.compactMap { $0["path"]?.stringValue }
    #expect(
      Set(settings)
        == [
          "settings.stateStore", "settings.aws.profile", "settings.internetGateway.id", "settings.kopsPath",
        ], "\(plan.stdout)")
    let text = try repo.run(["plan", "dev"], env: noKops)
    #expect(text.stdout.contains("settings in environment.yaml changed: review before merging"), "\(text)")
    #expect(text.stdout.contains("~ settings.stateStore: \"s3://corp-kops-state-dev\" → \"s3://attacker-state\""), "\(text)")
    let markdown = try repo.run(["plan", "dev", "--format", "markdown"], env: noKops)
    #expect(markdown.stdout.contains("**Settings changes**"), "\(markdown)")

    // The apply that would move the state store is refused, nothing recorded.
    let refused = try repo.run(["apply", "dev", "--yes"], env: noKops)
    #expect(refused.exitCode != 0 && refused.stderr.contains("--allow-state-store-change"), "\(refused)")
    #expect(try store.recorded("dev")?.serial == 1)
    // Allowed: a settings-only plan runs nothing and records the new settings.
    let allowed = try repo.run(["apply", "dev", "--yes", "--allow-state-store-change"], env: noKops)
    #expect(allowed.exitCode == 0, "\(allowed)")
    #expect(try store.recorded("dev")?.settings?["stateStore"] == "s3://attacker-state")
    let after = try repo.run(["plan", "dev", "--detailed-exitcode"], env: noKops)
    #expect(after.exitCode == 0 && after.stdout.contains("No changes"), "\(after)")
  }
}
