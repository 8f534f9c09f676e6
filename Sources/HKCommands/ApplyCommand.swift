import ArgumentParser
import Config
import Executor
import Foundation
import Model
import Operations
import Planner

extension HK {
  /// `hk apply`: plan (or load a saved plan), confirm, then run the steps.
  public struct ApplyCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
      commandName: "apply",
      abstract: "Apply the plan through kops (and aws for the internet gateway), step by step.",
      discussion: """
        Without --yes the plan is shown and confirmed on a terminal; with no terminal apply refuses. \
        --plan FILE and --expect-digest SHA apply only what was reviewed: hk re-plans from the \
        current files and recorded state, refuses (saying what differs) unless the re-plan's \
        plan_digest equals the reviewed one, and then runs the re-planned steps (never a command \
        read from a file). Exits 1 when a step fails, with what was \
        applied, what failed and what to run next; the next 'hk apply' does exactly what is left.
        """)

    @OptionGroup public var global: GlobalOptions
    @Argument(help: "Environments to apply (default: all; with --plan: those in the plan).") public var environments: [String] = []
    @Option(name: .customLong("plan"), help: "A plan saved with 'hk plan --out FILE': runs only if re-planning gives it again.")
    public var planFile: String?
    @Option(name: .customLong("changed-since"), help: "Only environments whose files (or base) differ from this git ref.")
    public var changedSince: String?
    @Option(
      name: .customLong("expect-digest"),
      help: "Run only if the plan of these environments has this plan_digest (the one a reviewer saw).")
    public var expectDigest: String?
    @Flag(help: "Do not ask for confirmation.") public var yes = false
    @Flag(
      name: .customLong("allow-state-store-change"),
      help: "Apply even when an environment's stateStore changed (kops then works on another state store).")
    public var allowStateStoreChange = false
    @Flag(name: .customLong("allow-drift"), help: "Apply even when live objects differ from the recorded state.")
    public var allowDrift = false
    @Flag(
      name: .customLong("allow-surprises"),
      help: "Go on when kops's dry run shows a launch template or IAM change the plan did not predict.")
    public var allowSurprises = false
    @Option(name: .customLong("step-timeout"), help: "Longest one step may run, in seconds (default 2700).")
    public var stepTimeout: Int = 2700
    @Option(name: .customLong("validate-timeout"), help: "How long to wait for the cluster to validate, in seconds (default 900).")
    public var validateTimeout: Int = 900
    @Option(name: .customLong("validate-interval"), help: "Seconds between validation polls (default 10).")
    public var validateInterval: Double = 10
    @Flag(help: "Record a cluster that already exists as the files describe it while nothing is recorded (else: hk import).")
    public var adopt = false

    public init() {}

    public func validate() throws {
      if planFile != nil && changedSince != nil {
        throw ValidationError("--changed-since cannot be combined with --plan (a saved plan names its environments)")
      }
      if let expectDigest, !PlanDigest.isWellFormed(expectDigest) {
        throw ValidationError("--expect-digest takes a plan_digest as hk prints it: 'sha256:' and 64 hex digits")
      }
    }

    public func run() async throws {
      let term = global.terminal
      let operation = ApplyOperation(
        try global.context(term),
        commandLine: (["hk"] + CommandLine.arguments.dropFirst()).joined(separator: " "),
        options: ApplyOptions(
          allowDrift: allowDrift, stepTimeout: .seconds(stepTimeout), validateTimeout: .seconds(validateTimeout),
          validateInterval: .milliseconds(Int(validateInterval * 1000)), adopt: adopt, allowSurprises: allowSurprises))
      let prepared = try await term.printingDiagnostics {
        try await operation.prepare(environments: environments, planFile: planFile, changedSince: changedSince, expectDigest: expectDigest)
      }
      let ready: ApplyOperation.Ready
      switch prepared {
      case .nothing(let message, let toStderr):
        if toStderr { term.err(message) } else { term.out(message) }
        return
      case .ready(let r): ready = r
      }
      term.out(PlanRenderer(color: term.color).text(ready.plan))
      if ready.work.isEmpty { return }
      try ready.checkStateStoreMoves(allowed: allowStateStoreChange)
      if !yes {
        guard term.isInteractive else { throw CommandError.noTerminal }
        term.out("\nApply these steps? Only 'yes' is accepted: ")
        guard readLine()?.trimmingCharacters(in: .whitespaces) == "yes" else { throw CommandError.declined }
      }
      let succeeded = try await operation.apply(ready, observer: TerminalObserver(terminal: term)) { e in
        term.out("\nApplying \(e.name) (\(e.steps.count) steps)\n")
      } finished: { outcome, notApplied in
        term.out(Account.describe(outcome))
        if !notApplied.isEmpty {
          term.out("Not applied (stopped after \(outcome.environment) failed): \(notApplied.joined(separator: ", "))\n")
        }
      }
      if !succeeded { throw ExitCode.failure }
    }
  }
}

/// The short account printed after each environment's apply.
enum Account {
  static func describe(_ o: ApplyOutcome) -> String {
    switch o.status {
    case .succeeded:
      return "\(o.environment): applied \(o.completed.count) step\(o.completed.count == 1 ? "" : "s")"
        + (o.finalSerial.map { "; recorded serial \($0)" } ?? "") + ".\n"
    default:
      var s = "\n\(o.environment): apply \(o.status == .refused ? "refused" : o.status == .interrupted ? "interrupted" : "failed").\n"
      if !o.completed.isEmpty { s += "  Applied: " + o.completed.map { "\($0.id) \($0.kind.rawValue)" }.joined(separator: ", ") + "\n" }
      if let f = o.failedStep, f.id > 0 { s += "  Failed:  \(f.id) \(f.kind.rawValue)\n" }
      s +=
        "  Why:     "
        + o.reason.split(separator: "\n", omittingEmptySubsequences: false).map { OutputEscaping.text(String($0)) }
        .joined(separator: "\n           ") + "\n"
      if !o.notRun.isEmpty { s += "  Not run: " + o.notRun.map { "\($0.id) \($0.kind.rawValue)" }.joined(separator: ", ") + "\n" }
      if !o.next.isEmpty { s += "  Next:    " + o.next + "\n" }
      return s
    }
  }
}

/// Prints `[3/7] kops update cluster …` with kops's own lines indented under it.
final class TerminalObserver: ApplyObserver, @unchecked Sendable {
  let terminal: Terminal
  private let lock = NSLock()
  init(terminal: Terminal) { self.terminal = terminal }

  func stepStarted(environment: String, step: Step, total: Int) {
    lock.withLock { terminal.out("[\(step.id)/\(total)] \(PlanRenderer.shell(step.command))\n") }
  }
  func output(environment: String, step: Step, line: OutputLine) {
    lock.withLock { terminal.out("      " + OutputEscaping.text(Redaction.redact(text: line.text)) + "\n") }
  }
  func stepFinished(environment: String, step: Step, total: Int, status: String, duration: Double, succeeded: Bool) {
    let t = String(format: "%.1fs", duration)
    lock.withLock {
      terminal.out(
        succeeded ? "[\(step.id)/\(total)] done in \(t)\n" : "[\(step.id)/\(total)] failed after \(t): \(Redaction.redact(text: status))\n")
    }
  }
  func note(environment: String, _ message: String) {
    lock.withLock { terminal.out("  note: " + Redaction.redact(text: message) + "\n") }
  }
}
