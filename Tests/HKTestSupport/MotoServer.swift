import Foundation
import Model

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A real AWS API (moto's `moto_server`) on a free loopback port, driven through the real
/// `aws` CLI. Each instance owns its own server; several may run at once. Most tests use
/// ``shared()``, one server for the whole test process: a server costs seconds of CPU to start
/// (moto imports every service), and two hundred of them were a sixth of CI's CPU time.
///
/// The server runs under a small shell watchdog that stops it when `stop()` is called, when
/// this object is released, or when the test process dies.
public final class MotoServer: @unchecked Sendable {
  /// The region every call uses (`AWS_DEFAULT_REGION`).
  public let region: String
  public let port: Int
  /// `http://127.0.0.1:<port>`.
  public var endpoint: String { "http://127.0.0.1:\(port)" }

  private let process: Process
  private let awsPath: String
  private let scratch: TemporaryDirectory
  private let pidFile: String
  private let lock = NSLock()
  private var stopped = false
  /// The process-wide server of ``shared()``: ``stop()`` leaves it running.
  private let isShared: Bool

  private final class SharedSlot: @unchecked Sendable {
    let lock = NSLock()
    var server: MotoServer?
  }
  private static let sharedSlot = SharedSlot()

  /// One server for every test of this process (region ap-northeast-1), started on first use.
  ///
  /// Tests that share it create their own resources (VPCs, gateways, buckets: moto makes the
  /// ids unique, buckets get a random name) and look only at those, so they cannot see each
  /// other. ``stop()`` does nothing on it: its watchdog stops it when the test process exits.
  /// A test that needs a server it can stop, or a state no other test touches, makes its own.
  public static func shared() throws -> MotoServer {
    sharedSlot.lock.lock()
    defer { sharedSlot.lock.unlock() }
    if let server = sharedSlot.server { return server }
    let server = try MotoServer(shared: true)
    sharedSlot.server = server
    return server
  }

  /// Variables that select another AWS account or endpoint and must not leak into tests.
  public static let strippedVariables = [
    "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_ENDPOINT_URL_EC2", "AWS_REGION",
  ]

  /// What a process needs to talk to this server: `AWS_ENDPOINT_URL`, test credentials,
  /// `AWS_DEFAULT_REGION`, no instance metadata. Merge it with ``environment(merging:)`` to also
  /// drop `AWS_PROFILE` and friends from a base environment.
  public var environment: [String: String] {
    [
      "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
      "AWS_DEFAULT_REGION": region, "AWS_EC2_METADATA_DISABLED": "true",
    ]
  }

  /// `base` without ``strippedVariables``, overlaid with ``environment``.
  public func environment(merging base: [String: String]) -> [String: String] {
    var env = base
    for k in Self.strippedVariables { env.removeValue(forKey: k) }
    for (k, v) in environment { env[k] = v }
    return env
  }

  /// Starts `moto_server -H 127.0.0.1 -p <free port>` and waits until it answers.
  ///
  /// - Throws: ``TestSupportError`` when `moto_server` or `aws` is not installed (run the
  ///   README's test command, which installs them) or the server does not come up.
  public convenience init(region: String = "ap-northeast-1") throws {
    try self.init(region: region, shared: false)
  }

  private init(region: String = "ap-northeast-1", shared: Bool) throws {
    isShared = shared
    guard let moto = resolveTool("moto_server") else {
      throw TestSupportError(
        "moto_server is not installed: run the README's test command, which installs it (pip install 'moto[server]' awscli)")
    }
    guard let aws = resolveTool("aws") else {
      throw TestSupportError(
        "the aws CLI is not installed: run the README's test command, which installs it (pip install 'moto[server]' awscli)")
    }
    self.region = region
    awsPath = aws
    scratch = try TemporaryDirectory(prefix: "hk-moto")
    var lastLog = ""
    for _ in 0..<5 {
      let port = try FreePort.next()
      let log = scratch.file("moto-\(port).log")
      let p = Process()
      p.executableURL = URL(fileURLWithPath: "/bin/sh")
      let pidFile = scratch.file("moto-\(port).pid")
      // The watchdog kills the server when it is told to (TERM) or when the test process is gone.
      let watchdog = """
        "$2" -H 127.0.0.1 -p "$3" >"$4" 2>&1 & m=$!
        echo $m >"$5"
        trap 'kill -9 $m 2>/dev/null; wait $m 2>/dev/null; exit 0' TERM INT HUP
        while kill -0 "$1" 2>/dev/null && kill -0 $m 2>/dev/null; do sleep 1 & wait $!; done
        kill -9 $m 2>/dev/null; wait $m 2>/dev/null
        """
      p.arguments = ["-c", watchdog, "moto-watchdog", String(getpid()), moto, String(port), log, pidFile]
      p.standardInput = FileHandle.nullDevice
      p.standardOutput = FileHandle.nullDevice
      p.standardError = FileHandle.nullDevice
      try withDefaultSignalMask { try p.run() }
      if Self.waitUntilServing(port: port, process: p, seconds: 30) {
        self.port = port
        process = p
        self.pidFile = pidFile
        return
      }
      Self.shutDown(p, pidFile: pidFile)
      lastLog = scratch.read("moto-\(port).log") ?? ""
    }
    throw TestSupportError("moto_server did not start on a free port after 5 attempts; its last output:\n\(lastLog)")
  }

  private static func waitUntilServing(port: Int, process: Process, seconds: Double) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    guard let url = URL(string: "http://127.0.0.1:\(port)/moto-api/") else { return false }
    while Date() < deadline {
      if !process.isRunning { return false }
      let request = URLRequest(url: url, timeoutInterval: 2)
      if let status = HTTPProbe.status(request), status < 500 { return true }
      Thread.sleep(forTimeInterval: 0.1)
    }
    return false
  }

  /// Stops the server (idempotent); does nothing on the ``shared()`` server.
  public func stop() {
    lock.lock()
    let already = stopped || isShared
    stopped = true
    lock.unlock()
    guard !already else { return }
    Self.shutDown(process, pidFile: pidFile)
    FreePort.release(port)
  }

  /// SIGTERM to the watchdog (which SIGKILLs the server), then SIGKILL to both if needed.
  private static func shutDown(_ process: Process, pidFile: String) {
    let serverPID = (try? String(contentsOfFile: pidFile, encoding: .utf8)).flatMap {
      Int32($0.trimmingCharacters(in: .whitespacesAndNewlines))
    }
    if process.isRunning { process.terminate() }
    let deadline = Date().addingTimeInterval(5)
    while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
    if process.isRunning {
      // The watchdog did not react; its server is still its (unreaped) child, so the pid is
      // still the server's.
      if let serverPID { _ = kill(serverPID, SIGKILL) }
      _ = kill(process.processIdentifier, SIGKILL)
    }
    process.waitUntilExit()
  }

  deinit { stop() }

  // MARK: The aws CLI

  /// Runs the real `aws` CLI against this server (`--endpoint-url`, `--output json`); returns
  /// stdout. Throws with the CLI's stderr when it fails.
  @discardableResult
  public func aws(_ args: [String]) throws -> String {
    let env = environment(merging: ProcessInfo.processInfo.environment).merging([
      "AWS_CONFIG_FILE": scratch.file("aws-config"), "AWS_SHARED_CREDENTIALS_FILE": scratch.file("aws-credentials"),
      "AWS_PAGER": "",
    ]) { _, new in new }
    let result = try runProcess(
      awsPath, ["--endpoint-url", endpoint, "--output", "json", "--region", region] + args, env: env, timeout: 120)
    guard result.exitCode == 0 else {
      throw TestSupportError("aws \(args.joined(separator: " ")) failed (\(result.exitCode)): \(result.stderr)")
    }
    return result.stdout
  }

  /// `aws …` parsed as JSON.
  public func awsJSON(_ args: [String]) throws -> JSONValue {
    let text = try aws(args)
    do {
      return try JSONValue.parse(text)
    } catch {
      throw TestSupportError("aws \(args.joined(separator: " ")) printed no JSON (\(error)): \(text)")
    }
  }

  /// One EC2 Query API call straight to the server (what the `aws` CLI sends, minus the
  /// signature moto does not check); returns the response XML. Much faster than the CLI, so
  /// the setup helpers use it.
  @discardableResult
  public func ec2(_ action: String, _ parameters: [(String, String)] = []) throws -> String {
    guard let url = URL(string: endpoint) else { throw TestSupportError("bad endpoint \(endpoint)") }
    var allowed = CharacterSet.alphanumerics
    allowed.insert(charactersIn: "-._~")
    func encode(_ s: String) -> String { s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s }
    var body = "Action=\(action)&Version=2016-11-15"
    for (k, v) in parameters { body += "&" + encode(k) + "=" + encode(v) }
    var request = URLRequest(url: url, timeoutInterval: 30)
    request.httpMethod = "POST"
    request.httpBody = Data(body.utf8)
    request.setValue("application/x-www-form-urlencoded; charset=utf-8", forHTTPHeaderField: "Content-Type")
    request.setValue(
      "AWS4-HMAC-SHA256 Credential=testing/20240101/\(region)/ec2/aws4_request, SignedHeaders=host, Signature=0",
      forHTTPHeaderField: "Authorization")
    let (status, text) = HTTPProbe.send(request)
    guard status == 200 else { throw TestSupportError("EC2 \(action) failed (HTTP \(status.map(String.init) ?? "none")): \(text)") }
    return text
  }

  /// The text of the first `<tag>` element of an EC2 response.
  static func element(_ tag: String, in xml: String) -> String? {
    elements(tag, in: xml, limit: 1).first
  }

  /// The texts of the `<tag>` elements of an EC2 response, in order (at most `limit`; an element
  /// holding another of the same tag is not split correctly: EC2's `<item>` lists are read one
  /// level at a time).
  static func elements(_ tag: String, in xml: String, limit: Int = .max) -> [String] {
    var found: [String] = []
    var rest = Substring(xml)
    while found.count < limit, let open = rest.range(of: "<\(tag)>"),
      let close = rest.range(of: "</\(tag)>", range: open.upperBound..<rest.endIndex)
    {
      found.append(String(rest[open.upperBound..<close.lowerBound]))
      rest = rest[close.upperBound...]
    }
    return found
  }

  /// Creates a VPC; returns its id.
  public func createVPC(cidr: String) throws -> String {
    let xml = try ec2("CreateVpc", [("CidrBlock", cidr)])
    guard let id = Self.element("vpcId", in: xml) else { throw TestSupportError("CreateVpc returned no vpcId: \(xml)") }
    return id
  }

  /// Creates a subnet in `vpc`; returns its id.
  public func createSubnet(vpc: String, cidr: String, zone: String) throws -> String {
    let xml = try ec2("CreateSubnet", [("VpcId", vpc), ("CidrBlock", cidr), ("AvailabilityZone", zone)])
    guard let id = Self.element("subnetId", in: xml) else { throw TestSupportError("CreateSubnet returned no subnetId: \(xml)") }
    return id
  }

  /// Creates an (unattached) internet gateway; returns its id.
  public func createInternetGateway() throws -> String {
    let xml = try ec2("CreateInternetGateway")
    guard let id = Self.element("internetGatewayId", in: xml) else {
      throw TestSupportError("CreateInternetGateway returned no internetGatewayId: \(xml)")
    }
    return id
  }

  public func attachInternetGateway(_ igw: String, vpc: String) throws {
    try ec2("AttachInternetGateway", [("InternetGatewayId", igw), ("VpcId", vpc)])
  }

  public func detachInternetGateway(_ igw: String, vpc: String) throws {
    try ec2("DetachInternetGateway", [("InternetGatewayId", igw), ("VpcId", vpc)])
  }

  /// The VPCs the gateway is attached to (`DescribeInternetGateways` straight to the server:
  /// an assertion, not the code under test, so it does not pay for an aws CLI start; hk's own
  /// calls go through the real CLI).
  public func attachedVPCs(igw: String) throws -> [String] {
    let xml = try ec2("DescribeInternetGateways", [("InternetGatewayId.1", igw)])
    guard Self.element("internetGatewayId", in: xml) == igw else {
      throw TestSupportError("DescribeInternetGateways did not describe \(igw): \(xml)")
    }
    guard let attachments = Self.element("attachmentSet", in: xml) else { return [] }
    return Self.elements("item", in: attachments).compactMap { item in
      guard let state = Self.element("state", in: item), state == "available" || state == "attached" else { return nil }
      return Self.element("vpcId", in: item)
    }
  }
}

