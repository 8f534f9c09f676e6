import Config
import Foundation
import HKTestSupport
import Model
import Testing

/// fake-kops's fault injection and invocation log (no cloud needed: `version` and `get`).
@Suite struct FakeKopsFaultTests {
  @Test func failsOnlyTheNthCallOfTheNamedCommand() throws {
    let f = try FakeKopsFixture(withMoto: false)
    let env = ["FAKE_KOPS_FAIL": "version:2,get:1"]
    let first = try f.kops.run(["version", "--short"], env: env)
    let second = try f.kops.run(["version", "--short"], env: env)
    let third = try f.kops.run(["version", "--short"], env: env)
    #expect(first.exitCode == 0)
    #expect(second.exitCode == 1)
    #expect(second.stdout.isEmpty)
    #expect(second.stderr.hasPrefix("Error: "))
    #expect(third.exitCode == 0)
    let get = try f.kops.run(["get", "clusters"], env: env)
    #expect(get.exitCode == 1)
    #expect(get.stderr.contains("injected failure of get call 1"))
  }

  @Test func exit255IsAKlogFatal() throws {
    let f = try FakeKopsFixture(withMoto: false)
    let result = try f.kops.run(["version"], env: ["FAKE_KOPS_EXIT255": "version"])
    #expect(result.exitCode == 255)
    #expect(result.stderr.hasPrefix("F"))
    #expect(result.stdout.isEmpty)
  }

  @Test func aHangingCallIsKilledByTheTestAndStillLogged() throws {
    let f = try FakeKopsFixture(withMoto: false)
    let started = Date()
    let result = try f.kops.run(
      ["validate", "cluster", FakeKopsFixture.cluster, "-o", "json"], env: ["FAKE_KOPS_HANG": "validate:1"], timeout: 1.5)
    #expect(result.timedOut)
    #expect(Date().timeIntervalSince(started) < 10)
    #expect(f.kops.invocations() == [["validate", "cluster", FakeKopsFixture.cluster, "-o", "json"]])
    #expect(f.kops.completedCalls().isEmpty)
  }

  @Test func everyCallSleepsFirstWhenAsked() throws {
    let f = try FakeKopsFixture(withMoto: false)
    let started = Date()
    let result = try f.kops.run(["version", "--short"], env: ["FAKE_KOPS_SLEEP": "0.6"])
    #expect(result.exitCode == 0)
    #expect(Date().timeIntervalSince(started) >= 0.6)
  }

  @Test func invocationLogRecordsArgvKubeconfigAndExit() throws {
    let f = try FakeKopsFixture(withMoto: false)
    _ = try f.kops.run(["version", "--short"])
    _ = try f.kops.run(["get", "clusters", "-o", "yaml"], env: ["KUBECONFIG": "/tmp/scratch-kubeconfig"])
    _ = try f.kops.run(["update", "cluster", "--bogus"])
    #expect(
      f.kops.invocations() == [["version", "--short"], ["get", "clusters", "-o", "yaml"], ["update", "cluster", "--bogus"]])
    #expect(f.kops.completedCalls().map { $0.exit } == [0, 1, 1])
    let starts = f.kops.logEntries().filter { $0["event"]?.stringValue == "start" }
    #expect(starts.map { $0["kubeconfig"] } == [.null, .string("/tmp/scratch-kubeconfig"), .null])
    #expect(starts.first?["env"]?["KOPS_STATE_STORE"]?.stringValue == "s3://hk-test-kops-state")
  }

  @Test func garbageGetOutputDoesNotParse() throws {
    let f = try FakeKopsFixture()
    try f.create()
    let result = try f.kops.run(["get", "all", FakeKopsFixture.cluster, "-o", "yaml"], env: ["FAKE_KOPS_GARBAGE": "get"])
    #expect(result.exitCode == 0)
    #expect(!result.stdout.isEmpty)
    #expect(throws: DiagnosticError.self) { try YAMLParser.parse(result.stdout, file: "garbage.yaml") }
  }
}
