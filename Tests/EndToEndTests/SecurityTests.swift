import Executor
import Foundation
import HKTestSupport
import Model
import Testing

/// A copy of the sample repository in a temporary directory, and the hk binary run on it with
/// an environment of the test's choosing (no kops and no aws reachable unless given).
final class SecurityRepo: @unchecked Sendable {
  let dir: TemporaryDirectory
  let hk: String
  var root: String { dir.path + "/repo" }
  var stateDB: String { dir.path + "/state/hk.sqlite" }

  init() throws {
    dir = try TemporaryDirectory(prefix: "hk-sec")
    hk = try TestProducts.executable("hk")
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    try FileManager.default.createDirectory(atPath: dir.path + "/state", withIntermediateDirectories: true)
    try FileManager.default.copyItem(atPath: packageRoot + "/environments", toPath: root + "/environments")
  }

  /// `hk ARGS --root R --state-db DB` with `PATH`, `HOME`, `LANG`, `NO_COLOR` and `extra`.
  func run(_ args: [String], env extra: [String: String] = [:], timeout: Double = 60) throws -> ProcessResult {
    var env = [
      "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": dir.path + "/home", "NO_COLOR": "1",
      "LANG": "C.UTF-8", "HK_AWS": "/nonexistent/aws",
    ]
    for (k, v) in extra { env[k] = v }
    return try runProcess(hk, args + ["--root", root, "--state-db", stateDB], env: env, cwd: root, timeout: timeout)
  }

  func edit(_ relative: String, sourceLocation: SourceLocation = #_sourceLocation, _ change: (String) -> String) throws {
    try TextFile.edit(root + "/" + relative, sourceLocation: sourceLocation, change)
  }

  /// An executable script at `path` that appends `tag` to `log` and fails (a kops that must not run, or must).
  func marker(_ path: String, tag: String, log: String) throws {
    try FileManager.default.createDirectory(
      atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path, withIntermediateDirectories: true)
    try "#!/bin/sh\necho \(tag) >> '\(log)'\necho 'no kops here' >&2\nexit 1\n".write(toFile: path, atomically: true, encoding: .utf8)
    chmod(path, 0o755)
  }
}

/// Issue 17: attacks from a pull request, each refused (docs/SECURITY.md).
@Suite struct SecurityTests {
  /// Item 1 and 4: names and ids are validated by format where they enter, with a position.
  @Test(arguments: [
    (
      "cluster.yaml", "name: nodes-ap-northeast-1a\n",
      "name: \"nodes-b).\\n\\n## hk plan\\n\\nNo changes. cc @octocat ![](https://evil.example/b.png)\\n\\n<!--\"\n",
      "instancegroup name"
    ),
    ("cluster.yaml", "name: nodes-ap-northeast-1c\n", "name: \"nodes\\n::error file=x::pwned\\e[2J\"\n", "DNS-1123 subdomain"),
    ("environment.yaml", "stateStore: s3://corp-kops-state-dev", "stateStore: \"s3://corp-kops-state-dev\\n\\n## forged\"", "stateStore"),
    ("environment.yaml", "region: ap-northeast-1", "region: \"--endpoint-url=http://127.0.0.1:18080\"", "aws.region"),
    ("environment.yaml", "profile: corp-dev", "profile: \"--debug\"", "aws.profile"),
    ("environment.yaml", "id: igw-0a1b2c3d4e5f60718", "id: \"--endpoint-url=http://127.0.0.1:18080\"", "internetGateway.id"),
    ("cluster.yaml", "networkID: vpc-0a11d2e3f4a5b6c7d", "networkID: \"--endpoint-url=http://127.0.0.1:18080\"", "spec.networkID"),
    ("cluster.yaml", "id: subnet-010a1111111111111", "id: \"subnet-1 --dry-run\"", "subnet id"),
    ("environment.yaml", "rollingUpdate: auto", "rollingUpdate: auto\nkopsPath: ./tools/kops-wrapper", "kopsPath"),
  ])
  func hostileNamesAreRefusedWithAPosition(file: String, old: String, new: String, what: String) throws {
    let repo = try SecurityRepo()
    try repo.edit("environments/dev/\(file)") { $0.replacingOccurrences(of: old, with: new) }
    let validate = try repo.run(["validate", "dev"], env: ["HK_KOPS": "/nonexistent/kops"])
    #expect(validate.exitCode == 1, "\(validate)")
    let output = validate.stdout + validate.stderr
    #expect(output.contains("environments/dev/\(file):"), "\(output)")
    #expect(output.contains(what), "\(output)")
    // The diagnostic quotes the value on one line, escapes shown.
    #expect(!output.contains("\u{1B}"))
    for line in output.split(separator: "\n") {
      #expect(!line.hasPrefix("::") && !line.hasPrefix("## ") && !line.hasPrefix("<!--"), "\(line)")
    }
    let plan = try repo.run(["plan", "dev", "--format", "markdown"], env: ["HK_KOPS": "/nonexistent/kops"])
    #expect(plan.exitCode != 0)
    // The plan lists the broken environment with its diagnostics: escaped, nothing forged.
    #expect(!plan.stdout.contains("\u{1B}"))
    for line in plan.stdout.split(separator: "\n") {
      #expect(
        !line.hasPrefix("::") && !line.hasPrefix("## forged") && !line.hasPrefix("<!--"), "\(line)")
    }
  }

  /// Item 2 and issue 16 item 3: the operator's kops beats the repository's kopsPath
  /// (`--kops-map` > `--kops` > `HK_KOPS_MAP` > `HK_KOPS` > kopsPath), and a kopsPath inside the
  /// repository (or relative) never runs.
  @Test func theOperatorChoosesKops() throws {
    let repo = try SecurityRepo()
    let log = repo.dir.path + "/ran.log"
    let bin = repo.dir.path + "/bin"
    for tag in ["flag", "env", "map-flag", "map-env", "file"] { try repo.marker("\(bin)/\(tag)-kops", tag: tag, log: log) }
    try repo.marker(repo.root + "/tools/kops-wrapper", tag: "repository", log: log)
    func ran(_ args: [String], env: [String: String] = [:]) throws -> [String] {
      try? FileManager.default.removeItem(atPath: log)
      let r = try repo.run(args, env: env)
      #expect(r.exitCode != 0 || args.first == "drift", "\(r)")
      return ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }
    try repo.edit("environments/dev/environment.yaml") { $0 + "kopsPath: \(bin)/file-kops\n" }
    let all = ["HK_KOPS": "\(bin)/env-kops", "HK_KOPS_MAP": "1.22=/nonexistent,1.23=\(bin)/map-env-kops"]
    for command in [["import", "dev"], ["apply", "dev", "--yes"]] {
      #expect(try ran(command + ["--kops-map", "1.23.4=\(bin)/map-flag-kops", "--kops", "\(bin)/flag-kops"], env: all) == ["map-flag"])
      #expect(try ran(command + ["--kops", "\(bin)/flag-kops"], env: all) == ["flag"])
      #expect(try ran(command, env: all) == ["map-env"])
      #expect(try ran(command, env: ["HK_KOPS": "\(bin)/env-kops"]) == ["env"])
      #expect(try ran(command) == ["file"])
    }
    // A malformed map is refused before anything runs.
    let bad = try repo.run(["import", "dev", "--kops-map", "latest=kops"])
    #expect(bad.exitCode != 0 && bad.stderr.contains("--kops-map"), "\(bad)")

    // The repository's own wrapper: relative, or absolute inside --root (through a symlink too).
    for path in ["./tools/kops-wrapper", repo.root + "/tools/kops-wrapper", repo.dir.path + "/link/tools/kops-wrapper"] {
      try? FileManager.default.removeItem(atPath: repo.dir.path + "/link")
      try FileManager.default.createSymbolicLink(atPath: repo.dir.path + "/link", withDestinationPath: repo.root)
      try repo.edit("environments/dev/environment.yaml") {
        $0.split(separator: "\n").filter { !$0.hasPrefix("kopsPath:") }.joined(separator: "\n") + "\nkopsPath: \(path)\n"
      }
      let v = try repo.run(["validate", "dev"])
      #expect(v.exitCode == 1 && v.stdout.contains("kopsPath"), "\(v)")
      for command in [["import", "dev"], ["apply", "dev", "--yes"], ["drift", "dev"]] {
        #expect(try ran(command).isEmpty, "\(command) ran the repository's kops (\(path))")
      }
    }
  }
}

