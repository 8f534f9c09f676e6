import ArgumentParser
import Config
import Executor
import Foundation
import Model
import Planner
import Store

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
        try DriftHistory(global: global, format: format).show(history, limit: limit, term: term)
        return
      }
      let loaded: LoadedEnvironments
      do {
        loaded = try Workspace(root: global.root).load(environments, validate: false)
      } catch {
        term.print(error.diagnostics)
        throw ExitCode.failure
      }
      var targets: [DriftChecker.Target] = []
      for (name, diagnostics) in loaded.diagnostics {
        if let env = loaded.environments.first(where: { $0.name == name }) {
          targets.append(.environment(env))
          continue
        }
        let errors = diagnostics.filter { $0.severity == .error }
        term.print(errors)
        let first = errors.first.map(\.description) ?? "cannot be loaded"
        let more = errors.count > 1 ? " (and \(errors.count - 1) more problems, above)" : ""
        targets.append(.unloadable(name: name, message: "\(first)\(more); fix the environment's files and run 'hk drift \(name)' again"))
      }
      let store = try StoreAccess.openForReading(global.stateDBPath, snapshot: false)
      let checker = DriftChecker(
        runner: SubprocessRunner(), kops: try global.kopsSelection(), aws: global.awsExecutable, store: store,
        parallelism: parallel)
      let outcome = await checker.check(targets)
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

/// `hk drift --history ENV`: the stored reports of one environment, newest first.
struct DriftHistory {
  var global: GlobalOptions
  var format: OutputFormat

  struct Row {
    var record: DriftReportRecord
    var entry: EnvironmentDrift?
  }

  func show(_ name: String, limit: Int, term: Terminal) throws {
    guard Environment.isValidName(name) else {
      throw CommandError.message("'\(name)' is not an environment name ([a-z0-9][a-z0-9-]*)")
    }
    var rows: [Row] = []
    if let store = try StoreAccess.openForReading(global.stateDBPath) {
      rows = try store.driftReports(name, limit: limit).map { Row(record: $0, entry: try? DriftJSON.decodeEnvironment($0.reportJSON)) }
    }
    switch format {
    case .json:
      let reports = rows.map { r in
        JSONValue.obj([
          ("created_at", .string(Format.date(r.record.createdAt))), ("status", .string(r.record.status)),
          ("drift", .int(Int64(r.entry?.drift.count ?? 0))), ("new", .int(Int64(r.entry?.newCount ?? 0))),
          ("pending", .int(Int64(r.entry?.pending.count ?? 0))), ("ignored", .int(Int64(r.entry?.ignored.count ?? 0))),
          ("igw_finding", .bool(r.entry?.gateway?.finding != nil)), ("error", r.entry?.error.map(JSONValue.string) ?? .null),
        ])
      }
      let doc = JSONValue.obj([
        ("format_version", .string(DriftReport.formatVersion)), ("environment", .string(name)), ("reports", .array(reports)),
      ])
      term.out(doc.serialized(pretty: true) + "\n")
    case .text, .markdown:
      if rows.isEmpty {
        term.out("No drift reports stored for \(name); run 'hk drift \(name)'.\n")
        return
      }
      var table = [["AT", "STATUS", "DRIFT", "NEW", "PENDING", "IGNORED", "IGW", "ERROR"]]
      for r in rows {
        let e = r.entry
        table.append([
          Format.date(r.record.createdAt), r.record.status, String(e?.drift.count ?? 0), String(e?.newCount ?? 0),
          String(e?.pending.count ?? 0), String(e?.ignored.count ?? 0),
          e?.gateway?.finding != nil ? "attached (finding)" : (e?.gateway.map { $0.actual.rawValue } ?? "-"),
          e?.error.map { String($0.prefix(60)) } ?? "-",
        ])
      }
      term.out(Format.table(table))
    }
  }
}
