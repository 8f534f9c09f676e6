import Foundation
import Model
import StoreCore

/// Revisions, saved plans, runs, journal and drift reports in PostgreSQL.
extension PostgresStateStore {
  /// The columns of `hk.revision` beside the draft's, in the order ``revision(_:)`` reads them.
  static let metadataColumns = ["serial", "lineage", "created_at", "created_by", "command", "plan_id", "note"]

  /// The recorded fields' columns, in the order of ``draftValues(_:)`` and ``draft(_:at:what:)``:
  /// a new field of ``Model/RecordedStateDraft`` is an entry in each of the three and a migration.
  static let draftColumns = [
    "environment", "cluster_yaml", "instance_groups_yaml", "cloud_updated", "pending_rolls", "igw_attached", "validated",
    "kops_version", "updated_by_kops", "desired_digest", "git_commit", "settings_json",
  ]

  static func draftValues(_ d: RecordedStateDraft) throws -> [String?] {
    [
      d.environment, d.clusterYAML, try json(d.instanceGroupsYAML), bool(d.cloudUpdated), try json(d.pendingRolls),
      bool(d.igwAttached), bool(d.validated), d.kopsVersion, d.updatedByKops, d.desiredDigest, d.gitCommit,
      try d.settings.map { try json($0) },
    ]
  }

  func draft(_ row: [String?], at i: Int, what: String) throws -> RecordedStateDraft {
    RecordedStateDraft(
      environment: try text(row, i, what), clusterYAML: try text(row, i + 1, what),
      instanceGroupsYAML: try decode([String].self, row[i + 2], what: "\(what) instance groups"),
      cloudUpdated: try text(row, i + 3, what) == "t", pendingRolls: try decode([String].self, row[i + 4], what: "\(what) rolls"),
      igwAttached: try text(row, i + 5, what) == "t", validated: try text(row, i + 6, what) == "t", kopsVersion: row[i + 7],
      desiredDigest: row[i + 9], gitCommit: row[i + 10], updatedByKops: row[i + 8],
      settings: try row[i + 11].map { try decode([String: String].self, $0, what: "\(what) settings") })
  }

  /// What ``revision(_:)`` reads, unqualified (for `RETURNING`).
  static let returnedColumns = (metadataColumns + draftColumns).map { $0 == "created_at" ? epoch($0) : $0 }.joined(
    separator: ", ")
  /// What ``revision(_:)`` reads, from `hk.revision r`.
  static let revisionColumns = (metadataColumns + draftColumns).map { $0 == "created_at" ? epoch("r." + $0) : "r." + $0 }
    .joined(separator: ", ")

  func revision(_ row: [String?]) throws -> StoredRevision {
    let env = try text(row, Self.metadataColumns.count, "revision environment")
    let serial = try int(row, 0, "revision serial")
    let what = "revision \(serial) of \(env)"
    let state = RecordedState(
      serial: serial, lineage: try text(row, 1, what), draft: try draft(row, at: Self.metadataColumns.count, what: what))
    let summary = RevisionSummary(
      state, createdAt: try time(row, 2, what), createdBy: try text(row, 3, what), command: try text(row, 4, what),
      note: try text(row, 6, what), planID: row[5])
    return StoredRevision(state: state, summary: summary)
  }

  /// Inserts one revision: a recorded step's, or a migrated one.
  @discardableResult
  func insertRevision(
    _ c: PGConnection, _ draft: RecordedStateDraft, serial: Int64, lineage: String, createdAt: Date, createdBy: String,
    command: String, planID: String?, note: String
  ) throws -> [[String?]] {
    let columns = Self.metadataColumns + Self.draftColumns
    let values = (1...columns.count).map { columns[$0 - 1] == "created_at" ? "to_timestamp($\($0))" : "$\($0)" }
    return try c.exec(
      "INSERT INTO hk.revision (\(columns.joined(separator: ", "))) VALUES (\(values.joined(separator: ", "))) "
        + "RETURNING \(Self.returnedColumns)",
      [String(serial), lineage, Self.time(createdAt), createdBy, command, planID, note] + Self.draftValues(draft))
  }

  public func recorded(_ environment: String) throws -> RecordedState? {
    try recorded([environment])[environment]
  }