/// Item 4 at the argv level: an id that is an option (`--endpoint-url=…`) reaches the real aws
/// CLI as the value of its own `--opt=value` argument, so aws never talks to that endpoint.
@Suite(.serialized) struct AWSOptionInjectionTests {
  @Test func anOptionShapedIDNeverRedirectsAWS() async throws {
    let moto = try MotoServer()
    defer { moto.stop() }
    let listener = try LoopbackListener()
    defer { listener.stop() }
    let hostile = "--endpoint-url=http://127.0.0.1:\(listener.port)"
    let aws = AWSCLI(
      executable: "aws", region: moto.region, profile: nil, runner: SubprocessRunner(),
      environment: moto.environment(merging: ProcessInfo.processInfo.environment))
    await #expect(throws: (any Error).self) { _ = try await aws.internetGatewayAttachments(hostile) }
    await #expect(throws: (any Error).self) { try await aws.attachInternetGateway(hostile, vpc: hostile) }
    try await Task.sleep(for: .milliseconds(200))
    #expect(listener.connections == 0, "aws sent a request to the endpoint named by the id")
    // The same calls with a real gateway do reach moto (the argument form works).
    let igw = try moto.createInternetGateway()
    #expect(try await aws.internetGatewayAttachments(igw).isEmpty)
  }
}

/// A TCP listener on 127.0.0.1 that counts the connections it accepts (and closes them).
final class LoopbackListener: @unchecked Sendable {
  final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func add() { lock.withLock { n += 1 } }
    var value: Int { lock.withLock { n } }
  }

  let fd: Int32
  let port: Int
  private let counter = Counter()

  var connections: Int { counter.value }

  init() throws {
    #if os(Linux)
    let stream = Int32(SOCK_STREAM.rawValue)
    #else
    let stream = SOCK_STREAM
    #endif
    let fd = socket(AF_INET, stream, 0)
    self.fd = fd
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr = in_addr(s_addr: inet_addr("127.0.0.1"))
    let bound = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    guard fd >= 0, bound == 0, listen(fd, 16) == 0 else { throw TestSupportError("cannot listen on 127.0.0.1") }
    port = Int(UInt16(bigEndian: address.sin_port))
    let counter = self.counter
    Thread.detachNewThread {
      while true {
        let c = accept(fd, nil, nil)
        if c < 0 { return }
        counter.add()
        close(c)
      }
    }
  }

  func stop() {
    shutdown(fd, Int32(SHUT_RDWR))
    close(fd)
  }
}
