import Foundation
import Model
import Planner

/// The kops CLI for one cluster: runs kops (arguments *after* the executable; ``argv(_:)``
/// prepends it) and asks its version.
///
/// The argv of every command hk runs comes from ``KopsArgv`` (Planner): the plan's steps carry
/// it, so the plan shows and the step engine runs the same argv. Every one names the cluster
/// and `--state` explicitly (kops-contract.md §1.1), so kops never falls back to
/// `KOPS_STATE_STORE` or the current kubectl context.
public struct KopsCLI: Sendable {
  /// The kops binary: a name looked up on `PATH` or a path.
  public var executable: String
  /// The state store URL passed as `--state` (e.g. `s3://corp-kops-state`).
  public var stateStore: String
  /// The cluster name (`metadata.name` of the Cluster).
  public var cluster: String
  /// Environment added to every kops call (on top of hk's own, which kops inherits).
  public var environment: [String: String]
  /// What runs the commands.
  public var runner: any CommandRunner

  public init(
    executable: String, stateStore: String, cluster: String, runner: any CommandRunner,
    environment: [String: String] = [:]
  ) {
    self.executable = executable
    self.stateStore = stateStore
    self.cluster = cluster
    self.runner = runner
    self.environment = environment
  }

  // MARK: Argv

  /// The full argv (executable first) for `arguments`.
  public func argv(_ arguments: [String]) -> [String] { [executable] + arguments }

  /// The single source of kops argv (shared with the planner, whose steps the engine runs).
  var args: KopsArgv { KopsArgv(kops: executable, cluster: cluster, stateStore: stateStore) }

  // MARK: Running

  /// Runs kops with `arguments`; any exit status is returned, not thrown.
  ///
  /// - Parameters:
  ///   - arguments: After the executable (a ``KopsArgv`` builder's argv without its first element).
  ///   - environment: Added on top of ``environment`` (e.g. `KUBECONFIG` for one step).
  ///   - timeout: Stop kops after this long (then ``CommandResult/timedOut``).
  ///   - onLine: Live stdout/stderr lines.
  /// - Returns: What kops did: its exit status and output, whatever the status.
  /// - Throws: ``ExecutableNotFoundError`` (with advice on `--kops`/`kopsPath`),
  ///   ``CommandLaunchError``, `CancellationError`.
  public func run(
    _ arguments: [String], environment: [String: String] = [:], timeout: Duration? = nil,
    onLine: (@Sendable (OutputLine) -> Void)? = nil
  ) async throws -> CommandResult {
    let invocation = CommandInvocation(
      executable, arguments, environment: self.environment.merging(environment) { _, new in new }, timeout: timeout)
    do {
      return try await runner.run(invocation, onLine: onLine)
    } catch var error as ExecutableNotFoundError {
      error.hint = "install kops or pass --kops PATH or --kops-map VERSION=PATH (or HK_KOPS, HK_KOPS_MAP)"
      throw error
    }
  }

  /// Runs kops and throws ``KopsCommandError`` unless it exited 0.
  public func runChecked(
    _ arguments: [String], environment: [String: String] = [:], timeout: Duration? = nil,
    onLine: (@Sendable (OutputLine) -> Void)? = nil
  ) async throws -> CommandResult {
    let result = try await run(arguments, environment: environment, timeout: timeout, onLine: onLine)
    guard result.succeeded else { throw KopsCommandError(arguments: argv(arguments), result: result) }
    return result
  }

  /// The kops binary's version, from `kops version --short`.
  ///
  /// Also reads the long forms (`Client version: 1.28.4 (git-…)`, `Version 1.23.4 (git-…)`).
  /// - Throws: ``KopsCommandError`` when kops fails, ``KopsVersionError`` when the output holds
  ///   no version, or the errors of ``run(_:environment:timeout:onLine:)``.
  public func version(timeout: Duration? = .seconds(60)) async throws -> KopsVersion {
    let result = try await runChecked(Array(args.version().dropFirst()), timeout: timeout)
    guard let version = Self.parseVersion(result.stdout) else {
      throw KopsVersionError(executable: executable, output: result.stdout)
    }
    return version
  }

  /// The first version number in `kops version` output; `nil` when there is none.
  public static func parseVersion(_ output: String) -> KopsVersion? {
    for line in output.split(whereSeparator: \.isNewline) {
      for token in line.split(whereSeparator: { $0 == " " || $0 == "\t" }) {
        guard let first = token.first, first.isNumber || first == "v" else { continue }
        if let version = KopsVersion(String(token)) { return version }
      }
    }
    return nil
  }
}

/// A kops command exited non-zero (or timed out / was cancelled).
public struct KopsCommandError: HKError, Hashable {
  /// The full argv, executable first.
  public var arguments: [String]
  /// What the command did (exit status, output).
  public var result: CommandResult
  /// The line that says what went wrong (usually kops's `Error: …`).
  public var summary: String?

  public init(arguments: [String], result: CommandResult, summary: String? = nil) {
    self.arguments = arguments
    self.result = result
    self.summary = summary ?? KopsOutput.failureSummary(stderr: result.stderr, stdout: result.stdout)
  }

  public var errorDescription: String? {
    let tool = arguments.first.map { $0.split(separator: "/").last.map(String.init) ?? $0 } ?? "kops"
    let command = ([tool] + arguments.dropFirst().prefix(2)).joined(separator: " ")
    var message = "\(command) failed (\(result.statusDescription))"
    if let summary { message += ": \(Redaction.redact(text: summary))" }
    return message + "; " + nextStep
  }

  /// What to do next, from the failure's text.
  public var nextStep: String {
    let text = (summary ?? "") + "\n" + result.stderr
    if result.timedOut { return "kops did not finish in time; run the command by hand to see where it hangs" }
    if result.cancelled { return "the command was interrupted; re-run hk to continue" }
    if text.contains("State Store: Required value") || text.contains("Unable to read state store") {
      return "check stateStore in environment.yaml and your AWS credentials for it"
    }
    if text.contains("NoCredentialProviders") || text.contains("no EC2 IMDS role found")
      || text.contains("failed to refresh cached credentials")
    {
      return "provide AWS credentials to kops (AWS_PROFILE or aws.profile in environment.yaml)"
    }
    if text.contains("not found") {
      return "check the cluster name and stateStore in environment.yaml (`hk import` adopts an existing cluster)"
    }
    return "run `\(arguments.joined(separator: " "))` by hand for the full output"
  }
}

/// `kops version` printed no version number.
public struct KopsVersionError: HKError, Hashable {
  /// The kops binary that was asked.
  public var executable: String
  /// What it printed instead of a version.
  public var output: String

  public init(executable: String, output: String) {
    self.executable = executable
    self.output = output
  }

  public var errorDescription: String? {
    let shown = output.trimmingSpaces().prefix(200)
    return "\(executable) version printed no version number (\"\(shown)\"); \(nextStep)"
  }
  public var nextStep: String { "check that \(executable) is the kops CLI" }
}
