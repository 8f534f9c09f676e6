import Foundation
import Model
import StoreCore

/// Leases (DESIGN.md §8) in PostgreSQL: one `hk.lock` row per environment; every decision under a
/// transaction-scoped advisory lock of the environment, times from the server's clock.
extension PostgresStateStore: LeaseRemoving {
  static let lockColumns = """
    environment, lock_id, host, pid, holder_user, command, \(epoch("started_at")), \(epoch("expires_at")), generation,
    ci_run_url, expires_at <= clock_timestamp()
    """

  func lockInfo(_ row: [String?]) throws -> LockInfo {
    let env = try text(row, 0, "lock environment")
    return LockInfo(
      environment: env, lockID: try text(row, 1, "lock of \(env)"), host: row[2] ?? "", pid: Int32(row[3] ?? "") ?? 0,
      user: row[4] ?? "", command: row[5] ?? "", startedAt: try time(row, 6, "lock of \(env)"),
      expiresAt: try time(row, 7, "lock of \(env)"), generation: try int(row, 8, "lock of \(env)"), ciRunURL: row[9])
  }

  private func leaseLock(_ c: PGConnection, _ environment: String) throws {
    try c.exec("SELECT pg_advisory_xact_lock(hashtext('hk.lease:' || $1))", [environment])
  }

  public func acquireLock(_ environment: String, actor: StoreActor, ttl: TimeInterval) throws -> LockInfo {
    try write { c in
      try leaseLock(c, environment)
      var generation: Int64 = 0
      if let row = try c.exec("SELECT \(Self.lockColumns) FROM hk.lock WHERE environment = $1 FOR UPDATE", [environment]).first {
        let held = try lockInfo(row)
        guard row[10] == "t" else { throw StoreError.locked(held) }
        generation = held.generation
        try c.exec("DELETE FROM hk.lock WHERE environment = $1", [environment])
        try interruptRuns(
          c, environment: environment, of: held,
          message: "lease \(held.lockID) expired at \(held.expiresAt.formatted(.iso8601)); taken over by \(actor.holder)")
      }
      let stored = try c.exec("SELECT generation FROM hk.lease_generation WHERE environment = $1", [environment]).first
      generation = max(generation, try stored.map { try int($0, 0, "lease generation") } ?? 0) + 1
      try c.exec(
        """
        INSERT INTO hk.lease_generation (environment, generation) VALUES ($1, $2)
        ON CONFLICT (environment) DO UPDATE SET generation = excluded.generation
        """, [environment, String(generation)])
      let rows = try c.exec(
        """
        INSERT INTO hk.lock (environment, lock_id, host, pid, holder_user, command, started_at, expires_at, generation, ci_run_url)
        VALUES ($1, $2, $3, $4, $5, $6, date_trunc('milliseconds', clock_timestamp()),
          date_trunc('milliseconds', clock_timestamp()) + make_interval(secs => $7::float8), $8, $9)
        RETURNING \(Self.lockColumns)
        """,
        [
          environment, UUID().uuidString.lowercased(), actor.host, String(actor.pid), actor.user, actor.command, String(ttl),
          String(generation), actor.ciRunURL,
        ])
      return try lockInfo(rows.first ?? [])
    }
  }

  public func renewLock(_ lock: LockInfo, ttl: TimeInterval) throws -> LockInfo {
    try write { c in
      let rows = try c.exec(
        """
        UPDATE hk.lock SET expires_at = date_trunc('milliseconds', clock_timestamp()) + make_interval(secs => $4::float8)
        WHERE environment = $1 AND lock_id = $2 AND generation = $3 RETURNING \(Self.lockColumns)
        """, [lock.environment, lock.lockID, String(lock.generation), String(ttl)])
      guard let row = rows.first else {
        throw StoreError.leaseLost(environment: lock.environment, lockID: lock.lockID, detail: try lossDetail(c, lock.environment))
      }
      return try lockInfo(row)
    }
  }

  public func removeLease(_ environment: String, lockID: String, interrupting message: String?) throws {
    try write { c in
      try leaseLock(c, environment)
      guard let row = try c.exec("SELECT \(Self.lockColumns) FROM hk.lock WHERE environment = $1", [environment]).first else {
        throw StoreError.noSuchLock(environment: environment, lockID: lockID)
      }
      let held = try lockInfo(row)
      guard held.lockID == lockID else {
        throw StoreError.lockMismatch(environment: environment, lockID: lockID, holder: held)
      }
      try c.exec("DELETE FROM hk.lock WHERE environment = $1", [environment])
      if let message { try interruptRuns(c, environment: environment, of: held, message: message) }
    }
  }

  public func lock(_ environment: String) throws -> LockInfo? {
    let rows = try call { c in try c.exec("SELECT \(Self.lockColumns) FROM hk.lock WHERE environment = $1", [environment]) }
    return try rows.first.map(lockInfo)
  }

  public func locks() throws -> [LockInfo] {
    let rows = try call { c in try c.exec("SELECT \(Self.lockColumns) FROM hk.lock ORDER BY environment") }
    return try rows.map(lockInfo)
  }

  private func interruptRuns(_ c: PGConnection, environment: String, of held: LockInfo, message: String) throws {
    let holder = StoreActor(user: held.user, host: held.host, pid: held.pid, command: held.command).holder
    let now = Self.time(Date())
    try c.exec(
      """
      UPDATE hk.journal SET status = 'interrupted', finished_at = to_timestamp($1)
      WHERE status = 'started' AND run_id IN (SELECT id FROM hk.run WHERE environment = $2 AND result = 'running' AND holder = $3)
      """, [now, environment, holder])
    try c.exec(
      """
      UPDATE hk.run SET result = 'interrupted', finished_at = to_timestamp($1), message = $4
      WHERE environment = $2 AND result = 'running' AND holder = $3
      """, [now, environment, holder, message])
  }

  /// Refuses a write of a holder whose lease no longer holds its environment; the row stays
  /// share-locked until the write commits, so a takeover waits for it.
  func checkFence(_ c: PGConnection, _ fence: LockInfo?) throws {
    guard let fence else { return }
    let rows = try c.exec(
      "SELECT 1 FROM hk.lock WHERE environment = $1 AND lock_id = $2 AND generation = $3 FOR SHARE",
      [fence.environment, fence.lockID, String(fence.generation)])
    if rows.isEmpty {
      throw StoreError.leaseLost(environment: fence.environment, lockID: fence.lockID, detail: try lossDetail(c, fence.environment))
    }
  }

  private func lossDetail(_ c: PGConnection, _ environment: String) throws -> String {
    guard let row = try c.exec("SELECT \(Self.lockColumns) FROM hk.lock WHERE environment = $1", [environment]).first else {
      return "the lease was released or broken with 'hk lock unlock --force'"
    }
    return "the lease expired and is now held by \(try lockInfo(row).holderDescription)"
  }
}