  public func recorded(_ environments: [String]) throws -> [String: RecordedState] {
    if environments.isEmpty { return [:] }
    // One statement, one round trip, however many environments.
    let rows = try call { c in
      try c.exec(
        "SELECT \(Self.revisionColumns) FROM hk.environment e JOIN hk.revision r "
          + "ON r.environment = e.name AND r.serial = e.current_serial WHERE e.name = ANY($1::text[])",
        [Self.textArray(environments)])
    }
    var out: [String: RecordedState] = [:]
    for row in rows {
      let r = try revision(row).state
      out[r.environment] = r
    }
    return out
  }

  public func revision(_ environment: String, serial: Int64) throws -> RecordedState? {
    let rows = try call { c in
      try c.exec(
        "SELECT \(Self.revisionColumns) FROM hk.revision r WHERE r.environment = $1 AND r.serial = $2",
        [environment, String(serial)])
    }
    return try rows.first.map { try revision($0).state }
  }

  public func history(_ environment: String) throws -> [RevisionSummary] {
    let rows = try call { c in
      try c.exec(
        "SELECT \(Self.revisionColumns) FROM hk.revision r WHERE r.environment = $1 ORDER BY r.serial DESC", [environment])
    }
    return try rows.map { try revision($0).summary }
  }

  public func environments() throws -> [EnvironmentSummary] {
    let rows = try call { c in
      try c.exec(
        """
        SELECT e.name, e.current_serial, e.lineage, \(Self.epoch("r.created_at")), r.created_by,
          (SELECT result FROM hk.run WHERE run.environment = e.name ORDER BY id DESC LIMIT 1)
        FROM hk.environment e JOIN hk.revision r ON r.environment = e.name AND r.serial = e.current_serial
        ORDER BY e.name
        """)
    }
    return try rows.map { row in
      EnvironmentSummary(
        name: try text(row, 0, "environment"), serial: try int(row, 1, "serial"), lineage: try text(row, 2, "lineage"),
        lastAppliedAt: try time(row, 3, "created_at"), lastAppliedBy: try text(row, 4, "created_by"),
        lastRunResult: row[5].map { RunResult(rawValue: $0) ?? .interrupted })
    }
  }

  /// In a write: checks the fence, locks `environment`'s revisions for this transaction and checks
  /// that its (serial, lineage) is `expected` (compare-and-swap); returns it.
  private func current(_ c: PGConnection, _ environment: String, expected: PriorState?, fence: LockInfo?) throws -> PriorState? {
    try checkFence(c, fence)
    try c.exec("SELECT pg_advisory_xact_lock(hashtext('hk.environment:' || $1))", [environment])
    let row = try c.exec("SELECT current_serial, lineage FROM hk.environment WHERE name = $1", [environment]).first
    let actual = try row.map { PriorState(serial: try int($0, 0, "current serial"), lineage: try text($0, 1, "lineage")) }
    try StoreError.checkPrior(actual, expected: expected)
    return actual
  }

  @discardableResult
  public func record(
    _ state: RecordedStateDraft, expectedPrior: PriorState?, actor: StoreActor, note: String,
    planID: String?, newLineage: Bool, fence: LockInfo?
  ) throws -> RecordedState {
    try write { c in
      _ = try current(c, state.environment, expected: expectedPrior, fence: fence)
      let now = Date()
      let next = PriorState.next(after: expectedPrior, newLineage: newLineage)
      try c.exec(
        """
        INSERT INTO hk.environment (name, lineage, current_serial, created_at) VALUES ($1, $2, $3, to_timestamp($4))
        ON CONFLICT (name) DO UPDATE SET lineage = excluded.lineage, current_serial = excluded.current_serial
        """, [state.environment, next.lineage, String(next.serial), Self.time(now)])
      let rows = try insertRevision(
        c, state, serial: next.serial, lineage: next.lineage, createdAt: now, createdBy: actor.userAtHost, command: actor.command,
        planID: planID, note: note)
      guard let row = rows.first else { throw StoreError.databaseFailure(path: displayLocation, message: "no revision written") }
      return try revision(row).state
    }
  }

  @discardableResult
  public func amend(
    _ state: RecordedStateDraft, at expected: PriorState, actor: StoreActor, note: String, fence: LockInfo?
  ) throws -> RecordedState {
    let values = try Self.draftValues(state)
    return try write { c in
      _ = try current(c, state.environment, expected: expected, fence: fence)
      let set = Self.draftColumns.enumerated().map { "\($0.element) = $\($0.offset + 6)" }.joined(separator: ", ")
      let rows = try c.exec(
        """
        UPDATE hk.revision SET created_at = to_timestamp($3), created_by = $4, note = $5, \(set)
        WHERE environment = $1 AND serial = $2
        RETURNING \(Self.returnedColumns)
        """,
        [state.environment, String(expected.serial), Self.time(Date()), actor.userAtHost, note] + values)
      guard let row = rows.first else { throw StoreError.conflict(expected: expected, actual: nil) }
      return try revision(row).state
    }
  }

