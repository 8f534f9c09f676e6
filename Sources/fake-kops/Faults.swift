import Foundation
import Model

/// The invocation log (`FAKE_KOPS_LOG`): one JSON line when a call starts and one when it ends.
///
/// Start line: `{"event":"start","pid":…,"argv":[…],"kubeconfig":"…"|null,"cwd":"…","time":"…","env":{…}}`;
/// end line: the same identity plus `"exit":N`. A call killed while hanging has a start line
/// and no end line.
struct InvocationLog {
  var path: String?
  var argv: [String]
  var env: [String: String]
  var cwd: String
  let started = Date()

  /// Environment variables worth asserting on (present ones only).
  static let recordedEnv = [
    "KUBECONFIG", "KOPS_STATE_STORE", "KOPS_CLUSTER_NAME", "AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION",
    "HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "https_proxy", "http_proxy", "no_proxy",
  ]

  func identity(_ event: String) -> [(String, JSONValue)] {
    [
      ("event", .string(event)), ("pid", .int(Int64(getpid()))), ("argv", .array(argv.map { .string($0) })),
      ("kubeconfig", env["KUBECONFIG"].map { .string($0) } ?? .null), ("cwd", .string(cwd)),
      ("time", .string(ISO8601DateFormatter().string(from: Date()))),
    ]
  }

  func start() {
    var members = identity("start")
    let recorded = Self.recordedEnv.compactMap { k in env[k].map { (k, JSONValue.string($0)) } }
    members.append(("env", .obj(recorded)))
    append(.obj(members))
  }

  func end(_ code: Int32) {
    var members = identity("end")
    members.append(("exit", .int(Int64(code))))
    members.append(("durationMs", .int(Int64(Date().timeIntervalSince(started) * 1000))))
    append(.obj(members))
  }

  private func append(_ value: JSONValue) {
    guard let path, !path.isEmpty else { return }
    let line = value.serialized() + "\n"
    let fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
    guard fd >= 0 else { return }
    defer { close(fd) }
    let bytes = Array(line.utf8)
    _ = bytes.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count) }
  }
}

/// Per-command invocation counters shared by concurrent fake-kops processes (a JSON object in
/// `FAKE_KOPS_COUNTERS`, else `<FAKE_KOPS_LOG>.counters`), updated under `flock`.
struct Counters {
  var path: String?

  init(env: [String: String]) {
    if let p = env["FAKE_KOPS_COUNTERS"], !p.isEmpty {
      path = p
    } else if let log = env["FAKE_KOPS_LOG"], !log.isEmpty {
      path = log + ".counters"
    } else {
      path = nil
    }
  }

  /// The current count of `key` (0 when never counted); nil when no counter file is configured.
  func value(_ key: String) -> Int? {
    guard let path else { return nil }
    guard let data = FileManager.default.contents(atPath: path) else { return 0 }
    let parsed = try? JSONValue.parse(String(decoding: data, as: UTF8.self))
    return Int(parsed?[key]?.intValue ?? 0)
  }

  /// Adds one to `key` and returns the new count; nil when no counter file is configured.
  func increment(_ key: String) -> Int? {
    guard let path else { return nil }
    let fd = open(path, O_RDWR | O_CREAT, 0o644)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    flock(fd, LOCK_EX)
    defer { flock(fd, LOCK_UN) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
      let n = buffer.withUnsafeMutableBufferPointer { read(fd, $0.baseAddress, $0.count) }
      if n <= 0 { break }
      bytes.append(contentsOf: buffer[0..<n])
    }
    var members: [JSONValue.Member] = []
    if !bytes.isEmpty, let parsed = try? JSONValue.parse(String(decoding: bytes, as: UTF8.self)), let m = parsed.members {
      members = m
    }
    let count: Int
    if let i = members.firstIndex(where: { $0.key == key }) {
      count = Int(members[i].value.intValue ?? 0) + 1
      members[i].value = .int(Int64(count))
    } else {
      count = 1
      members.append(.init(key, .int(1)))
    }
    let out = Array((JSONValue.object(members).serialized() + "\n").utf8)
    _ = ftruncate(fd, 0)
    _ = lseek(fd, 0, SEEK_SET)
    _ = out.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count) }
    return count
  }
}

/// Fault injection from the environment, checked after the command word is known and before
/// the command does anything.
///
/// - `FAKE_KOPS_FAIL=<cmd>[:<n>][,…]`: the n-th call of `<cmd>` (every call without `:n`) prints
///   `Error: …` and exits 1.
/// - `FAKE_KOPS_EXIT255=<cmd>[:<n>][,…]`: a klog fatal line, exit 255 (every call, or the n-th).
/// - `FAKE_KOPS_HANG=<cmd>[:<n>][,…]`: sleeps until killed.
/// - `FAKE_KOPS_SLEEP=<seconds>`: every call sleeps that long first.
/// `<cmd>` is the first command word (`update`, `replace`, `rolling-update`, `validate`, …).
/// Counting needs `FAKE_KOPS_LOG` or `FAKE_KOPS_COUNTERS`.
enum Faults {
  /// `cmd[:n]` rules of a variable; `n == nil` matches every call.
  static func rules(_ text: String?) -> [(command: String, n: Int?)] {
    guard let text, !text.isEmpty else { return [] }
    return text.split(separator: ",").compactMap { item in
      let parts = item.split(separator: ":", maxSplits: 1).map { String($0).trimmingSpaces() }
      guard let command = parts.first, !command.isEmpty else { return nil }
      return (command, parts.count > 1 ? Int(parts[1]) : nil)
    }
  }

  /// Applies the faults for `command` (call number `count`); returns an exit code to end with,
  /// or nil to go on. Hangs do not return.
  static func apply(command: String, count: Int?, env: [String: String]) -> Int32? {
    func matches(_ variable: String) -> Bool {
      rules(env[variable]).contains { rule in
        guard rule.command == command else { return false }
        guard let n = rule.n else { return true }
        return count == n
      }
    }
    let counted = ["FAKE_KOPS_FAIL", "FAKE_KOPS_EXIT255", "FAKE_KOPS_HANG"].contains { v in
      rules(env[v]).contains { $0.command == command && $0.n != nil }
    }
    if counted && count == nil {
      Console.err("fake-kops: counting calls needs FAKE_KOPS_LOG or FAKE_KOPS_COUNTERS to be set\n")
      return 2
    }
    let n = count.map(String.init) ?? "?"
    if matches("FAKE_KOPS_HANG") {
      Console.err(Klog.line("I", "fake.go:1", "fake-kops: hanging \(command) call \(n) (FAKE_KOPS_HANG) until killed"))
      while true { sleepSeconds(3600) }
    }
    if matches("FAKE_KOPS_EXIT255") {
      return Klog.fatal("fake.go:1", "fake-kops: injected fatal error in \(command) call \(n) (FAKE_KOPS_EXIT255)").code
    }
    if matches("FAKE_KOPS_FAIL") {
      Console.err("Error: fake-kops: injected failure of \(command) call \(n) (FAKE_KOPS_FAIL)\n")
      return 1
    }
    return nil
  }
}
