import Foundation
import Model

/// The `fake-kops` double as tests use it: its binary, an isolated environment (state store,
/// S3 root, home, invocation log) and readers for what it recorded.
///
/// Layout under `directory`: `s3/<bucket>/…` (the state store when it is `s3://…`), `home/`
/// (`$HOME`; `home/.kube/config` is the default kubeconfig), `fake-kops.log` (one JSON line per
/// call start and end) and `fake-kops.log.counters`.
public final class FakeKops: @unchecked Sendable {
  /// The `fake-kops` executable.
  public let binary: String
  /// The scratch directory everything lives in (owned by the caller).
  public let directory: String
  /// The kops version imitated (`FAKE_KOPS_VERSION`).
  public var version: String
  /// The state store URL passed as `KOPS_STATE_STORE` (and what hk would pass as `--state`).
  public var stateStore: String
  /// The moto server whose endpoint and credentials are exported, if any.
  public var moto: MotoServer?
  /// More variables for every call (e.g. `FAKE_KOPS_TASK_DEADLINE`).
  public var extraEnvironment: [String: String] = [:]

  public var s3Root: String { directory + "/s3" }
  public var logPath: String { directory + "/fake-kops.log" }
  public var home: String { directory + "/home" }
  /// The kubeconfig fake-kops reads and writes when `KUBECONFIG` is not set.
  public var defaultKubeconfig: String { home + "/.kube/config" }

  /// Prepares the directories; an `s3://bucket/…` store gets its bucket directory.
  public init(
    directory: String, version: String = "1.28.4", stateStore: String = "s3://hk-test-kops-state", moto: MotoServer? = nil
  ) throws {
    binary = try TestProducts.executable("fake-kops")
    self.directory = directory
    self.version = version
    self.stateStore = stateStore
    self.moto = moto
    try FileManager.default.createDirectory(atPath: directory + "/home", withIntermediateDirectories: true)
    if stateStore.hasPrefix("s3://") {
      let bucket = stateStore.dropFirst("s3://".count).split(separator: "/").first.map(String.init) ?? ""
      try FileManager.default.createDirectory(atPath: s3Root + "/" + bucket, withIntermediateDirectories: true)
    }
  }

  /// The local directory behind the state store.
  public var storeDirectory: String {
    if stateStore.hasPrefix("s3://") { return s3Root + "/" + stateStore.dropFirst("s3://".count) }
    if stateStore.hasPrefix("file://") { return String(stateStore.dropFirst("file://".count)) }
    return stateStore
  }

  /// A file of the store: `<store>/<cluster>/<relative>`.
  public func storeFile(_ cluster: String, _ relative: String) -> String {
    storeDirectory + "/" + cluster + "/" + relative
  }

  /// The complete environment for running the double (or hk driving it): PATH from the test
  /// process, an isolated HOME, no KUBECONFIG, the store, the log, the version and moto's AWS
  /// variables (or none of the AWS variables without moto).
  public var environment: [String: String] {
    let inherited = ProcessInfo.processInfo.environment
    var env: [String: String] = [:]
    for key in ["PATH", "LANG", "LC_ALL", "TMPDIR", "USER"] { if let v = inherited[key] { env[key] = v } }
    env["HOME"] = home
    env["KOPS_STATE_STORE"] = stateStore
    env["FAKE_KOPS_S3_ROOT"] = s3Root
    env["FAKE_KOPS_LOG"] = logPath
    env["FAKE_KOPS_VERSION"] = version
    if let moto { for (k, v) in moto.environment { env[k] = v } }
    for (k, v) in extraEnvironment { env[k] = v }
    return env
  }

  /// Runs `fake-kops args…` with ``environment`` plus `env` (an empty value removes a variable).
  public func run(
    _ args: [String], env overrides: [String: String] = [:], stdin: String? = nil, cwd: String? = nil, timeout: Double = 60
  ) throws -> ProcessResult {
    var env = environment
    for (k, v) in overrides { env[k] = v.isEmpty ? nil : v }
    return try runProcess(binary, args, env: env, cwd: cwd ?? directory, stdin: stdin, timeout: timeout)
  }

  /// The parsed lines of the invocation log, in order.
  public func logEntries() -> [JSONValue] {
    guard let data = FileManager.default.contents(atPath: logPath) else { return [] }
    return String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap { try? JSONValue.parse(String($0)) }
  }

  /// The argv of every call that started (hung and killed calls included), in order.
  public func invocations() -> [[String]] {
    logEntries().filter { $0["event"]?.stringValue == "start" }.map { entry in
      (entry["argv"]?.arrayValue ?? []).compactMap(\.stringValue)
    }
  }

  /// The exit code of every call that ended, with its argv, in order.
  public func completedCalls() -> [(argv: [String], exit: Int)] {
    logEntries().filter { $0["event"]?.stringValue == "end" }.map { entry in
      ((entry["argv"]?.arrayValue ?? []).compactMap(\.stringValue), Int(entry["exit"]?.intValue ?? -1))
    }
  }

  /// The simulated cloud of a cluster (`<store>/<cluster>/.fake-cloud.json`), nil before any
  /// `update --yes`.
  public func cloudState(_ cluster: String) -> JSONValue? {
    guard let data = FileManager.default.contents(atPath: storeFile(cluster, ".fake-cloud.json")) else { return nil }
    return try? JSONValue.parse(String(decoding: data, as: UTF8.self))
  }
}
