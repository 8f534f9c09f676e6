import Foundation
import GRDB
import Model

/// Leases (DESIGN.md §8) in SQLite: one `lock` row per environment, taken and renewed in
/// IMMEDIATE transactions; `leaseGeneration` keeps each environment's fencing generation across
/// releases.
extension SQLiteStateStore: LeaseRemoving {
  public func acquireLock(_ environment: String, actor: StoreActor, ttl: TimeInterval) throws -> LockInfo {
    try write { db in
      let now = Date()
      var generation: Int64 = 0
      if let held = try LockRow.fetchOne(db, key: environment) {
        let info = Self.info(held)
        guard info.isExpired(at: now) else { throw StoreError.locked(info) }
        generation = held.generation
        try held.delete(db)
        try Self.interruptRuns(
          db, environment: environment, of: held,
          message: "lease \(held.lockID) expired at \(info.expiresAt.formatted(.iso8601)); taken over by \(actor.holder)")
      }
      let stored = try Int64.fetchOne(
        db, sql: #"SELECT "generation" FROM "leaseGeneration" WHERE "environment" = ?"#, arguments: [environment])
      generation = max(generation, stored ?? 0) + 1
      try db.execute(
        sql: """
          INSERT INTO "leaseGeneration" ("environment", "generation") VALUES (?, ?)
          ON CONFLICT ("environment") DO UPDATE SET "generation" = excluded."generation"
          """,
        arguments: [environment, generation])
      let row = LockRow(
        environment: environment, lockID: UUID().uuidString.lowercased(), host: actor.host, pid: actor.pid,
        user: actor.user, command: actor.command, startedAt: now, expiresAt: now.addingTimeInterval(ttl),
        generation: generation, ciRunURL: actor.ciRunURL)
      try row.insert(db)
      // Read back: the stored time has millisecond precision, and callers compare locks.
      return Self.info(try LockRow.fetchOne(db, key: environment) ?? row)
    }
  }

  public func renewLock(_ lock: LockInfo, ttl: TimeInterval) throws -> LockInfo {
    try write { db in
      guard var held = try LockRow.fetchOne(db, key: lock.environment), held.lockID == lock.lockID,
        held.generation == lock.generation
      else {
        throw StoreError.leaseLost(
          environment: lock.environment, lockID: lock.lockID, detail: try Self.lossDetail(db, lock.environment))
      }
      held.expiresAt = Date().addingTimeInterval(ttl)
      try held.update(db)
      return Self.info(try LockRow.fetchOne(db, key: lock.environment) ?? held)
    }
  }

  public func removeLease(_ environment: String, lockID: String, interrupting message: String?) throws {
    try write { db in
      guard let held = try LockRow.fetchOne(db, key: environment) else {
        throw StoreError.noSuchLock(environment: environment, lockID: lockID)
      }
      guard held.lockID == lockID else {
        throw StoreError.lockMismatch(environment: environment, lockID: lockID, holder: Self.info(held))
      }
      try held.delete(db)
      if let message { try Self.interruptRuns(db, environment: environment, of: held, message: message) }
    }
  }

  public func lock(_ environment: String) throws -> LockInfo? {
    try read { db in try LockRow.fetchOne(db, key: environment).map(Self.info) }
  }

  public func locks() throws -> [LockInfo] {
    try read { db in
      try LockRow.fetchAll(db, sql: #"SELECT * FROM "lock" ORDER BY "environment""#).map(Self.info)
    }
  }

  /// Marks the runs `held`'s holder left running (and their started steps) interrupted.
  static func interruptRuns(_ db: Database, environment: String, of held: LockRow, message: String) throws {
    let holder = StoreActor(user: held.user, host: held.host, pid: held.pid, command: held.command).holder
    let now = Date()
    try db.execute(
      sql: """
        UPDATE "journal" SET "status" = 'interrupted', "finishedAt" = ?
        WHERE "status" = 'started' AND "runID" IN
          (SELECT "id" FROM "run" WHERE "environment" = ? AND "result" = 'running' AND "holder" = ?)
        """,
      arguments: [now, environment, holder])
    try db.execute(
      sql: """
        UPDATE "run" SET "result" = 'interrupted', "finishedAt" = ?, "message" = ?
        WHERE "environment" = ? AND "result" = 'running' AND "holder" = ?
        """,
      arguments: [now, message, environment, holder])
  }

  /// Refuses a write of a holder whose lease no longer holds its environment.
  static func checkFence(_ db: Database, _ fence: LockInfo?) throws {
    guard let fence else { return }
    let held = try LockRow.fetchOne(db, key: fence.environment)
    guard let held, held.lockID == fence.lockID, held.generation == fence.generation else {
      throw StoreError.leaseLost(
        environment: fence.environment, lockID: fence.lockID, detail: try lossDetail(db, fence.environment))
    }
  }

  private static func lossDetail(_ db: Database, _ environment: String) throws -> String {
    guard let now = try LockRow.fetchOne(db, key: environment) else {
      return "the lease was released or broken with 'hk lock unlock --force'"
    }
    return "the lease expired and is now held by \(info(now).holderDescription)"
  }

  static func info(_ row: LockRow) -> LockInfo {
    LockInfo(
      environment: row.environment, lockID: row.lockID, host: row.host, pid: row.pid, user: row.user,
      command: row.command, startedAt: row.startedAt, expiresAt: row.expiresAt, generation: row.generation,
      ciRunURL: row.ciRunURL)
  }
}
