import Model
import Planner
import Store

/// A ``CommandRunner`` that journals every command it runs under one step of an apply run:
/// an entry before (argv, redacted) and after (status, exit code, redacted output tail,
/// duration), including commands that cannot be started.
///
/// A journal write that fails is never swallowed: the command still runs (a journal the
/// database cannot take is no reason to leave a gateway attached), and the failure is handed to
/// the run's ``LeaseKeeper``, so the apply stops before its next step and says why.
///
/// The apply engine hands it to the kops/aws adapters (``LiveAccess``, ``AWSCLI``) so that their
/// logic (version parsing, live reads, gateway idempotency) is the one hk has, and every call
/// they make is still journaled.
struct JournalingRunner: CommandRunner {
  var base: any CommandRunner
  var store: any StateStoring
  /// The run's lease: journal writes of a holder that lost it are refused, and a journal write
  /// that fails is reported to it (the run stops before its next step).
  var lease: LeaseKeeper?
  var fence: LockInfo? { lease?.lease }
  var runID: Int64
  var stepID: Int
  /// The journal kind of an invocation (`kops-update`, `preflight-read`, …).
  var kind: @Sendable (CommandInvocation) -> String
  /// Variables added to every invocation (the apply's environment), under the invocation's own.
  var environment: [String: String]
  /// The timeout of invocations that set none.
  var defaultTimeout: Duration?

  func run(_ invocation: CommandInvocation, onLine: (@Sendable (OutputLine) -> Void)?) async throws -> CommandResult {
    var invocation = invocation
    invocation.environment = environment.merging(invocation.environment) { _, own in own }
    if invocation.timeout == nil { invocation.timeout = defaultTimeout }
    // A command is never run by a holder that lost its lease (another apply owns the cluster
    // now); a journal the database cannot take is no reason to leave a gateway attached.
    let entry: Int64?
    let kind = kind(invocation)
    do {
      entry = try store.journalStepStarted(
        runID: runID, stepID: stepID, kind: kind, argv: invocation.argv.map { Redaction.redact(text: $0) }, fence: fence)
    } catch {
      if let error = error as? StoreError, case .leaseLost = error { throw error }
      try report("the journal could not record the start of \(kind) (step \(stepID)): \(error.localizedDescription)", error)
      entry = nil
    }
    do {
      let result = try await base.run(invocation, onLine: onLine)
      let status: JournalStatus = result.succeeded ? .succeeded : (result.cancelled ? .interrupted : .failed)
      let output = result.stdout + (result.stderr.isEmpty ? "" : "\n" + result.stderr)
      if let entry {
        do {
          try store.journalStepFinished(
            entryID: entry, status: status, exitCode: result.exitCode, outputTail: Redaction.redact(text: Self.tail(output)),
            duration: result.duration, fence: fence)
        } catch {
          try report("the journal could not record the end of \(kind) (step \(stepID)): \(error.localizedDescription)", error)
        }
      }
      return result
    } catch {
      if let entry {
        do {
          try store.journalStepFinished(
            entryID: entry, status: error is CancellationError ? .interrupted : .failed, exitCode: nil,
            outputTail: Redaction.redact(text: error.localizedDescription), duration: 0, fence: fence)
        } catch let journal {
          try report("the journal could not record the end of \(kind) (step \(stepID)): \(journal.localizedDescription)", journal)
        }
      }
      throw error
    }
  }

  /// Hands a failed journal write to the run's lease keeper (the run stops before its next
  /// step); without one, throws it.
  func report(_ problem: String, _ error: any Error) throws {
    guard let lease else { throw error }
    lease.report(problem)
  }

  static func tail(_ s: String, lines: Int = 40) -> String {
    s.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
  }
}
