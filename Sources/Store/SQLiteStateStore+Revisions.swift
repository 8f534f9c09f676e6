import Foundation
import GRDB
import Model

/// Revisions: the recorded state of each environment, its history and the writes of a run.
extension SQLiteStateStore {
  public func recorded(_ environment: String) throws -> RecordedState? {
    try read { db in
      guard let current = try EnvironmentRow.fetchOne(db, key: environment) else { return nil }
      return try RevisionRow.fetchOne(db, key: ["environment": environment, "serial": current.currentSerial])
        .map(\.state)
    }
  }

  public func recorded(_ environments: [String]) throws -> [String: RecordedState] {
    if environments.isEmpty { return [:] }
    let wanted = Set(environments)
    let join = #"SELECT r.* FROM "revision" r JOIN "environment" e ON r."environment" = e."name" AND r."serial" = e."currentSerial""#
    return try read { db in
      // A few names: look them up; many: one scan of the current revisions, filtered here.
      // Read by column index (``RevisionRow/fetchAllByColumn(_:sql:arguments:)``): a plan reads
      // every environment's revision here.
      let rows =
        wanted.count <= 200
        ? try RevisionRow.fetchAllByColumn(
          db, sql: join + #" WHERE e."name" IN ("# + Array(repeating: "?", count: wanted.count).joined(separator: ",") + ")",
          arguments: StatementArguments(Array(wanted)))
        : try RevisionRow.fetchAllByColumn(db, sql: join)
      var out: [String: RecordedState] = [:]
      for row in rows where wanted.contains(row.environment) { out[row.environment] = row.state }
      return out
    }
  }

  public func revision(_ environment: String, serial: Int64) throws -> RecordedState? {
    try read { db in
      try RevisionRow.fetchOne(db, key: ["environment": environment, "serial": serial]).map(\.state)
    }
  }

  public func history(_ environment: String) throws -> [RevisionSummary] {
    try read { db in
      try RevisionRow.fetchAll(
        db, sql: #"SELECT * FROM "revision" WHERE "environment" = ? ORDER BY "serial" DESC"#,
        arguments: [environment]
      ).map(\.summary)
    }
  }

  public func environments() throws -> [EnvironmentSummary] {
    try read { db in
      let rows = try Row.fetchAll(
        db,
        sql: """
          SELECT e."name", e."currentSerial", e."lineage", r."createdAt", r."createdBy",
            (SELECT "result" FROM "run" WHERE "run"."environment" = e."name" ORDER BY "id" DESC LIMIT 1)
              AS "lastRunResult"
          FROM "environment" e
          JOIN "revision" r ON r."environment" = e."name" AND r."serial" = e."currentSerial"
          ORDER BY e."name"
          """)
      // Throwing decodes: a crafted value of the wrong type is an error, never a crash.
      return try rows.map { row in
        let result = try row.decode(String?.self, forColumn: "lastRunResult")
        return EnvironmentSummary(
          name: try row.decode(String.self, forColumn: "name"), serial: try row.decode(Int64.self, forColumn: "currentSerial"),
          lineage: try row.decode(String.self, forColumn: "lineage"), lastAppliedAt: try row.decode(Date.self, forColumn: "createdAt"),
          lastAppliedBy: try row.decode(String.self, forColumn: "createdBy"),
          lastRunResult: result.map { RunResult(rawValue: $0) ?? .interrupted })
      }
    }
  }

  @discardableResult
  public func record(
    _ state: RecordedStateDraft, expectedPrior: PriorState?, actor: StoreActor, note: String,
    planID: String?, newLineage: Bool, fence: LockInfo?
  ) throws -> RecordedState {
    try write { db in
      let current = try Self.current(db, state.environment, expected: expectedPrior, fence: fence)
      let now = Date()
      let next = PriorState.next(after: expectedPrior, newLineage: newLineage)
      let environment = EnvironmentRow(
        name: state.environment, lineage: next.lineage, currentSerial: next.serial, createdAt: current?.createdAt ?? now)
      try environment.save(db)
      let revision = RevisionRow(
        draft: state, serial: next.serial, lineage: next.lineage, createdAt: now, createdBy: actor.userAtHost,
        command: actor.command, planID: planID, note: note)
      try revision.insert(db)
      return revision.state
    }
  }

  @discardableResult
  public func amend(
    _ state: RecordedStateDraft, at expected: PriorState, actor: StoreActor, note: String, fence: LockInfo?
  ) throws -> RecordedState {
    try write { db in
      _ = try Self.current(db, state.environment, expected: expected, fence: fence)
      guard
        var revision = try RevisionRow.fetchOne(
          db, key: ["environment": state.environment, "serial": expected.serial])
      else { throw StoreError.conflict(expected: expected, actual: nil) }
      revision.draft = state
      revision.createdAt = Date()
      revision.createdBy = actor.userAtHost
      revision.note = note
      try revision.update(db)
      return revision.state
    }
  }

  /// In a write: checks the fence, then that the environment's serial and lineage are `expected`
  /// (compare-and-swap), and returns its row.
  private static func current(
    _ db: Database, _ environment: String, expected: PriorState?, fence: LockInfo?
  ) throws -> EnvironmentRow? {
    try checkFence(db, fence)
    let current = try EnvironmentRow.fetchOne(db, key: environment)
    try StoreError.checkPrior(current.map { PriorState(serial: $0.currentSerial, lineage: $0.lineage) }, expected: expected)
    return current
  }
}
