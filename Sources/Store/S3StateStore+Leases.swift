import Foundation
import GRDB
import Model
import Synchronization

/// The lease object `KEY.lock`: every lease held on the state object (one per environment,
/// holder metadata as in the other backends, generation, expiry) and each environment's
/// fencing generation, changed only by conditional writes (`--if-none-match=*` to create,
/// `--if-match` to change), so of two writers exactly one succeeds.
struct LeaseDocument: Codable, Sendable, Equatable {
  struct Lease: Codable, Sendable, Equatable {
    var environment: String
    var lockID: String
    var user: String
    var host: String
    var pid: Int32
    var command: String
    var ciRunURL: String?
    /// Seconds since 1970, to the millisecond.
    var startedAt: Double
    var expiresAt: Double
    var generation: Int64

    init(_ info: LockInfo) {
      environment = info.environment
      lockID = info.lockID
      user = info.user
      host = info.host
      pid = info.pid
      command = info.command
      ciRunURL = info.ciRunURL
      startedAt = Self.milliseconds(info.startedAt)
      expiresAt = Self.milliseconds(info.expiresAt)
      generation = info.generation
    }

    static func milliseconds(_ date: Date) -> Double { (date.timeIntervalSince1970 * 1000).rounded() / 1000 }

    var info: LockInfo {
      LockInfo(
        environment: environment, lockID: lockID, host: host, pid: pid, user: user, command: command,
        startedAt: Date(timeIntervalSince1970: startedAt), expiresAt: Date(timeIntervalSince1970: expiresAt),
        generation: generation, ciRunURL: ciRunURL)
    }

    var row: LockRow {
      LockRow(
        environment: environment, lockID: lockID, host: host, pid: pid, user: user, command: command,
        startedAt: Date(timeIntervalSince1970: startedAt), expiresAt: Date(timeIntervalSince1970: expiresAt),
        generation: generation, ciRunURL: ciRunURL)
    }
  }

  var format = "hk-lease-1"
  var leases: [String: Lease] = [:]
  /// The last generation given out per environment; it only grows (kept across releases).
  var generations: [String: Int64] = [:]
}

extension S3StateStore: LeaseRemoving {
  /// Reads the lease object: its document and ETag (nil document and ETag: no object).
  func readLeases() throws -> (LeaseDocument, String?) {
    let file = folder.path + "/lock-\(UUID().uuidString).json"
    defer { try? FileManager.default.removeItem(atPath: file) }
    switch try client.get(location.lockKey, to: file) {
    case .ok(let tag):
      guard let data = FileManager.default.contents(atPath: file), let document = try? JSONDecoder().decode(LeaseDocument.self, from: data)
      else {
        throw StoreError.s3(
          location: location.display,
          message: "the lease object s3://\(location.bucket)/\(location.lockKey) is not hk's (not its JSON); "
            + "move it aside if no hk is running, then retry")
      }
      return (document, tag)
    case .missing, .notModified, .preconditionFailed:
      return (LeaseDocument(), nil)
    }
  }

  /// Applies `change` to the lease object as read and writes it back conditionally, reading it
  /// again and re-applying `change` when another writer got there first. `change` returns its
  /// value and whether it changed the document (nothing is written when not).
  func updateLeases<T>(_ change: (inout LeaseDocument) throws -> (T, Bool)) throws -> T {
    try S3Probe.ensureConditionalWrites(client)
    for attempt in 0..<40 {
      var (document, tag) = try readLeases()
      let (value, changed) = try change(&document)
      guard changed else { return value }
      let file = folder.path + "/lock-\(UUID().uuidString).json"
      defer { try? FileManager.default.removeItem(atPath: file) }
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
      guard FileManager.default.createFile(atPath: file, contents: try encoder.encode(document), attributes: [.posixPermissions: 0o600])
      else {
        throw StoreError.s3(location: location.display, message: "cannot write a private temporary file; check TMPDIR")
      }
      if case .ok = try client.put(location.lockKey, from: file, ifMatch: tag) { return value }
      Thread.sleep(forTimeInterval: Double.random(in: 0.01...0.05) * Double(min(attempt + 1, 10)))
    }
    throw StoreError.s3(
      location: location.display,
      message: "the lease object kept changing under hk (40 conditional writes refused); retry when fewer hk commands run at once")
  }

  public func acquireLock(_ environment: String, actor: StoreActor, ttl: TimeInterval) throws -> LockInfo {
    let now = Date()
    var takenOver: LeaseDocument.Lease?
    let lease = try updateLeases { document -> (LeaseDocument.Lease, Bool) in
      takenOver = nil
      var generation = document.generations[environment] ?? 0
      if let held = document.leases[environment] {
        guard held.info.isExpired(at: now) else { throw StoreError.locked(held.info) }
        takenOver = held
        generation = max(generation, held.generation)
      }
      let info = LockInfo(
        environment: environment, lockID: UUID().uuidString.lowercased(), host: actor.host, pid: actor.pid, user: actor.user,
        command: actor.command, startedAt: now, expiresAt: now.addingTimeInterval(ttl), generation: generation + 1,
        ciRunURL: actor.ciRunURL)
      let lease = LeaseDocument.Lease(info)
      document.leases[environment] = lease
      document.generations[environment] = lease.generation
      return (lease, true)
    }
    if let takenOver {
      let message =
        "lease \(takenOver.lockID) expired at \(takenOver.info.expiresAt.formatted(.iso8601)); taken over by \(actor.holder)"
      try updateRetrying { copy in
        try copy.write { db in try SQLiteStateStore.interruptRuns(db, environment: environment, of: takenOver.row, message: message) }
      }
    }
    try refresh(newLease: true)
    confirm(lease.info)
    return lease.info
  }

