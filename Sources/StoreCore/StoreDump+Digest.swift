import Foundation
import Model

extension StoreDump {
  /// Counts per kind, as `hk state migrate` reports and compares them.
  public var counts: [(kind: String, count: Int)] {
    [
      ("environments", Set(revisions.map(\.state.environment)).count), ("revisions", revisions.count), ("plans", plans.count),
      ("runs", runs.count), ("journal entries", journal.count), ("drift reports", driftReports.count),
    ]
  }

  /// A SHA-256 over everything in a canonical form (dates in milliseconds), per kind: equal on
  /// both sides of a migration exactly when the copies are equal.
  public var digests: [(kind: String, digest: String)] {
    func ms(_ date: Date?) -> String { date.map { String(Int64(($0.timeIntervalSince1970 * 1000).rounded())) } ?? "-" }
    func opt(_ s: String?) -> String { s.map { "+" + $0 } ?? "-" }
    func digest(_ fields: [[String]]) -> String {
      var hash = SHA256()
      for row in fields {
        for field in row {
          hash.update(String(field.utf8.count) + ":")
          hash.update(field)
        }
        hash.update("\n")
      }
      return SHA256.hex(hash.finalize())
    }
    let revisionRows = revisions.map { r -> [String] in
      let s = r.state
      let m = r.summary
      return [
        s.environment, String(s.serial), s.lineage, s.clusterYAML, s.instanceGroupsYAML.joined(separator: "\u{1}"),
        String(s.cloudUpdated), s.pendingRolls.joined(separator: ","), String(s.igwAttached), String(s.validated),
        opt(s.kopsVersion), opt(s.desiredDigest), opt(s.gitCommit), ms(m.createdAt), m.createdBy, m.command, m.note, opt(m.planID),
        opt(s.updatedByKops),
        s.settings.map { $0.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "\u{1}") } ?? "-",
      ]
    }
    let planRows = plans.map { p -> [String] in
      [p.id, ms(p.createdAt), p.environments.joined(separator: ","), p.planJSON]
        + p.bindings.map { "\($0.environment)|\($0.prior?.serial ?? 0)|\($0.prior?.lineage ?? "")|\($0.desiredDigest)" }
    }
    let runRows = runs.map { r -> [String] in
      [String(r.id), r.environment, r.command, opt(r.planID), ms(r.startedAt), ms(r.finishedAt), r.result.rawValue, r.message, r.holder]
    }
    let journalRows = journal.map { j -> [String] in
      [
        String(j.id), String(j.runID), String(j.stepID), j.kind, j.argv.joined(separator: "\u{1}"), ms(j.startedAt),
        ms(j.finishedAt), j.exitCode.map(String.init) ?? "-", j.outputTail, j.durationSeconds.map { String($0) } ?? "-",
        j.status.rawValue,
      ]
    }
    let driftRows = driftReports.map { d -> [String] in [String(d.id), d.environment, ms(d.createdAt), d.status, d.reportJSON] }
    return [
      ("revisions", digest(revisionRows)), ("plans", digest(planRows)), ("runs", digest(runRows)),
      ("journal entries", digest(journalRows)), ("drift reports", digest(driftRows)),
    ]
  }
}
