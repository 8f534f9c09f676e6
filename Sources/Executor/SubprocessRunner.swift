import Foundation
import Subprocess
import Synchronization

#if canImport(System)
import System
#else
import SystemPackage
#endif

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The production ``CommandRunner``: spawns the command with swift-subprocess.
///
/// - The executable is looked up on `PATH` (the overridden `PATH` if the invocation sets one)
///   when it has no `/`; a path is used as given (relative to hk's working directory).
/// - The child inherits hk's environment plus the invocation's overrides.
/// - stdout and stderr are read concurrently into separate buffers (neither pipe can fill up and
///   block the child) and streamed line by line to `onLine`. Each keeps the last
///   ``outputLimit`` bytes; more output never fails the run, it sets
///   ``CommandResult/truncated``.
/// - The child runs in its own process group (``isolatesProcessGroup``). To stop it (timeout or
///   task cancellation) the runner sends SIGTERM to the group, waits up to ``gracePeriod`` for
///   the child to exit, then sends SIGKILL to the group. Because the child is not in hk's
///   foreground group, a terminal Ctrl-C reaches hk only; hk decides how to stop the step.
public struct SubprocessRunner: CommandRunner {
  /// How long a stopped command gets between SIGTERM and SIGKILL.
  public var gracePeriod: Duration
  /// The number of bytes kept of each stream (the last ones).
  public var outputLimit: Int
  /// Run each command in a new process group, so a stop reaches its children too.
  public var isolatesProcessGroup: Bool

  public init(gracePeriod: Duration = .seconds(10), outputLimit: Int = 1 << 20, isolatesProcessGroup: Bool = true) {
    self.gracePeriod = gracePeriod
    self.outputLimit = outputLimit
    self.isolatesProcessGroup = isolatesProcessGroup
  }

  public func run(
    _ invocation: CommandInvocation, onLine: (@Sendable (OutputLine) -> Void)?
  ) async throws -> CommandResult {
    try Task.checkCancellation()
    let environment = Environment.inherit.updating(
      Dictionary(
        invocation.environment.map { (Environment.Key(stringLiteral: $0.key), Optional($0.value)) },
        uniquingKeysWith: { _, last in last }))
    let executable = try await resolve(invocation, environment: environment)

    let start = ContinuousClock.now
    let outcome = try await spawn(invocation, executable: executable, environment: environment, onLine: onLine)
    let elapsed = ContinuousClock.now - start
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18

    var result = CommandResult(
      exitCode: 0, stdout: outcome.stdout.text, stderr: outcome.stderr.text, duration: seconds,
      timedOut: outcome.timedOut, signaled: false, cancelled: outcome.stopped && !outcome.timedOut,
      truncated: outcome.stdout.truncated || outcome.stderr.truncated)
    switch outcome.status {
    case .exited(let code):
      result.exitCode = Int32(truncatingIfNeeded: code)
    case .signaled(let signal):
      result.exitCode = 128 + Int32(truncatingIfNeeded: signal)
      result.signaled = true
    }
    return result
  }

  // MARK: Spawning

  private struct Outcome: Sendable {
    var status: TerminationStatus
    var stdout: OutputCapture
    var stderr: OutputCapture
    /// The runner stopped the process (timeout or cancellation).
    var stopped: Bool
    /// The timeout expired while the process was still running, and the runner stopped it.
    var timedOut: Bool
  }

