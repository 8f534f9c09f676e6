import Foundation
import HKTestSupport
import Model
import Store
import Testing

/// What the reliability suites (issue 6) add to ``World``: hk runs with per-call extra
/// variables, hk in the background, environments cloned from `dev` onto fresh VPCs, gateways and
/// state-store buckets (so one World, and one moto, serves many scenarios), and wrappers around
/// the kops double and the aws CLI that fail, exit 255 or hang on request, before or after the
/// real call did its work.
///
/// The wrappers (`<dir>/rel/kops-<version>`, `<dir>/rel/aws`) read:
/// - `REL_DIR`: a directory of the scenario: the matching-call counter and `hung` (the pids of
///   wrappers left hanging, killed by ``killHungWrappers(_:)``).
/// - `REL_MODE`: `fail` (exit 1 with an error), `exit255` (a fatal error, exit 255),
///   `hang-before` (hang before the real call), `hang-after` (run the real call, then hang: its
///   effect is done but hk never hears of it), `fail-once-then-pass` is `fail` with `REL_NTH`.
/// - `REL_MATCH`: a substring of `" " + argv + " "` (space-joined) selecting the calls.
/// - `REL_NTH`: which matching call (1-based; `0` = every one; default 1).
/// - `REL_ARGV_LOG`: append each call's argv (unit separator between elements, record
///   separator after the last) to this file.
extension World {
  var reliabilityDir: String { dir.path + "/rel" }
  var awsWrapper: String { reliabilityDir + "/aws" }
  func kopsWrapper(_ version: String = "1.23.4") -> String { reliabilityDir + "/kops-\(version)" }

  /// Writes the wrappers once.
  func prepareReliability() throws {
    let fm = FileManager.default
    if fm.fileExists(atPath: awsWrapper) { return }
    try fm.createDirectory(atPath: reliabilityDir, withIntermediateDirectories: true)
    guard let aws = resolveTool("aws") else { throw TestSupportError("the aws CLI is not installed") }
    for v in ["1.23.4", "1.28.4"] {
      try Self.wrapperScript(real: kops.binary, prelude: "FAKE_KOPS_VERSION=\(v); export FAKE_KOPS_VERSION")
        .write(toFile: kopsWrapper(v), atomically: true, encoding: .utf8)
      chmod(kopsWrapper(v), 0o755)
    }
    try Self.wrapperScript(real: aws, prelude: "").write(toFile: awsWrapper, atomically: true, encoding: .utf8)
    chmod(awsWrapper, 0o755)
  }

  static func wrapperScript(real: String, prelude: String) -> String {
    """
    #!/bin/sh
    # hk reliability tests: fault injection around a real command (see World+Reliability.swift).
    \(prelude)
    if [ -n "$REL_ARGV_LOG" ]; then
      { for a in "$@"; do printf '%s\\037' "$a"; done; printf '\\036'; } >>"$REL_ARGV_LOG"
    fi
    hit=0
    if [ -n "$REL_MODE" ] && [ -n "$REL_DIR" ]; then
      case " $* " in
        *"$REL_MATCH"*)
          n=$(( $(cat "$REL_DIR/count" 2>/dev/null || echo 0) + 1 ))
          echo "$n" >"$REL_DIR/count"
          if [ "${REL_NTH:-1}" = 0 ] || [ "$n" = "${REL_NTH:-1}" ]; then hit=1; fi ;;
      esac
    fi
    if [ "$hit" = 1 ]; then
      case "$REL_MODE" in
        hang-before) echo $$ >>"$REL_DIR/hung"; exec sleep 86400 ;;
        fail)
          echo "An error occurred (InjectedFailure) when calling the operation: injected by REL_MODE=fail" >&2
          echo "Error: injected failure (REL_MODE=fail)" >&2
          exit 1 ;;
        exit255) echo "F0101 00:00:00.000000 1 main.go:1] injected fatal error (REL_MODE=exit255)" >&2; exit 255 ;;
      esac
    fi
    '\(real)' "$@"
    rc=$?
    if [ "$hit" = 1 ] && [ "$REL_MODE" = hang-after ]; then echo $$ >>"$REL_DIR/hung"; exec sleep 86400; fi
    exit $rc

    """
  }

  /// Kills the wrappers a scenario left hanging (their pids are in `scenarioDir/hung`).
  func killHungWrappers(_ scenarioDir: String) {
    guard let text = try? String(contentsOfFile: scenarioDir + "/hung", encoding: .utf8) else { return }
    for line in text.split(separator: "\n") {
      if let pid = Int32(line.trimmingCharacters(in: .whitespaces)), pid > 1 { kill(pid, SIGKILL) }
    }
  }

