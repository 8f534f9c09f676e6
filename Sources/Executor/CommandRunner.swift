import Foundation
import Model

/// One external command to run: an argv (never a shell string) plus its environment additions.
///
/// The invocation is a plain value so the step engine can journal it and tests can compare it.
/// It is never passed through a shell: every element of ``arguments`` reaches the child as one
/// argv element, whatever characters it contains.
public struct CommandInvocation: Sendable, Hashable {
  /// A bare name (`kops`, looked up on `PATH`) or a path (`/usr/local/bin/kops-1.28`,
  /// `./bin/kops`; relative paths are taken relative to hk's working directory).
  public var executable: String
  /// The arguments after the executable, one argv element each.
  public var arguments: [String]
  /// Variables set (or overridden) on top of hk's own environment, which the child inherits in
  /// full (so `AWS_*`, `KOPS_STATE_STORE`, `HTTPS_PROXY`, `NO_PROXY` pass through). Not a
  /// replacement environment.
  public var environment: [String: String]
  /// How long the command may run; after that it is stopped (SIGTERM, then SIGKILL after the
  /// runner's grace period) and the result is marked ``CommandResult/timedOut``. `nil`: no limit.
  public var timeout: Duration?
  /// The child's working directory; `nil` inherits hk's.
  public var workingDirectory: String?

  public init(
    _ executable: String, _ arguments: [String], environment: [String: String] = [:], timeout: Duration? = nil,
    workingDirectory: String? = nil
  ) {
    self.executable = executable
    self.arguments = arguments
    self.environment = environment
    self.timeout = timeout
    self.workingDirectory = workingDirectory
  }

  /// The executable followed by the arguments, as the child sees `argv`.
  public var argv: [String] { [executable] + arguments }
}

/// What a finished command did: its exit status and the (possibly capped) text of both streams.
///
/// A non-zero exit code is a normal result, not an error: kops and aws report outcomes through
/// it (and kops dry runs exit 0 whether or not changes are pending, so never read "changes" from
/// it). Runners throw only when the command could not be started.
public struct CommandResult: Sendable, Hashable {
  /// The exit code; `128 + signal` when the process was killed by a signal (shell convention).
  public var exitCode: Int32
  /// Standard output, decoded as UTF-8 (invalid bytes repaired). At most the runner's output
  /// limit: when the command wrote more, the head is dropped and ``truncated`` is set.
  public var stdout: String
  /// Standard error, with the same cap as ``stdout``. kops logs (klog) and `Error: …` go here.
  public var stderr: String
  /// Wall-clock run time in seconds, from spawn to exit.
  public var duration: Double
  /// The invocation's timeout expired and the runner stopped the process.
  public var timedOut: Bool
  /// The process ended because of a signal (then ``exitCode`` is `128 + signal`).
  public var signaled: Bool
  /// The calling task was cancelled while the command ran (e.g. hk got SIGINT) and the runner
  /// stopped the process. Not set for a timeout.
  public var cancelled: Bool
  /// The head of stdout or stderr was dropped to respect the runner's output limit. A parser
  /// that needs the whole output (e.g. `kops get … -o yaml`) must treat this as a failure.
  public var truncated: Bool

  public init(
    exitCode: Int32 = 0, stdout: String = "", stderr: String = "", duration: Double = 0, timedOut: Bool = false,
    signaled: Bool = false, cancelled: Bool = false, truncated: Bool = false
  ) {
    self.exitCode = exitCode
    self.stdout = stdout
    self.stderr = stderr
    self.duration = duration
    self.timedOut = timedOut
    self.signaled = signaled
    self.cancelled = cancelled
    self.truncated = truncated
  }

  /// Exit code 0 and the command was neither timed out nor cancelled.
  public var succeeded: Bool { exitCode == 0 && !timedOut && !cancelled }

  /// The signal that ended the process, when ``signaled``.
  public var signal: Int32? { signaled ? exitCode - 128 : nil }

