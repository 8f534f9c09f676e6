import Foundation
import Model
import StoreCore

/// Everything but the leases, out and in: what `hk state migrate` copies.
extension PostgresStateStore {
  public func exportAll() throws -> StoreDump {
    let (revisions, plans, runs, journal, drifts) = try read { c in
      (
        try c.exec("SELECT \(Self.revisionColumns) FROM hk.revision r ORDER BY r.environment, r.serial"),
        try c.exec("SELECT \(Self.planColumns) FROM hk.plan ORDER BY id"),
        try c.exec("SELECT \(Self.runColumns) FROM hk.run ORDER BY id"),
        try c.exec("SELECT \(Self.journalColumns) FROM hk.journal ORDER BY id"),
        try c.exec("SELECT \(Self.driftColumns) FROM hk.drift_report ORDER BY id")
      )
    }
    return StoreDump(
      revisions: try revisions.map(revision), plans: try plans.map(plan), runs: try runs.map(run),
      journal: try journal.map(entry), driftReports: try drifts.map(drift))
  }

  public func importAll(_ dump: StoreDump, replacing: Bool) throws {
    try write { c in
      try c.exec("LOCK TABLE hk.environment, hk.revision, hk.plan, hk.run, hk.journal, hk.drift_report IN EXCLUSIVE MODE")
      if replacing {
        try c.exec("DELETE FROM hk.journal; DELETE FROM hk.run; DELETE FROM hk.revision; DELETE FROM hk.environment;")
        try c.exec("DELETE FROM hk.plan; DELETE FROM hk.drift_report;")
      } else if try !isEmpty(c) {
        throw StoreError.databaseFailure(path: displayLocation, message: "the target is not empty")
      }
      var current: [String: StoredRevision] = [:]
      for r in dump.revisions {
        if let known = current[r.state.environment], known.state.serial > r.state.serial {} else { current[r.state.environment] = r }
      }
      for (name, r) in current.sorted(by: { $0.key < $1.key }) {
        let first = dump.revisions.first { $0.state.environment == name }?.summary.createdAt ?? r.summary.createdAt
        try c.exec(
          "INSERT INTO hk.environment (name, lineage, current_serial, created_at) VALUES ($1, $2, $3, to_timestamp($4))",
          [name, r.state.lineage, String(r.state.serial), Self.time(first)])
      }
      for r in dump.revisions {
        try insertRevision(
          c, r.state.draft, serial: r.state.serial, lineage: r.state.lineage, createdAt: r.summary.createdAt,
          createdBy: r.summary.createdBy, command: r.summary.command, planID: r.summary.planID, note: r.summary.note)
      }
      for p in dump.plans {
        try c.exec(
          """
          INSERT INTO hk.plan (id, created_at, environments_json, plan_json, binding_json)
          VALUES ($1, to_timestamp($2), $3, $4, $5)
          """, [p.id, Self.time(p.createdAt), try Self.json(p.environments), p.planJSON, try Self.json(p.bindings)])
      }
      for r in dump.runs {
        try c.exec(
          """
          INSERT INTO hk.run (id, environment, command, plan_id, started_at, finished_at, result, message, holder)
          VALUES ($1, $2, $3, $4, to_timestamp($5), to_timestamp($6), $7, $8, $9)
          """,
          [
            String(r.id), r.environment, r.command, r.planID, Self.time(r.startedAt), r.finishedAt.map(Self.time),
            r.result.rawValue, Self.clean(r.message), r.holder,
          ])
      }
      for j in dump.journal {
        try c.exec(
          """
          INSERT INTO hk.journal (id, run_id, step_id, kind, argv_json, started_at, finished_at, exit_code, output_tail,
            duration_seconds, status)
          VALUES ($1, $2, $3, $4, $5, to_timestamp($6), to_timestamp($7), $8, $9, $10, $11)
          """,
          [
            String(j.id), String(j.runID), String(j.stepID), j.kind, try Self.json(j.argv), Self.time(j.startedAt),
            j.finishedAt.map(Self.time), j.exitCode.map { String($0) }, Self.tail(j.outputTail),
            j.durationSeconds.map { String($0) }, j.status.rawValue,
          ])
      }
      for d in dump.driftReports {
        try c.exec(
          "INSERT INTO hk.drift_report (id, environment, created_at, status, report_json) VALUES ($1, $2, to_timestamp($3), $4, $5)",
          [String(d.id), d.environment, Self.time(d.createdAt), d.status, Self.clean(d.reportJSON)])
      }
      // Identity columns continue after the copied IDs.
      for table in ["run", "journal", "drift_report"] {
        try c.exec(
          "SELECT setval(pg_get_serial_sequence('hk.\(table)', 'id'), GREATEST((SELECT max(id) FROM hk.\(table)), 1), "
            + "(SELECT max(id) FROM hk.\(table)) IS NOT NULL)")
      }
    }
  }

  public func isEmpty() throws -> Bool {
    try call { c in try isEmpty(c) }
  }

  private func isEmpty(_ c: PGConnection) throws -> Bool {
    let row = try c.exec(
      """
      SELECT NOT (EXISTS (SELECT 1 FROM hk.revision) OR EXISTS (SELECT 1 FROM hk.run) OR EXISTS (SELECT 1 FROM hk.plan)
        OR EXISTS (SELECT 1 FROM hk.drift_report))
      """
    ).first
    return (row?.first ?? nil) == "t"
  }
}