  /// The pids of wrappers of a scenario that are hanging now.
  func hungWrappers(_ scenarioDir: String) -> [Int32] {
    guard let text = try? String(contentsOfFile: scenarioDir + "/hung", encoding: .utf8) else { return [] }
    return text.split(separator: "\n").compactMap { Int32($0.trimmingCharacters(in: .whitespaces)) }
  }

  /// The environment of an hk run with `extra` on top (an empty value removes a variable).
  func environment(adding extra: [String: String]) -> [String: String] {
    var env = environment
    for (k, v) in extra { env[k] = v.isEmpty ? nil : v }
    return env
  }

  /// `hk ARGS --root R --state-db DB` with extra variables (and another database when given).
  @discardableResult
  func hk(_ args: [String], env extra: [String: String], db: String? = nil, timeout: Double = 180) throws -> ProcessResult {
    try runProcess(
      hk, args + ["--root", root, "--state-db", db ?? stateDB], env: environment(adding: extra), cwd: root, timeout: timeout)
  }

  /// `hk apply ENVS --yes` with fast validation polling and extra variables.
  @discardableResult
  func apply(_ envs: [String], env extra: [String: String], flags: [String] = [], timeout: Double = 180) throws -> ProcessResult {
    try hk(
      ["apply"] + envs + ["--yes", "--validate-interval", "0.2", "--validate-timeout", "20"] + flags, env: extra, timeout: timeout)
  }

  /// Starts `hk ARGS --root R --state-db DB` in the background; stdout and stderr go to `log`.
  func spawnHK(_ args: [String], env extra: [String: String], log: String, db: String? = nil) throws -> Process {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: hk)
    process.arguments = args + ["--root", root, "--state-db", db ?? stateDB]
    process.environment = environment(adding: extra)
    process.currentDirectoryURL = URL(fileURLWithPath: root)
    guard FileManager.default.createFile(atPath: log, contents: nil) else { throw TestSupportError("cannot create \(log)") }
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
    process.standardOutput = handle
    process.standardError = handle
    process.standardInput = FileHandle.nullDevice
    try withDefaultSignalMask { try process.run() }
    try handle.close()
    return process
  }

  /// Adds `environments/<name>`: a copy of `dev` with its own cluster name
  /// (`<name>.k8s.corp.local`), state-store bucket, VPC and internet gateway in moto, driven
  /// through the reliability kops wrapper.
  func addEnvironment(_ name: String, like source: String = "dev") throws {
    try prepareReliability()
    let fm = FileManager.default
    let from = root + "/environments/" + source
    let to = root + "/environments/" + name
    try fm.copyItem(atPath: from, toPath: to)
    let newVPC = try moto.createVPC(cidr: Self.samples.first { $0.name == source }?.cidr ?? "10.10.0.0/16")
    let newIGW = try moto.createInternetGateway()
    let cluster = "\(source).k8s.corp.local"
    let bucket = "corp-kops-state-\(source)"
    for file in ["cluster.yaml", "environment.yaml"] {
      let path = to + "/" + file
      var text = try String(contentsOfFile: path, encoding: .utf8)
      text = text.replacingOccurrences(of: cluster, with: "\(name).k8s.corp.local")
        .replacingOccurrences(of: bucket, with: "corp-kops-state-\(name)")
      if let v = vpc[source] { text = text.replacingOccurrences(of: v, with: newVPC) }
      if let g = igw[source] { text = text.replacingOccurrences(of: g, with: newIGW) }
      if file == "environment.yaml" {
        text = text.split(separator: "\n", omittingEmptySubsequences: false)
          .map {
            $0.hasPrefix("kopsPath:") ? "kopsPath: \(kopsWrapper(Self.samples.first { $0.name == source }?.kops ?? "1.23.4"))" : String($0)
          }
          .joined(separator: "\n")
      }
      try text.write(toFile: path, atomically: true, encoding: .utf8)
    }
    try fm.createDirectory(atPath: kops.s3Root + "/corp-kops-state-\(name)", withIntermediateDirectories: true)
    vpc[name] = newVPC
    igw[name] = newIGW
  }

  /// The edit the crash matrix and the fault chain apply after a first apply: a new egress
  /// proxy exclude (cluster replace, rolls every group), a new instance group, a resized one
  /// and a removed one.
  func editForFullPlan(_ name: String) throws {
    try edit("environments/\(name)/cluster.yaml") { text in
      var docs = text.components(separatedBy: "\n---\n")
      docs[0] = docs[0].replacingOccurrences(
        of: "ecr.ap-northeast-1.amazonaws.com\"", with: "ecr.ap-northeast-1.amazonaws.com,sts.ap-northeast-1.amazonaws.com\"")
      guard let a = docs.firstIndex(where: { $0.contains("name: nodes-ap-northeast-1a\n") }) else { return text }
      let extra = docs[a].replacingOccurrences(of: "name: nodes-ap-northeast-1a\n", with: "name: nodes-extra-ap-northeast-1a\n")
      docs[a] = docs[a].replacingOccurrences(of: "maxSize: 4", with: "maxSize: 5")
      docs.removeAll { $0.contains("name: nodes-ap-northeast-1c\n") }
      docs.append(extra)
      return docs.joined(separator: "\n---\n")
    }
  }

  /// The state store of an environment added with ``addEnvironment(_:like:)`` (or a sample).
  func stateStoreURL(_ name: String) -> String { "s3://corp-kops-state-\(name)" }

  /// The kops double's calls on one environment's state store, in order, with their exit code
  /// (nil for a call that never ended: hung or killed).
  func kopsCalls(_ name: String) -> [(argv: [String], exit: Int?)] {
    let store = stateStoreURL(name)
    var calls: [(pid: Int64, argv: [String], exit: Int?)] = []
    for e in kops.logEntries() {
      let argv = (e["argv"]?.arrayValue ?? []).compactMap(\.stringValue)
      guard argv.contains(store), let pid = e["pid"]?.intValue else { continue }
      if e["event"]?.stringValue == "start" {
        calls.append((pid, argv, nil))
      } else if let i = calls.lastIndex(where: { $0.pid == pid && $0.exit == nil }) {
        calls[i].exit = Int(e["exit"]?.intValue ?? -1)
      }
    }
    return calls.map { ($0.argv, $0.exit) }
  }

  /// The simulated cloud of an environment's cluster (`<name>.k8s.corp.local` in its bucket).
  func cloud(_ name: String) -> JSONValue? {
    let path = kops.s3Root + "/corp-kops-state-\(name)/\(name).k8s.corp.local/.fake-cloud.json"
    guard let data = FileManager.default.contents(atPath: path) else { return nil }
    return try? JSONValue.parse(String(decoding: data, as: UTF8.self))
  }
}