  // MARK: - Saved plans

  public func savePlan(id: String, planJSON: String, bindings: [PlanBinding]) throws {
    let environments = try Self.json(bindings.map(\.environment))
    let bindingJSON = try Self.json(bindings)
    try write { c in
      let inserted = try c.exec(
        """
        INSERT INTO hk.plan (id, created_at, environments_json, plan_json, binding_json)
        VALUES ($1, to_timestamp($2), $3, $4, $5) ON CONFLICT (id) DO NOTHING RETURNING id
        """, [id, Self.time(Date()), environments, planJSON, bindingJSON])
      if inserted.isEmpty { throw StoreError.planExists(id: id) }
    }
  }

  static let planColumns = "id, \(epoch("created_at")), environments_json, plan_json, binding_json"

  func plan(_ row: [String?]) throws -> SavedPlan {
    let id = try text(row, 0, "plan id")
    return SavedPlan(
      id: id, createdAt: try time(row, 1, "plan \(id)"),
      environments: try decode([String].self, row[2], what: "plan \(id) environments"), planJSON: try text(row, 3, "plan \(id)"),
      bindings: try decode([PlanBinding].self, row[4], what: "plan \(id) bindings"))
  }

  public func savedPlan(id: String) throws -> SavedPlan? {
    let rows = try call { c in try c.exec("SELECT \(Self.planColumns) FROM hk.plan WHERE id = $1", [id]) }
    return try rows.first.map(plan)
  }

  // MARK: - Runs and journal

  public func beginRun(environment: String, command: String, planID: String?, actor: StoreActor, fence: LockInfo?) throws -> Int64 {
    try write { c in
      try checkFence(c, fence)
      let rows = try c.exec(
        """
        INSERT INTO hk.run (environment, command, plan_id, started_at, result, message, holder)
        VALUES ($1, $2, $3, to_timestamp($4), 'running', '', $5) RETURNING id
        """, [environment, command, planID, Self.time(Date()), actor.holder])
      return try int(rows.first ?? [], 0, "run id")
    }
  }

  public func journalStepStarted(runID: Int64, stepID: Int, kind: String, argv: [String], fence: LockInfo?) throws -> Int64 {
    let argvJSON = try Self.json(argv)
    return try write { c in
      try checkFence(c, fence)
      guard try !c.exec("SELECT 1 FROM hk.run WHERE id = $1", [String(runID)]).isEmpty else {
        throw StoreError.noSuchRun(id: runID)
      }
      let rows = try c.exec(
        """
        INSERT INTO hk.journal (run_id, step_id, kind, argv_json, started_at, output_tail, status)
        VALUES ($1, $2, $3, $4, to_timestamp($5), '', 'started') RETURNING id
        """, [String(runID), String(stepID), kind, argvJSON, Self.time(Date())])
      return try int(rows.first ?? [], 0, "journal id")
    }
  }

  public func journalStepFinished(
    entryID: Int64, status: JournalStatus, exitCode: Int32?, outputTail: String, duration: Double, fence: LockInfo?
  ) throws {
    let tail = Self.tail(outputTail)
    try write { c in
      try checkFence(c, fence)
      let rows = try c.exec(
        """
        UPDATE hk.journal SET status = $2, exit_code = $3, output_tail = $4, duration_seconds = $5, finished_at = to_timestamp($6)
        WHERE id = $1 RETURNING id
        """,
        [
          String(entryID), status.rawValue, exitCode.map { String($0) }, tail, duration.isFinite ? String(duration) : nil,
          Self.time(Date()),
        ])
      if rows.isEmpty { throw StoreError.noSuchJournalEntry(id: entryID) }
    }
  }

  public func finishRun(runID: Int64, result: RunResult, message: String, fence: LockInfo?) throws {
    try write { c in
      try checkFence(c, fence)
      let rows = try c.exec(
        "UPDATE hk.run SET result = $2, message = $3, finished_at = to_timestamp($4) WHERE id = $1 RETURNING id",
        [String(runID), result.rawValue, Self.clean(message), result == .running ? nil : Self.time(Date())])
      if rows.isEmpty { throw StoreError.noSuchRun(id: runID) }
    }
  }

