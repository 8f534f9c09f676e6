import Foundation
import Model
import Operations
import Planner
import Store

/// `hk state show ENV --run N`: one apply run as its journal recorded it.
enum RunJournal {
  /// The run's header, then each journaled command: step, kind, status, exit code, duration,
  /// the argv and the end of its output (all redacted again on the way out).
  static func render(_ run: RunSummary, entries: [JournalEntry]) -> String {
    var s = "Run \(run.id) of \(run.environment): \(Redaction.redact(text: run.command))\n"
    s += "  started \(Format.date(run.startedAt)) by \(run.holder)"
    if let end = run.finishedAt { s += ", finished \(Format.date(end))" }
    s += "; result: \(run.result.rawValue)\n"
    let message = run.message.trimmingCharacters(in: .whitespacesAndNewlines)
    if !message.isEmpty { s += "  " + Redaction.redact(text: message).replacingAll("\n", "\n  ") + "\n" }
    if entries.isEmpty { s += "\n  (no command was journaled)\n" }
    for e in entries {
      let exit = e.exitCode.map { "exit \($0)" } ?? "no exit status"
      let duration = e.durationSeconds.map { String(format: "%.1fs", $0) } ?? "still running or stopped"
      s += "\n  [\(e.stepID)] \(e.kind): \(e.status.rawValue), \(exit), \(duration)\n"
      s += "      $ " + PlanRenderer.shell(e.argv.map { Redaction.redact(text: $0) }) + "\n"
      let tail = e.outputTail.trimmingCharacters(in: .whitespacesAndNewlines)
      for line in tail.split(separator: "\n", omittingEmptySubsequences: false) where !tail.isEmpty {
        s += "      | " + Redaction.redact(text: String(line)) + "\n"
      }
    }
    return s
  }
}