  /// Runs the process. Cancelling the calling task, or the invocation's timeout expiring while
  /// the process still runs, stops it (group SIGTERM, grace, group SIGKILL); reading goes on
  /// until both pipes close, so output written while stopping is kept.
  ///
  /// The timeout's clock starts when the process has been spawned, and an expired timeout
  /// counts only if the process has not exited by then: a command that finished is never
  /// reported as timed out because the tasks reading its output were not scheduled in time
  /// (a busy cooperative thread pool delays them, not the process).
  private func spawn(
    _ invocation: CommandInvocation, executable: Executable, environment: Environment,
    onLine: (@Sendable (OutputLine) -> Void)?
  ) async throws -> Outcome {
    var options = PlatformOptions()
    if isolatesProcessGroup { options.processGroupID = 0 }
    // Subprocess's own teardown on cancellation (it also covers the moments outside the body).
    // It targets the child only: process-group signals are sent by `stop` below once the
    // group is known to exist, so a platform that cannot create the group still gets a kill.
    options.teardownSequence = [.gracefulShutDown(allowedDurationToNextStep: gracePeriod)]

    let limit = outputLimit
    let grace = gracePeriod
    let isolate = isolatesProcessGroup
    let timeout = invocation.timeout
    do {
      let result = try await Subprocess.run(
        executable, arguments: Arguments(invocation.arguments), environment: environment,
        workingDirectory: invocation.workingDirectory.map { FilePath($0) }, platformOptions: options,
        input: .none, output: .sequence, error: .sequence
      ) { execution -> Captured in
        let control = StopControl()
        let pid = execution.processIdentifier.value
        let stdoutSequence = execution.standardOutput
        let stderrSequence = execution.standardError
        return await withTaskCancellationHandler {
          // An unstructured task, so that reading and stopping go on after the caller is cancelled.
          await Task {
            await withTaskGroup(of: Part.self) { group in
              group.addTask {
                .stdout(
                  await Self.pump(stdoutSequence, into: OutputCapture(stream: .stdout, limit: limit, onLine: onLine)))
              }
              group.addTask {
                .stderr(
                  await Self.pump(stderrSequence, into: OutputCapture(stream: .stderr, limit: limit, onLine: onLine)))
              }
              group.addTask {
                if await control.waitForStopOrClosedOutput() {
                  await Self.stop(execution, isolatedGroup: isolate, grace: grace)
                }
                return .watcher
              }
              // Cancelled below once both pipes have closed and the child has exited.
              let timer = timeout.map { timeout in
                Task {
                  guard (try? await Task.sleep(for: timeout)) != nil else { return }
                  control.timeoutExpired(childHasExited: { Self.hasExited(pid) })
                }
              }
              defer { timer?.cancel() }
              var captured = Captured(
                stdout: OutputCapture(stream: .stdout, limit: limit, onLine: nil),
                stderr: OutputCapture(stream: .stderr, limit: limit, onLine: nil))
              var openStreams = 2
              for await part in group {
                switch part {
                case .stdout(let capture): captured.stdout = capture
                case .stderr(let capture): captured.stderr = capture
                case .watcher: continue
                }
                openStreams -= 1
                if openStreams == 0 {
                  // A child normally closes its output by exiting. One that closed it and runs
                  // on is still under the timeout (and a cancellation) until it exits.
                  await Self.waitForExit(pid, unless: control)
                  timer?.cancel()
                  control.outputClosed()
                }
              }
              captured.stopped = control.stopWasRequested
              captured.timedOut = control.timeoutTookEffect
              return captured
            }
          }.value
        } onCancel: {
          control.requestStop()
        }
      }
      let captured = result.closureResult
      return Outcome(
        status: result.terminationStatus, stdout: captured.stdout, stderr: captured.stderr, stopped: captured.stopped,
        timedOut: captured.timedOut)
    } catch let error as SubprocessError {
      throw Self.launchError(error, invocation: invocation, environment: environment)
    }
  }

  private struct Captured: Sendable {
    var stdout: OutputCapture
    var stderr: OutputCapture
    var stopped = false
    var timedOut = false
  }

  private enum Part: Sendable {
    case stdout(OutputCapture)
    case stderr(OutputCapture)
    case watcher
  }

  /// Returns once the child `pid` has exited (at once, normally: it closed its output by exiting)
  /// or a stop was requested (whose watcher then stops it), polling at most every 50 ms.
  private static func waitForExit(_ pid: pid_t, unless control: StopControl) async {
    var pause = Duration.milliseconds(1)
    while !hasExited(pid), !control.stopWasRequested {
      try? await Task.sleep(for: pause)
      pause = min(pause * 2, .milliseconds(50))
    }
  }

  /// Whether the child `pid` has exited. Its zombie is left for swift-subprocess to reap
  /// (`WNOWAIT`), which it does only after the body returns, so `pid` is still this child's.
  private static func hasExited(_ pid: pid_t) -> Bool {
    var info = siginfo_t()
    if waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == -1 {
      // ECHILD: not a child of hk any more, so it has exited; any other error: treat it as running.
      return errno == ECHILD
    }
    // With WNOHANG and no state change, waitid leaves `info` zeroed.
    return info.si_signo != 0
  }

  private static func pump(_ sequence: SubprocessOutputSequence, into capture: OutputCapture) async -> OutputCapture {
    var capture = capture
    do {
      for try await buffer in sequence {
        buffer.withUnsafeBytes { capture.append($0) }
      }
    } catch {
      // A read error ends this stream; what was read is kept and the exit status still counts.
    }
    capture.finish()
    return capture
  }