  public func renewLock(_ lock: LockInfo, ttl: TimeInterval) throws -> LockInfo {
    try updateLeases { document -> (LockInfo, Bool) in
      guard var held = document.leases[lock.environment], held.lockID == lock.lockID, held.generation == lock.generation else {
        throw lost(lock, document)
      }
      held.expiresAt = LeaseDocument.Lease.milliseconds(Date().addingTimeInterval(ttl))
      document.leases[lock.environment] = held
      return (held.info, true)
    }
    .also(confirm)
  }

  public func removeLease(_ environment: String, lockID: String, interrupting message: String?) throws {
    let removed = try updateLeases { document -> (LeaseDocument.Lease, Bool) in
      guard let held = document.leases[environment] else { throw StoreError.noSuchLock(environment: environment, lockID: lockID) }
      guard held.lockID == lockID else {
        throw StoreError.lockMismatch(environment: environment, lockID: lockID, holder: held.info)
      }
      document.leases[environment] = nil
      return (held, true)
    }
    forget(environment)
    guard let message else { return }
    try updateRetrying { copy in
      try copy.write { db in try SQLiteStateStore.interruptRuns(db, environment: environment, of: removed.row, message: message) }
    }
  }

  public func lock(_ environment: String) throws -> LockInfo? { try readLeases().0.leases[environment]?.info }

  public func locks() throws -> [LockInfo] {
    try readLeases().0.leases.values.map(\.info).sorted { $0.environment < $1.environment }
  }

  /// Refuses a write of a holder whose lease no longer holds its environment.
  ///
  /// A lease this store took or renewed itself, and which by this host's clock still has more
  /// than a second to run, cannot have been taken over (only an expired lease is): the lease
  /// object is not read again then. A force-unlock from elsewhere is noticed by the next
  /// renewal (every TTL/3), and any write of whoever holds the environment next changes the
  /// state object, which makes this store's next upload fail its `--if-match`.
  func checkFence(_ fence: LockInfo) throws {
    if let confirmed = confirmedExpiry(fence), confirmed.timeIntervalSinceNow > 1 { return }
    let (document, _) = try readLeases()
    guard let held = document.leases[fence.environment], held.lockID == fence.lockID, held.generation == fence.generation else {
      throw lost(fence, document)
    }
  }

  private func lost(_ lock: LockInfo, _ document: LeaseDocument) -> StoreError {
    let detail =
      document.leases[lock.environment].map { "the lease expired and is now held by \($0.info.holderDescription)" }
      ?? "the lease was released or broken with 'hk lock unlock --force'"
    return .leaseLost(environment: lock.environment, lockID: lock.lockID, detail: detail)
  }
}

extension LockInfo {
  fileprivate func also(_ body: (LockInfo) -> Void) -> LockInfo {
    body(self)
    return self
  }
}

/// The once-per-bucket check that the bucket honours conditional writes: a create-only write
/// of a fresh probe object, twice; the second must be refused (412), or hk refuses the bucket.
enum S3Probe {
  private static let checked = Mutex<Set<String>>([])

  static func ensureConditionalWrites(_ client: S3Client) throws {
    let location = client.location
    let bucketID = "\(location.profile ?? "")|\(location.region ?? "")|\(location.bucket)"
    if checked.withLock({ $0.contains(bucketID) }) { return }
    let folder = try PrivateFolder()
    defer { folder.remove() }
    let body = folder.path + "/probe"
    _ = FileManager.default.createFile(
      atPath: body, contents: Data("hk conditional-write probe\n".utf8), attributes: [.posixPermissions: 0o600])
    let key = location.key + ".probe-" + UUID().uuidString.lowercased()
    let first = try client.put(key, from: body, ifMatch: nil)
    let second = try client.put(key, from: body, ifMatch: nil)
    _ = try? client.delete(key, ifMatch: nil)
    guard case .ok = first, case .preconditionFailed = second else {
      throw StoreError.s3(
        location: location.display,
        message: "the bucket \(location.bucket) does not honour conditional writes (a second create-only write of the probe "
          + "object \(key) was not refused with 412 PreconditionFailed), so hk could neither lock nor compare-and-swap there. "
          + "Use Amazon S3 itself or an S3-compatible service that supports If-None-Match and If-Match on PutObject, "
          + "or another state location (postgres://…). Nothing was written")
    }
    _ = checked.withLock { $0.insert(bucketID) }
  }
}