/// Free loopback ports: bound to port 0 to let the kernel choose, never handed out twice while
/// in use by this process.
enum FreePort {
  private final class Registry: @unchecked Sendable {
    let lock = NSLock()
    var inUse = Set<Int>()
  }
  private static let registry = Registry()

  static func next() throws -> Int {
    for _ in 0..<50 {
      let port = try bindZero()
      registry.lock.lock()
      let fresh = registry.inUse.insert(port).inserted
      registry.lock.unlock()
      if fresh { return port }
    }
    throw TestSupportError("no free loopback port found")
  }

  static func release(_ port: Int) {
    registry.lock.lock()
    registry.inUse.remove(port)
    registry.lock.unlock()
  }

  private static func bindZero() throws -> Int {
    #if canImport(Glibc)
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    #else
    let fd = socket(AF_INET, SOCK_STREAM, 0)
    #endif
    guard fd >= 0 else { throw TestSupportError("socket() failed: errno \(errno)") }
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = 0
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bound = withUnsafePointer(to: &addr) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0 else { throw TestSupportError("bind() failed: errno \(errno)") }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let named = withUnsafeMutablePointer(to: &addr) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    guard named == 0 else { throw TestSupportError("getsockname() failed: errno \(errno)") }
    return Int(UInt16(bigEndian: addr.sin_port))
  }
}

/// Blocking HTTP requests (readiness probes, EC2 setup calls).
enum HTTPProbe {
  private final class Box: @unchecked Sendable {
    let lock = NSLock()
    var status: Int?
    var data = Data()
  }

  static func status(_ request: URLRequest) -> Int? { send(request, wait: 3).0 }

  static func send(_ request: URLRequest, wait: Double = 30) -> (Int?, String) {
    let box = Box()
    let done = DispatchSemaphore(value: 0)
    let session = URLSession(configuration: .ephemeral)
    let task = session.dataTask(with: request) { data, response, _ in
      box.lock.lock()
      box.status = (response as? HTTPURLResponse)?.statusCode
      box.data = data ?? Data()
      box.lock.unlock()
      done.signal()
    }
    task.resume()
    _ = done.wait(timeout: .now() + wait)
    session.invalidateAndCancel()
    box.lock.lock()
    defer { box.lock.unlock() }
    return (box.status, String(decoding: box.data, as: UTF8.self))
  }
}