  static let runColumns = "id, environment, command, plan_id, \(epoch("started_at")), \(epoch("finished_at")), result, message, holder"

  func run(_ row: [String?]) throws -> RunSummary {
    let id = try int(row, 0, "run id")
    return RunSummary(
      id: id, environment: try text(row, 1, "run \(id)"), command: try text(row, 2, "run \(id)"), planID: row[3],
      startedAt: try time(row, 4, "run \(id)"), finishedAt: Self.date(row[5]),
      result: RunResult(rawValue: row[6] ?? "") ?? .interrupted, message: row[7] ?? "", holder: row[8] ?? "")
  }

  public func runs(_ environment: String, limit: Int) throws -> [RunSummary] {
    try newest(Self.runColumns, from: "run", of: environment, limit: limit).map(run)
  }

  static let journalColumns = """
    id, run_id, step_id, kind, argv_json, \(epoch("started_at")), \(epoch("finished_at")), exit_code, output_tail,
    duration_seconds, status
    """

  func entry(_ row: [String?]) throws -> JournalEntry {
    let id = try int(row, 0, "journal id")
    return JournalEntry(
      id: id, runID: try int(row, 1, "journal \(id)"), stepID: Int(try int(row, 2, "journal \(id)")), kind: row[3] ?? "",
      argv: try decode([String].self, row[4], what: "journal entry \(id) argv"), startedAt: try time(row, 5, "journal \(id)"),
      finishedAt: Self.date(row[6]), exitCode: row[7].flatMap { Int32($0) }, outputTail: row[8] ?? "",
      durationSeconds: row[9].flatMap { Double($0) }, status: JournalStatus(rawValue: row[10] ?? "") ?? .interrupted)
  }

  public func journal(runID: Int64) throws -> [JournalEntry] {
    let rows = try call { c in
      try c.exec("SELECT \(Self.journalColumns) FROM hk.journal WHERE run_id = $1 ORDER BY id", [String(runID)])
    }
    return try rows.map(entry)
  }

  // MARK: - Drift reports

  public func saveDriftReport(environment: String, status: String, reportJSON: String) throws {
    try write { c in
      _ = try c.exec(
        "INSERT INTO hk.drift_report (environment, created_at, status, report_json) VALUES ($1, to_timestamp($2), $3, $4)",
        [environment, Self.time(Date()), status, Self.clean(reportJSON)])
    }
  }

  static let driftColumns = "id, environment, \(epoch("created_at")), status, report_json"

  func drift(_ row: [String?]) throws -> DriftReportRecord {
    let id = try int(row, 0, "drift report id")
    return DriftReportRecord(
      id: id, environment: try text(row, 1, "drift report \(id)"), createdAt: try time(row, 2, "drift report \(id)"),
      status: row[3] ?? "", reportJSON: row[4] ?? "")
  }

  public func driftReports(_ environment: String, limit: Int) throws -> [DriftReportRecord] {
    try newest(Self.driftColumns, from: "drift_report", of: environment, limit: limit).map(drift)
  }

  /// The newest `limit` rows of `hk.TABLE` for `environment` (runs, drift reports), newest first.
  func newest(_ columns: String, from table: String, of environment: String, limit: Int) throws -> [[String?]] {
    try call { c in
      try c.exec(
        "SELECT \(columns) FROM hk.\(table) WHERE environment = $1 ORDER BY id DESC LIMIT $2", [environment, String(max(0, limit))])
    }
  }

  // MARK: - Text

  /// PostgreSQL text cannot hold NUL characters; output may.
  static func clean(_ text: String) -> String {
    text.contains("\0") ? text.replacingOccurrences(of: "\0", with: "\u{FFFD}") : text
  }

  /// The end of `text`, at most 64 KiB of UTF-8, starting at a whole character, NUL-free.
  static func tail(_ text: String) -> String {
    let limit = 64 * 1024
    let cleaned = clean(text)
    guard cleaned.utf8.count > limit else { return cleaned }
    var bytes = Array(cleaned.utf8.suffix(limit))
    while let first = bytes.first, first & 0xC0 == 0x80 { bytes.removeFirst() }
    return String(decoding: bytes, as: UTF8.self)
  }
}
