import Foundation
import GRDB
import Model

/// Everything but the leases, out and in: what `hk state migrate` copies.
extension SQLiteStateStore {
  public func exportAll() throws -> StoreDump {
    let (revisions, plans, runs, journal, drifts) = try read { db in
      (
        try RevisionRow.fetchAll(db, sql: #"SELECT * FROM "revision" ORDER BY "environment", "serial""#),
        try PlanRow.fetchAll(db, sql: #"SELECT * FROM "plan" ORDER BY "id""#),
        try RunRow.fetchAll(db, sql: #"SELECT * FROM "run" ORDER BY "id""#),
        try JournalRow.fetchAll(db, sql: #"SELECT * FROM "journal" ORDER BY "id""#),
        try DriftReportRow.fetchAll(db, sql: #"SELECT * FROM "driftReport" ORDER BY "id""#)
      )
    }
    return StoreDump(
      revisions: revisions.map { StoredRevision(state: $0.state, summary: $0.summary) },
      plans: try plans.map(savedPlan),
      runs: runs.map(Self.runSummary),
      journal: try journal.map { try journalEntry($0) },
      driftReports: drifts.map(Self.driftRecord))
  }

  public func importAll(_ dump: StoreDump, replacing: Bool) throws {
    let plans = try dump.plans.map { p in
      PlanRow(
        id: p.id, createdAt: p.createdAt, environmentsJSON: try Self.json(p.environments), planJSON: p.planJSON,
        bindingJSON: try Self.json(p.bindings))
    }
    let journal = try dump.journal.map { j in
      JournalRow(
        id: j.id, runID: j.runID, stepID: j.stepID, kind: j.kind, argvJSON: try Self.json(j.argv), startedAt: j.startedAt,
        finishedAt: j.finishedAt, exitCode: j.exitCode, outputTail: j.outputTail, durationSeconds: j.durationSeconds,
        status: j.status.rawValue)
    }
    try write { db in
      if replacing {
        for table in ["journal", "run", "revision", "environment", "plan", "driftReport"] {
          try db.execute(sql: "DELETE FROM \"\(table)\"")
        }
      } else if try !Self.isEmpty(db) {
        throw StoreError.databaseFailure(path: location, message: "the target is not empty")
      }
      var current: [String: RevisionRow] = [:]
      for r in dump.revisions {
        let row = RevisionRow(
          draft: r.state.draft, serial: r.state.serial, lineage: r.state.lineage, createdAt: r.summary.createdAt,
          createdBy: r.summary.createdBy, command: r.summary.command, planID: r.summary.planID, note: r.summary.note)
        if let known = current[row.environment], known.serial > row.serial {} else { current[row.environment] = row }
        if try EnvironmentRow.fetchOne(db, key: row.environment) == nil {
          try EnvironmentRow(name: row.environment, lineage: row.lineage, currentSerial: row.serial, createdAt: row.createdAt)
            .insert(db)
        }
        try row.insert(db)
      }
      for (name, row) in current {
        try db.execute(
          sql: #"UPDATE "environment" SET "lineage" = ?, "currentSerial" = ? WHERE "name" = ?"#,
          arguments: [row.lineage, row.serial, name])
      }
      for plan in plans { try plan.insert(db) }
      for r in dump.runs {
        var row = RunRow(
          id: r.id, environment: r.environment, command: r.command, planID: r.planID, startedAt: r.startedAt,
          finishedAt: r.finishedAt, result: r.result.rawValue, message: r.message, holder: r.holder)
        try row.insert(db)
      }
      for var row in journal { try row.insert(db) }
      for d in dump.driftReports {
        var row = DriftReportRow(id: d.id, environment: d.environment, createdAt: d.createdAt, status: d.status, reportJSON: d.reportJSON)
        try row.insert(db)
      }
    }
  }

  public func isEmpty() throws -> Bool {
    try read { db in try Self.isEmpty(db) }
  }

  static func isEmpty(_ db: Database) throws -> Bool {
    for table in ["revision", "run", "plan", "driftReport"]
    where try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM \"\(table)\")") == true {
      return false
    }
    return true
  }
}
