import Foundation

/// One finished `aws` call.
public struct AWSCallResult: Sendable, Hashable {
  public var exitCode: Int32
  public var stdout: String
  public var stderr: String

  public init(exitCode: Int32, stdout: String, stderr: String) {
    self.exitCode = exitCode
    self.stdout = stdout
    self.stderr = stderr
  }

  /// The code of `An error occurred (CODE) when calling …`: `PreconditionFailed`, `NoSuchKey`,
  /// `NoSuchBucket`, `AccessDenied`, `404`, `304`, …
  public var errorCode: String? {
    guard let open = stderr.range(of: "An error occurred ("), let close = stderr[open.upperBound...].firstIndex(of: ")") else {
      return nil
    }
    return String(stderr[open.upperBound..<close])
  }

  /// The last non-empty line of stderr (what the aws CLI says went wrong).
  public var message: String {
    stderr.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.last { !$0.isEmpty }
      ?? "exit status \(exitCode)"
  }
}

/// What runs the `aws` CLI for the S3 backend: synchronous, because the store seam is.
///
/// The default, ``AWSProcess``, starts the binary hk's other aws calls use (`--aws`, `HK_AWS`,
/// else `aws` on `PATH`); the user's proxy, profile, SSO and endpoint settings apply as they
/// do for the gateway steps. Tests may inject another runner through ``StateStores``.
public protocol AWSInvoking: Sendable {
  /// Runs `aws ARGUMENTS` (one argv element each, never a shell); a non-zero exit is a result,
  /// not an error. Throws only when aws cannot be started.
  func run(_ arguments: [String]) throws -> AWSCallResult
}

/// Runs the aws binary as a child process, its output collected through private files.
public struct AWSProcess: AWSInvoking {
  /// A name looked up on `PATH`, or a path.
  public var executable: String
  /// Seconds a call may take before it is stopped.
  public var timeout: TimeInterval
  /// The child's whole environment; nil inherits hk's (the usual AWS settings apply).
  public var environment: [String: String]?

  public init(executable: String, timeout: TimeInterval = 120, environment: [String: String]? = nil) {
    self.executable = executable
    self.timeout = timeout
    self.environment = environment
  }

  public func run(_ arguments: [String]) throws -> AWSCallResult {
    guard let path = Self.resolve(executable) else {
      throw StoreError.s3(
        location: "s3://",
        message: "the S3 backend needs the AWS CLI, and '\(executable)' was not found; install it or pass --aws PATH (or HK_AWS)")
    }
    let folder = try PrivateFolder()
    defer { folder.remove() }
    let out = folder.path + "/stdout"
    let err = folder.path + "/stderr"
    _ = FileManager.default.createFile(atPath: out, contents: nil, attributes: [.posixPermissions: 0o600])
    _ = FileManager.default.createFile(atPath: err, contents: nil, attributes: [.posixPermissions: 0o600])
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    var childEnvironment = environment ?? ProcessInfo.processInfo.environment
    childEnvironment["AWS_PAGER"] = ""
    process.environment = childEnvironment
    process.standardInput = FileHandle.nullDevice
    guard let outHandle = FileHandle(forWritingAtPath: out), let errHandle = FileHandle(forWritingAtPath: err) else {
      throw StoreError.s3(location: "s3://", message: "cannot create a private file for the aws CLI's output; check TMPDIR")
    }
    defer {
      try? outHandle.close()
      try? errHandle.close()
    }
    process.standardOutput = outHandle
    process.standardError = errHandle
    let done = DispatchSemaphore(value: 0)
    process.terminationHandler = { _ in done.signal() }
    try process.run()
    if done.wait(timeout: .now() + timeout) == .timedOut {
      process.terminate()
      done.wait()
      return AWSCallResult(
        exitCode: 124, stdout: "", stderr: "the aws CLI did not finish within \(Int(timeout)) seconds and was stopped")
    }
    let stdout = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
    let stderr = (try? String(contentsOfFile: err, encoding: .utf8)) ?? ""
    return AWSCallResult(exitCode: process.terminationStatus, stdout: stdout, stderr: stderr)
  }

  static func resolve(_ name: String) -> String? {
    if name.contains("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
    for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
      let candidate = "\(dir)/\(name)"
      if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
  }
}

/// A 0700 folder from `mkdtemp`, for downloaded copies and the aws CLI's output.
struct PrivateFolder: Sendable {
  let path: String

