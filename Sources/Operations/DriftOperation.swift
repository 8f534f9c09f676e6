import Executor
import Foundation
import Model
import Planner
import Store

/// Live objects and the internet gateway vs the recorded state, plus what is pending (the work
/// behind `hk drift`), and the stored reports of one environment (`hk drift --history`).
public struct DriftOperation: Sendable {
  /// The repository, the state location, kops and aws, where the errors of environments that
  /// cannot be loaded go (each is then reported as `error`).
  public var context: OperationContext
  /// How many environments are checked at once.
  public var parallelism: Int

  public init(_ context: OperationContext, parallelism: Int = 4) {
    self.context = context
    self.parallelism = parallelism
  }

  /// Checks the named environments (all when empty) and stores each report.
  /// - Throws: ``Model/DiagnosticError`` when the names cannot be resolved; the store's error
  ///   when the state location cannot be opened.
  public func check(_ names: [String]) async throws -> DriftChecker.Outcome {
    let loaded = try Workspace(root: context.root).load(names, validate: false)
    var targets: [DriftChecker.Target] = []
    for (name, diagnostics) in loaded.diagnostics {
      if let env = loaded.environments.first(where: { $0.name == name }) {
        targets.append(.environment(env))
        continue
      }
      let errors = diagnostics.filter { $0.severity == .error }
      context.report(errors)
      let first = errors.first.map(\.description) ?? "cannot be loaded"
      let more = errors.count > 1 ? " (and \(errors.count - 1) more problems, above)" : ""
      targets.append(.unloadable(name: name, message: "\(first)\(more); fix the environment's files and run 'hk drift \(name)' again"))
    }
    let store = try StoreAccess.openForReading(context.stateLocation, snapshot: false, notice: context.notice)
    let checker = DriftChecker(runner: SubprocessRunner(), kops: context.kops, aws: context.aws, store: store, parallelism: parallelism)
    return await checker.check(targets)
  }

  /// One stored report of an environment, with its entry when it can be read.
  public struct HistoryRow: Sendable {
    public var record: DriftReportRecord
    public var entry: EnvironmentDrift?
  }

  /// The stored reports of `name`, newest first (none where hk never wrote).
  public static func history(
    _ name: String, limit: Int, stateLocation: String, notice: StoreAccess.Notice
  ) throws -> [HistoryRow] {
    guard Environment.isValidName(name) else {
      throw CommandError.message(
        "'\(name)' is not an environment name ([a-z0-9][a-z0-9-]*); name one of the directories under environments/")
    }
    guard let store = try StoreAccess.openForReading(stateLocation, notice: notice) else { return [] }
    return try store.driftReports(name, limit: limit).map {
      HistoryRow(record: $0, entry: try? DriftJSON.decodeEnvironment($0.reportJSON))
    }
  }

  /// The history as the JSON document `hk drift --history ENV --format json` prints.
  public static func historyJSON(_ name: String, rows: [HistoryRow]) -> JSONValue {
    let reports = rows.map { r in
      JSONValue.obj([
        ("created_at", .string(Format.date(r.record.createdAt))), ("status", .string(r.record.status)),
        ("drift", .int(Int64(r.entry?.drift.count ?? 0))), ("new", .int(Int64(r.entry?.newCount ?? 0))),
        ("pending", .int(Int64(r.entry?.pending.count ?? 0))), ("ignored", .int(Int64(r.entry?.ignored.count ?? 0))),
        ("igw_finding", .bool(r.entry?.gateway?.finding != nil)), ("error", r.entry?.error.map(JSONValue.string) ?? .null),
      ])
    }
    return JSONValue.obj([
      ("format_version", .string(DriftReport.formatVersion)), ("environment", .string(name)), ("reports", .array(reports)),
    ])
  }

  /// The history as table rows (a header, then one row per report).
  public static func historyTable(_ rows: [HistoryRow]) -> [[String]] {
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
    return table
  }
}