  /// A short phrase for messages: `exit 1`, `killed by signal 15`, `timed out`, `cancelled`.
  public var statusDescription: String {
    if timedOut { return "timed out" }
    if cancelled { return "cancelled" }
    if let signal { return "killed by signal \(signal)" }
    return "exit \(exitCode)"
  }
}

/// One line a running command wrote, delivered live for progress display.
///
/// Lines are split on `\n` (a trailing `\r` is removed) and decoded as UTF-8. Lines of one
/// stream arrive in order; stdout and stderr lines may interleave in any order. A line longer
/// than 64 KiB is delivered cut short (the captured output in ``CommandResult`` keeps it whole).
public struct OutputLine: Sendable, Hashable {
  /// Which pipe a line came from.
  public enum Stream: String, Sendable, Hashable {
    case stdout, stderr
  }

  /// The pipe the line came from.
  public var stream: Stream
  /// The line without its terminator.
  public var text: String

  public init(_ stream: Stream, _ text: String) {
    self.stream = stream
    self.text = text
  }
}

/// The only seam between hk and external programs (kops, aws).
///
/// Production uses ``SubprocessRunner``; tests use ``RecordingRunner`` or a separate double
/// process. Contract for every implementation:
/// - Runs `argv` directly, never through a shell.
/// - Returns a ``CommandResult`` for any exit status; throws only when the command cannot be
///   started (``ExecutableNotFoundError``, ``CommandLaunchError``) or when the calling task is
///   already cancelled before the start (`CancellationError`).
/// - When the calling task is cancelled while the command runs, stops it (SIGTERM, SIGKILL after
///   a grace period) and returns the result with ``CommandResult/cancelled`` set. A cancelled
///   task can therefore not run cleanup commands (e.g. the IGW detach after SIGINT): run those
///   in a fresh, uncancelled task (`await Task { … }.value`).
public protocol CommandRunner: Sendable {
  /// Runs the invocation to completion.
  ///
  /// - Parameters:
  ///   - invocation: What to run.
  ///   - onLine: Receives each stdout/stderr line live, from a background task; keep it cheap.
  /// - Returns: The exit status and captured output.
  /// - Throws: ``ExecutableNotFoundError``, ``CommandLaunchError``, or `CancellationError` when
  ///   the task was cancelled before the command started.
  func run(_ invocation: CommandInvocation, onLine: (@Sendable (OutputLine) -> Void)?) async throws -> CommandResult
}

extension CommandRunner {
  /// Runs the invocation without live output.
  public func run(_ invocation: CommandInvocation) async throws -> CommandResult {
    try await run(invocation, onLine: nil)
  }
}

/// The executable of a command does not exist (or is not on `PATH`).
///
/// Adapters replace ``hint`` with tool-specific advice ("install kops 1.28 or pass --kops …").
public struct ExecutableNotFoundError: HKError, Hashable {
  /// The executable as given (name or path).
  public var executable: String
  /// The `PATH` searched, when the executable was a bare name.
  public var searchPath: String?
  /// What the user should do next.
  public var hint: String

  public init(executable: String, searchPath: String?, hint: String? = nil) {
    self.executable = executable
    self.searchPath = searchPath
    self.hint = hint ?? "install it or pass its full path"
  }

  public var errorDescription: String? {
    let name = executable.split(separator: "/").last.map(String.init) ?? executable
    if executable.contains("/") {
      return "\(name) not found at \(executable); \(hint)"
    }
    let path = searchPath.map { " (PATH=\($0))" } ?? ""
    return "\(name) not found on PATH\(path); \(hint)"
  }
  public var nextStep: String { hint }
}

/// A command exists but could not be started (not executable, bad working directory, …).
public struct CommandLaunchError: HKError, Hashable {
  /// The executable as given.
  public var executable: String
  /// Why it could not start, from the operating system.
  public var reason: String

  public init(executable: String, reason: String) {
    self.executable = executable
    self.reason = reason
  }

  public var errorDescription: String? {
    "could not start \(executable): \(reason); \(nextStep)"
  }
  public var nextStep: String { "check that it is an executable file and that the working directory exists" }
}