  init() throws {
    var template = Array((FileManager.default.temporaryDirectory.path + "/hk-s3-XXXXXX").utf8CString)
    let made = template.withUnsafeMutableBufferPointer { buffer -> Bool in
      guard let base = buffer.baseAddress else { return false }
      return mkdtemp(base) != nil
    }
    guard made else {
      throw StoreError.s3(location: "s3://", message: "cannot create a private temporary folder (errno \(errno)); check TMPDIR")
    }
    path = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    chmod(path, 0o700)
  }

  func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// The S3 calls of the backend, every value one `--opt=value` argument.
struct S3Client: Sendable {
  let location: S3Location
  let aws: any AWSInvoking

  private var common: [String] {
    var args: [String] = []
    if let region = location.region { args.append("--region=\(region)") }
    if let profile = location.profile { args.append("--profile=\(profile)") }
    args.append("--output=json")
    return args
  }

  /// What a conditional call found.
  enum Outcome: Sendable {
    case ok(etag: String?)
    case missing
    case preconditionFailed
    case notModified
  }

  /// `get-object` into `file`; `ifNoneMatch` answers `.notModified` when the object still has that ETag.
  func get(_ key: String, to file: String, ifNoneMatch: String? = nil) throws -> Outcome {
    var args = ["s3api", "get-object", "--bucket=\(location.bucket)", "--key=\(key)"]
    if let ifNoneMatch { args.append("--if-none-match=\(ifNoneMatch)") }
    let result = try call(args + common + [file], operation: "read")
    return try outcome(result, operation: "read", key: key)
  }

  /// `put-object` of `file`: `ifMatch` an ETag, or nil for create-only (`--if-none-match=*`).
  func put(_ key: String, from file: String, ifMatch: String?) throws -> Outcome {
    var args = ["s3api", "put-object", "--bucket=\(location.bucket)", "--key=\(key)", "--body=\(file)"]
    args.append(ifMatch.map { "--if-match=\($0)" } ?? "--if-none-match=*")
    return try outcome(try call(args + common, operation: "write"), operation: "write", key: key)
  }

  /// `delete-object`, with `--if-match` when `ifMatch` is given.
  func delete(_ key: String, ifMatch: String?) throws -> Outcome {
    var args = ["s3api", "delete-object", "--bucket=\(location.bucket)", "--key=\(key)"]
    if let ifMatch { args.append("--if-match=\(ifMatch)") }
    return try outcome(try call(args + common, operation: "delete"), operation: "delete", key: key)
  }

  private func call(_ args: [String], operation: String) throws -> AWSCallResult {
    try aws.run(args)
  }

  private func outcome(_ result: AWSCallResult, operation: String, key: String) throws -> Outcome {
    if result.exitCode == 0 {
      let etag = Self.etag(in: result.stdout)
      return .ok(etag: etag)
    }
    switch result.errorCode {
    case "PreconditionFailed", "412": return .preconditionFailed
    case "NoSuchKey", "404": return .missing
    case "304": return .notModified
    default: throw S3Failure.error(result, operation: operation, object: "s3://\(location.bucket)/\(key)", location: location)
    }
  }

  /// The `ETag` of an s3api JSON answer.
  static func etag(in json: String) -> String? {
    guard let data = json.data(using: .utf8), let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
      return nil
    }
    return object["ETag"] as? String
  }
}

/// How an aws failure reads to the user: one line saying what to do.
enum S3Failure {
  static func error(_ result: AWSCallResult, operation: String, object: String, location: S3Location) -> StoreError {
    let said = result.message
    let message: String
    switch result.errorCode {
    case "NoSuchBucket":
      message =
        "the bucket \(location.bucket) does not exist (\(said)); create it (aws s3api create-bucket) or fix the bucket "
        + "in the location. Nothing was written"
    case "AccessDenied", "403", "AllAccessDisabled", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken":
      message =
        "S3 refused to \(operation) \(object) (\(said)); check the credentials and profile (AWS_PROFILE, ?profile=) and the "
        + "bucket policy: hk needs s3:GetObject, s3:PutObject and s3:DeleteObject on the state object and KEY.lock. "
        + "Nothing was written"
    default:
      message = "aws s3api could not \(operation) \(object): \(said); check network access to S3 (HTTPS_PROXY/NO_PROXY) and retry"
    }
    return .s3(location: location.display, message: message)
  }
}
