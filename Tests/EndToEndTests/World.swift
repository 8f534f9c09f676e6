import Foundation
import HKTestSupport
import Model
import Store
import Testing

/// The package root, from this file's path.
let packageRoot: String = {
  var url = URL(fileURLWithPath: #filePath)
  for _ in 0..<3 { url.deleteLastPathComponent() }
  return url.path
}()

/// One end-to-end world: a temporary GitOps repository copied from the samples, a real AWS API
/// (the shared moto server on loopback) holding each environment's own VPC and internet gateway, the kops double
/// behind per-version wrappers named by `kopsPath`, and a real SQLite state file.
final class World: @unchecked Sendable {
  let dir: TemporaryDirectory
  let moto: MotoServer
  let kops: FakeKops
  let hk: String
  var root: String { dir.path + "/repo" }
  /// The state location every hk run of this world gets (`--state-db`): the SQLite file under
  /// the repository unless a test points it elsewhere (a PostgreSQL database).
  var stateDB: String { stateLocation ?? root + "/state/hk.sqlite" }
  var stateLocation: String? = nil
  /// Real VPC and gateway ids per environment.
  var vpc: [String: String] = [:]
  var igw: [String: String] = [:]
  /// Extra variables for the next hk runs (fault injection).
  var faults: [String: String] = [:]

  static let samples: [(name: String, cidr: String, sampleVPC: String, sampleIGW: String?, kops: String)] = [
    ("dev", "10.10.0.0/16", "vpc-0a11d2e3f4a5b6c7d", "igw-0a1b2c3d4e5f60718", "1.23.4"),
    ("staging", "10.20.0.0/16", "vpc-0b22d2e3f4a5b6c7d", "igw-0f9e8d7c6b5a49382", "1.23.4"),
    ("prod", "10.30.0.0/16", "vpc-0c33d2e3f4a5b6c7d", nil, "1.28.4"),
  ]

  init() throws {
    dir = try TemporaryDirectory(prefix: "hk-e2e")
    moto = try MotoServer.shared()
    kops = try FakeKops(directory: dir.path + "/kops", moto: moto)
    kops.extraEnvironment["FAKE_KOPS_TASK_DEADLINE"] = "1"
    hk = try TestProducts.executable("hk")
    let fm = FileManager.default
    try fm.createDirectory(atPath: root, withIntermediateDirectories: true)
    try fm.copyItem(atPath: packageRoot + "/environments", toPath: root + "/environments")
    // One kops binary per version, as teams install them (kopsPath in environment.yaml).
    for v in ["1.23.4", "1.28.4"] {
      let path = dir.path + "/bin/kops-\(v)"
      _ = try dir.write("bin/kops-\(v)", "#!/bin/sh\nFAKE_KOPS_VERSION=\(v) exec '\(kops.binary)' \"$@\"\n")
      chmod(path, 0o755)
    }
    // AWS profiles named by the samples' environment.yaml, with moto's test credentials.
    var config = ""
    var credentials = ""
    for s in Self.samples {
      config += "[profile corp-\(s.name)]\nregion = ap-northeast-1\n\n"
      credentials += "[corp-\(s.name)]\naws_access_key_id = testing\naws_secret_access_key = testing\n\n"
    }
    _ = try dir.write("aws/config", config)
    _ = try dir.write("aws/credentials", credentials)
    for s in Self.samples {
      let v = try moto.createVPC(cidr: s.cidr)
      vpc[s.name] = v
      try fm.createDirectory(atPath: kops.s3Root + "/corp-kops-state-\(s.name)", withIntermediateDirectories: true)
      try replace(in: "environments/\(s.name)/cluster.yaml", s.sampleVPC, v)
      if let sampleIGW = s.sampleIGW {
        let g = try moto.createInternetGateway()
        igw[s.name] = g
        try replace(in: "environments/\(s.name)/environment.yaml", sampleIGW, g)
      }
      try append(to: "environments/\(s.name)/environment.yaml", "kopsPath: \(dir.path)/bin/kops-\(s.kops)\n")
    }
  }

  deinit {
    killHungKops()
  }

  func replace(in relative: String, _ old: String, _ new: String) throws {
    let path = root + "/" + relative
    let text = try String(contentsOfFile: path, encoding: .utf8)
    #expect(text.contains(old), "\(relative) has no \(old)")
    try text.replacingOccurrences(of: old, with: new).write(toFile: path, atomically: true, encoding: .utf8)
  }

  func append(to relative: String, _ text: String) throws {
    let path = root + "/" + relative
    let old = try String(contentsOfFile: path, encoding: .utf8)
    try (old + (old.hasSuffix("\n") ? "" : "\n") + text).write(toFile: path, atomically: true, encoding: .utf8)
  }

  var environment: [String: String] {
    var env = kops.environment
    env["AWS_CONFIG_FILE"] = dir.path + "/aws/config"
    env["AWS_SHARED_CREDENTIALS_FILE"] = dir.path + "/aws/credentials"
    env["NO_COLOR"] = "1"
    env.removeValue(forKey: "KOPS_STATE_STORE")
    for (k, v) in faults { env[k] = v }
    return env
  }

  /// Runs `hk ARGS --root R --state-db DB` (flags after the subcommand words).
  @discardableResult
  func hk(_ args: [String], timeout: Double = 180) throws -> ProcessResult {
    try runProcess(hk, args + ["--root", root, "--state-db", stateDB], env: environment, cwd: root, timeout: timeout)
  }

  /// `hk apply ENV --yes` with fast validation polling.
  @discardableResult
  func apply(_ envs: [String], extra: [String] = [], timeout: Double = 180) throws -> ProcessResult {
    try hk(["apply"] + envs + ["--yes", "--validate-interval", "0.2", "--validate-timeout", "20"] + extra, timeout: timeout)
  }

  func store() throws -> SQLiteStateStore { try SQLiteStateStore(path: stateDB) }

  /// The store of ``stateDB``, whichever backend it is, opened as hk opens it.
  func anyStore() throws -> any StateStoring {
    guard let store = try StateStores.open(stateDB).store else { throw TestSupportError("no store at \(stateDB)") }
    return store
  }

  func attachedVPCs(_ env: String) throws -> [String] {
    guard let g = igw[env] else { return [] }
    return try moto.attachedVPCs(igw: g)
  }

  /// Kills kops calls left hanging (a start line in the log and no end line).
  func killHungKops() {
    let entries = kops.logEntries()
    var open: [Int64: Bool] = [:]
    for e in entries {
      guard let pid = e["pid"]?.intValue else { continue }
      open[pid] = e["event"]?.stringValue == "start"
    }
    for (pid, isOpen) in open where isOpen { kill(pid_t(pid), SIGKILL) }
  }

  /// kops calls of one subcommand (`update`, `rolling-update`, `replace`…) that exited 0.
  func successfulCalls(_ sub: String) -> [[String]] {
    kops.completedCalls().filter { $0.exit == 0 && $0.argv.first == sub }.map(\.argv)
  }

  /// Edits a file of the temporary repository with a closure over its text.
  func edit(_ relative: String, sourceLocation: SourceLocation = #_sourceLocation, _ change: (String) -> String) throws {
    try TextFile.edit(root + "/" + relative, sourceLocation: sourceLocation, change)
  }

  /// Starts `hk apply dev --yes` (plus `flags`) in the background with exactly `env`; its output
  /// goes to the file `output`, or nowhere.
  func startApply(env: [String: String], flags: [String] = [], output: String? = nil) throws -> Process {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: hk)
    process.arguments = ["apply", "dev", "--yes", "--root", root, "--state-db", stateDB] + flags
    process.environment = env
    var handle = FileHandle.nullDevice
    if let output {
      guard FileManager.default.createFile(atPath: output, contents: nil) else { throw TestSupportError("cannot create \(output)") }
      handle = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
    }
    process.standardOutput = handle
    process.standardError = handle
    try withDefaultSignalMask { try process.run() }
    if output != nil { try handle.close() }
    return process
  }

  /// Waits up to 60 s for a kops call of the subcommand `sub`; whether one was made.
  @discardableResult
  func waitForKops(_ sub: String) -> Bool {
    let deadline = Date().addingTimeInterval(60)
    while Date() < deadline, !kops.invocations().contains(where: { $0.first == sub }) { usleep(50_000) }
    return kops.invocations().contains { $0.first == sub }
  }

  /// The crash of the reliability tests: `hk apply dev` SIGKILLed while `kops update` hangs
  /// (the gateway attached by then), and the hung kops call killed after it.
  func sigkillApplyDuringKopsUpdate(env: [String: String]) throws {
    var env = env
    env["FAKE_KOPS_HANG"] = "update"
    let process = try startApply(env: env)
    #expect(waitForKops("update"))
    kill(process.processIdentifier, SIGKILL)
    process.waitUntilExit()
    killHungKops()
    #expect(try attachedVPCs("dev") == [vpc["dev"] ?? ""])
  }
}