  /// SIGTERM to the child's group (or the child alone when it has no group of its own), up to
  /// `grace` for it to exit, then SIGKILL; finally SIGKILL to any group member left behind.
  private static func stop<I, O, E>(_ execution: Execution<I, O, E>, isolatedGroup: Bool, grace: Duration) async {
    let pid = execution.processIdentifier.value
    // The child is not reaped while this body runs, so its pid (and group id) cannot be reused.
    let ownsGroup = isolatedGroup && getpgid(pid) == pid
    await execution.teardown(using: [.gracefulShutDown(toProcessGroup: ownsGroup, allowedDurationToNextStep: grace)])
    if ownsGroup { _ = kill(-pid, SIGKILL) }
  }

  // MARK: Resolution and errors

  private func resolve(_ invocation: CommandInvocation, environment: Environment) async throws -> Executable {
    let name = invocation.executable
    guard !name.isEmpty else { throw ExecutableNotFoundError(executable: name, searchPath: nil) }
    if name.contains("/") {
      let path = name.hasPrefix("/") ? name : FileManager.default.currentDirectoryPath + "/" + name
      guard FileManager.default.fileExists(atPath: path) else {
        throw ExecutableNotFoundError(executable: name, searchPath: nil)
      }
      guard access(path, X_OK) == 0 else {
        throw CommandLaunchError(executable: name, reason: "permission denied (not executable)")
      }
      return .path(FilePath(path))
    }
    do {
      return .path(try await Executable.name(name).resolveExecutablePath(in: environment))
    } catch {
      throw ExecutableNotFoundError(executable: name, searchPath: Self.searchPath(invocation))
    }
  }

  private static func searchPath(_ invocation: CommandInvocation) -> String? {
    invocation.environment["PATH"] ?? ProcessInfo.processInfo.environment["PATH"]
  }

  private static func launchError(
    _ error: SubprocessError, invocation: CommandInvocation, environment: Environment
  ) -> any Error {
    if error.code == .executableNotFound || error.underlyingError?.rawValue == ENOENT {
      if let dir = invocation.workingDirectory, !FileManager.default.fileExists(atPath: dir) {
        return CommandLaunchError(executable: invocation.executable, reason: "working directory \(dir) does not exist")
      }
      return ExecutableNotFoundError(
        executable: invocation.executable,
        searchPath: invocation.executable.contains("/") ? nil : searchPath(invocation))
    }
    if error.code == .failedToChangeWorkingDirectory {
      return CommandLaunchError(
        executable: invocation.executable,
        reason: "cannot change to working directory \(invocation.workingDirectory ?? "?")")
    }
    return CommandLaunchError(executable: invocation.executable, reason: error.description)
  }
}

/// Wakes the stop watcher of one running command: either a stop was requested (timeout or
/// cancellation) or both output pipes closed (the normal end).
private final class StopControl: Sendable {
  private struct State {
    var stopRequested = false
    var timeoutTookEffect = false
    var outputClosed = false
    var waiter: CheckedContinuation<Void, Never>?
  }

  private let state = Mutex(State())

  func requestStop() {
    let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
      s.stopRequested = true
      defer { s.waiter = nil }
      return s.waiter
    }
    waiter?.resume()
  }

  func outputClosed() {
    let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
      s.outputClosed = true
      defer { s.waiter = nil }
      return s.waiter
    }
    waiter?.resume()
  }

  /// The invocation's timeout expired: stops the command unless it has already ended (its
  /// output closed, a stop already requested, or `childHasExited`).
  func timeoutExpired(childHasExited: () -> Bool) {
    let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
      guard !s.stopRequested, !s.outputClosed, !childHasExited() else { return nil }
      s.stopRequested = true
      s.timeoutTookEffect = true
      defer { s.waiter = nil }
      return s.waiter
    }
    waiter?.resume()
  }

  /// Whether the timeout stopped the command.
  var timeoutTookEffect: Bool { state.withLock { $0.timeoutTookEffect } }

  /// Whether a stop was requested at any time so far.
  var stopWasRequested: Bool { state.withLock { $0.stopRequested } }

  /// Returns `true` when a stop was requested, `false` when the output closed first.
  func waitForStopOrClosedOutput() async -> Bool {
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
      let now = state.withLock { s -> Bool in
        if s.stopRequested || s.outputClosed { return true }
        s.waiter = continuation
        return false
      }
      if now { continuation.resume() }
    }
    return state.withLock { $0.stopRequested }
  }
}
