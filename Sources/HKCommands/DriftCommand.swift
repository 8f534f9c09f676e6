import ArgumentParser
import Foundation
import Model
import Operations
import Planner

extension HK {
  /// `hk drift`: live objects (through kops) and the internet gateway (through aws) vs the
  /// recorded state, plus what is pending; text, markdown or the JSON of DESIGN.md §6.
  public struct DriftCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
      commandName: "drift",
      abstract: "Report drift: live objects vs the recorded state, and what is pending (desired vs recorded).",
      discussion: """
        Reads the live Cluster and InstanceGroups through kops (after checking 'kops version' against \
        kopsVersion) and, for internetGateway.strategy temporary, the gateway through aws. Writes nothing \
        but the drift report, which is stored so the next report can mark what is new. Environments are \
        checked concurrently; one failing environment is reported as 'error' and does not stop the others. \
        Markdown output larger than one pull-request comment is split into parts separated by a line \
        '<!-- hk:part -->'.

        Exit codes: 0, or 1 when an environment could not be checked. With --detailed-exitcode: 0 in \
        sync, 2 drifted or pending, 1 error.
        """)

    @OptionGroup public var global: GlobalOptions
    @Argument(help: "Environments to check (default: all).") public var environments: [String] = []
    @Option(help: "text, markdown or json.") public var format: OutputFormat = .text
    @Flag(name: .customLong("detailed-exitcode"), help: "Exit 2 when anything is drifted or pending.")
    public var detailedExitCode = false
    @Option(help: "How many environments to check at once (default 4).") public var parallel: Int = 4
    @Option(help: "List the stored drift reports of this environment instead of checking.")
    public var history: String?
    @Option(help: "With --history: how many reports to list (default 20).") public var limit: Int = 20

    public init() {}

    public func validate() throws {
      if parallel < 1 { throw ValidationError("--parallel must be at least 1") }
      if limit < 1 { throw ValidationError("--limit must be at least 1") }
      if history != nil && !environments.isEmpty {
        throw ValidationError("--history lists one environment's reports; do not name other environments with it")
      }
    }

    public func run() async throws {
      let term = global.terminal
      if let history {
        let rows = try DriftOperation.history(history, limit: limit, stateLocation: global.stateDBPath, notice: { term.err($0) })
        switch format {
        case .json: term.out(DriftOperation.historyJSON(history, rows: rows).serialized(pretty: true) + "\n")
        case .text, .markdown:
          if rows.isEmpty {
            term.out("No drift reports stored for \(history); run 'hk drift \(history)'.\n")
            return
          }
          term.out(Format.table(DriftOperation.historyTable(rows)))
        }
        return
      }
      let operation = DriftOperation(try global.context(term), parallelism: parallel)
      let outcome = try await term.printingDiagnostics { try await operation.check(environments) }
      for w in outcome.warnings { term.err("warning: " + w + "\n") }
      let report = outcome.report
      switch format {
      case .text: term.out(DriftRenderer(color: term.color).text(report))
      case .markdown: term.out(DriftRenderer().markdown(report).joined(separator: "\n<!-- hk:part -->\n"))
      case .json: term.out(DriftJSON.render(report))
      }
      if report.hasErrors { throw ExitCode.failure }
      if detailedExitCode && (report.hasDrift || report.hasPending) { throw ExitCode(2) }
    }
  }
}