/// Figures for `docs/RELIABILITY.md`: one JSON object per line, appended to the file named by
/// `HK_RELIABILITY_REPORT` (nothing is written without it). `scripts/reliability` turns them
/// into the tables.
enum ReliabilityReport {
  static let lock = NSLock()

  static var path: String? {
    let p = ProcessInfo.processInfo.environment["HK_RELIABILITY_REPORT"] ?? ""
    return p.isEmpty ? nil : p
  }

  /// Whether the long crash matrix runs (`HK_CRASH_MATRIX=1`, set by `.ci/run` and `scripts/reliability`).
  static var fullMatrix: Bool { ProcessInfo.processInfo.environment["HK_CRASH_MATRIX"] == "1" }

  static func append(_ suite: String, _ members: [(String, JSONValue)]) {
    guard let path else { return }
    let line = JSONValue.obj([("suite", .string(suite))] + members).serialized() + "\n"
    lock.lock()
    defer { lock.unlock() }
    let fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
    guard fd >= 0 else { return }
    defer { close(fd) }
    let bytes = Array(line.utf8)
    _ = bytes.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count) }
  }
}

/// Releases the shared fixtures when the test process exits: a fixture held in a static is
/// never deinitialised, so its own cleanup (moto, hung kops calls, temporary directory) would
/// never run.
enum ReliabilityCleanup {
  private static let state = Locked<(worlds: [World], paths: [String], installed: Bool)>(([], [], false))

  static func add(world: World) {
    install()
    state.withLock { $0.worlds.append(world) }
  }

  static func add(path: String) {
    install()
    state.withLock { $0.paths.append(path) }
  }

  private static func install() {
    let first = state.withLock { s -> Bool in
      defer { s.installed = true }
      return !s.installed
    }
    if first { atexit { ReliabilityCleanup.run() } }
  }

  static func run() {
    let (worlds, paths) = state.withLock { s in (s.worlds, s.paths) }
    for w in worlds {
      w.killHungKops()
      w.dir.remove()
    }
    for p in paths { try? FileManager.default.removeItem(atPath: p) }
  }
}

extension SharedWorld {
  /// The shared world with a fresh environment `<prefix><n>` added to it (a copy of `dev`).
  func withNewEnvironment(_ prefix: String) throws -> (world: World, name: String) {
    let w = try get()
    let name = nextName(prefix)
    try w.addEnvironment(name)
    return (w, name)
  }
}
