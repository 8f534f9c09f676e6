import Foundation

/// What a child process did: exit status and its stdout and stderr, captured separately.
public struct ProcessResult: Sendable, CustomStringConvertible {
  /// The exit code, or `128 + signal` when the process was killed by a signal.
  public var exitCode: Int32
  public var stdout: String
  public var stderr: String
  /// Whether the process ran past the timeout and was killed by the runner.
  public var timedOut: Bool

  public init(exitCode: Int32, stdout: String, stderr: String, timedOut: Bool) {
    self.exitCode = exitCode
    self.stdout = stdout
    self.stderr = stderr
    self.timedOut = timedOut
  }

  public var description: String {
    "exit \(exitCode)\(timedOut ? " (timed out)" : "")\n--- stdout\n\(stdout)\n--- stderr\n\(stderr)"
  }
}

/// Collects a pipe's bytes on a background thread.
private final class PipeReader: @unchecked Sendable {
  private let lock = NSLock()
  private var data = Data()
  private let done = DispatchSemaphore(value: 0)

  init(_ handle: FileHandle) {
    Thread.detachNewThread { [self] in
      let bytes = handle.readDataToEndOfFile()
      lock.lock()
      data = bytes
      lock.unlock()
      done.signal()
    }
  }

  func text(waitingUpTo seconds: Double) -> String {
    _ = done.wait(timeout: .now() + seconds)
    lock.lock()
    defer { lock.unlock() }
    return String(decoding: data, as: UTF8.self)
  }
}

/// Runs `path` with `args` and waits for it (tests only: kops doubles, the `aws` CLI, hk).
///
/// - Parameters:
///   - path: the executable.
///   - args: its arguments.
///   - env: the complete environment of the child (nil inherits the test's environment).
///   - cwd: the working directory (nil inherits).
///   - stdin: text written to the child's stdin; nil connects stdin to `/dev/null`.
///   - timeout: seconds before the child gets SIGTERM (then SIGKILL after 2 s).
/// - Returns: its exit code and both streams.
/// - Throws: when the child cannot be started.
public func runProcess(
  _ path: String, _ args: [String], env: [String: String]? = nil, cwd: String? = nil, stdin: String? = nil,
  timeout: Double = 120
) throws -> ProcessResult {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: path)
  process.arguments = args
  if let env { process.environment = env }
  if let cwd { process.currentDirectoryURL = URL(fileURLWithPath: cwd) }
  let out = Pipe()
  let err = Pipe()
  process.standardOutput = out
  process.standardError = err
  let input: Pipe? = stdin == nil ? nil : Pipe()
  if let input {
    process.standardInput = input
  } else {
    process.standardInput = FileHandle.nullDevice
  }
  do {
    try withDefaultSignalMask { try process.run() }
  } catch {
    throw TestSupportError("cannot start \(path): \(error.localizedDescription)")
  }
  let outReader = PipeReader(out.fileHandleForReading)
  let errReader = PipeReader(err.fileHandleForReading)
  if let input, let stdin {
    try? input.fileHandleForWriting.write(contentsOf: Data(stdin.utf8))
    try? input.fileHandleForWriting.close()
  }
  let deadline = Date().addingTimeInterval(timeout)
  var timedOut = false
  while process.isRunning {
    if Date() > deadline {
      timedOut = true
      process.terminate()
      let grace = Date().addingTimeInterval(2)
      while process.isRunning && Date() < grace { Thread.sleep(forTimeInterval: 0.02) }
      if process.isRunning { kill(process.processIdentifier, SIGKILL) }
      break
    }
    Thread.sleep(forTimeInterval: 0.01)
  }
  process.waitUntilExit()
  let code: Int32 =
    process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
  return ProcessResult(
    exitCode: code, stdout: outReader.text(waitingUpTo: 5), stderr: errReader.text(waitingUpTo: 5), timedOut: timedOut)
}

/// The first executable called `name` on `$PATH`, or nil.
public func findExecutable(_ name: String, path: String? = nil) -> String? {
  let search = path ?? ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
  for dir in search.split(separator: ":") {
    let candidate = String(dir) + "/" + name
    if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
  }
  return nil
}

/// A tool on `$PATH`, with pyenv shims resolved to the real script (`pyenv which NAME`): the
/// shim costs a bash and a pyenv start on every call. Results are cached per process.
public func resolveTool(_ name: String) -> String? {
  ToolCache.shared.lock.lock()
  if let cached = ToolCache.shared.paths[name] {
    ToolCache.shared.lock.unlock()
    return cached
  }
  ToolCache.shared.lock.unlock()
  guard var path = findExecutable(name) else { return nil }
  if path.contains("/shims/"), let pyenv = findExecutable("pyenv"),
    let result = try? runProcess(pyenv, ["which", name], timeout: 30), result.exitCode == 0
  {
    let resolved = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    if FileManager.default.isExecutableFile(atPath: resolved) { path = resolved }
  }
  ToolCache.shared.lock.lock()
  ToolCache.shared.paths[name] = path
  ToolCache.shared.lock.unlock()
  return path
}

private final class ToolCache: @unchecked Sendable {
  static let shared = ToolCache()
  let lock = NSLock()
  var paths: [String: String] = [:]
}

/// Runs `body` (a `Process.run()`) with the calling thread's signal mask cleared, so that the
/// child does not inherit it.
///
/// Test threads block SIGTERM, SIGINT and other signals, and Foundation's `Process` passes the
/// spawning thread's mask on: a child started from a test would ignore `terminate()` (and a
/// shell's traps would never run). The mask is restored afterwards.
public func withDefaultSignalMask<T>(_ body: () throws -> T) rethrows -> T {
  var empty = sigset_t()
  var old = sigset_t()
  sigemptyset(&empty)
  pthread_sigmask(SIG_SETMASK, &empty, &old)
  defer { pthread_sigmask(SIG_SETMASK, &old, nil) }
  return try body()
}
