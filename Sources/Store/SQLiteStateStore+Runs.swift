import Foundation
import GRDB
import Model

/// Runs and their journal: every command of an apply, written before and after it runs.
extension SQLiteStateStore {
  public func beginRun(environment: String, command: String, planID: String?, actor: StoreActor, fence: LockInfo?) throws -> Int64 {
    try write { db in
      try Self.checkFence(db, fence)
      var row = RunRow(
        id: nil, environment: environment, command: command, planID: planID, startedAt: Date(), finishedAt: nil,
        result: RunResult.running.rawValue, message: "", holder: actor.holder)
      try row.insert(db)
      guard let id = row.id else { throw StoreError.databaseFailure(path: location, message: "no run ID assigned") }
      return id
    }
  }

  public func journalStepStarted(runID: Int64, stepID: Int, kind: String, argv: [String], fence: LockInfo?) throws -> Int64 {
    let argvJSON = try Self.json(argv)
    return try write { db in
      try Self.checkFence(db, fence)
      guard try RunRow.exists(db, key: runID) else { throw StoreError.noSuchRun(id: runID) }
      var row = JournalRow(
        id: nil, runID: runID, stepID: stepID, kind: kind, argvJSON: argvJSON, startedAt: Date(), finishedAt: nil,
        exitCode: nil, outputTail: "", durationSeconds: nil, status: JournalStatus.started.rawValue)
      try row.insert(db)
      guard let id = row.id else {
        throw StoreError.databaseFailure(path: location, message: "no journal entry ID assigned")
      }
      return id
    }
  }

  public func journalStepFinished(
    entryID: Int64, status: JournalStatus, exitCode: Int32?, outputTail: String, duration: Double, fence: LockInfo?
  ) throws {
    let tail = Self.tail(outputTail)
    try write { db in
      try Self.checkFence(db, fence)
      guard var row = try JournalRow.fetchOne(db, key: entryID) else {
        throw StoreError.noSuchJournalEntry(id: entryID)
      }
      row.status = status.rawValue
      row.exitCode = exitCode
      row.outputTail = tail
      row.durationSeconds = duration.isFinite ? duration : nil
      row.finishedAt = Date()
      try row.update(db)
    }
  }

  public func finishRun(runID: Int64, result: RunResult, message: String, fence: LockInfo?) throws {
    try write { db in
      try Self.checkFence(db, fence)
      guard var row = try RunRow.fetchOne(db, key: runID) else { throw StoreError.noSuchRun(id: runID) }
      row.result = result.rawValue
      row.message = message
      row.finishedAt = result == .running ? nil : Date()
      try row.update(db)
    }
  }

  public func runs(_ environment: String, limit: Int) throws -> [RunSummary] {
    try newest(RunRow.self, of: environment, limit: limit).map(Self.runSummary)
  }

  public func journal(runID: Int64) throws -> [JournalEntry] {
    let rows = try read { db in
      try JournalRow.fetchAll(db, sql: #"SELECT * FROM "journal" WHERE "runID" = ? ORDER BY "id""#, arguments: [runID])
    }
    return try rows.map(journalEntry)
  }

  static func runSummary(_ row: RunRow) -> RunSummary {
    RunSummary(
      id: row.id ?? 0, environment: row.environment, command: row.command, planID: row.planID,
      startedAt: row.startedAt, finishedAt: row.finishedAt,
      result: RunResult(rawValue: row.result) ?? .interrupted, message: row.message, holder: row.holder)
  }

  func journalEntry(_ row: JournalRow) throws -> JournalEntry {
    JournalEntry(
      id: row.id ?? 0, runID: row.runID, stepID: row.stepID, kind: row.kind,
      argv: try decode([String].self, row.argvJSON, what: "journal entry \(row.id ?? 0) argv"),
      startedAt: row.startedAt, finishedAt: row.finishedAt, exitCode: row.exitCode, outputTail: row.outputTail,
      durationSeconds: row.durationSeconds, status: JournalStatus(rawValue: row.status) ?? .interrupted)
  }
}
