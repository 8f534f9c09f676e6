import Foundation
import Model
import Synchronization

/// The recorded state as one S3 object (DESIGN.md §8, `s3://BUCKET/KEY`): the same SQLite
/// database as the local default, downloaded to a private copy (a 0600 file in a 0700 `mkdtemp`
/// folder), read there, and uploaded after every write with `--if-match` the ETag this store
/// last read or wrote. A write that finds the object changed by anyone else fails loudly and
/// overwrites nothing. Leases live in the object `KEY.lock` (``S3StateStore+Leases``).
///
/// Every write method of ``StateStoring`` is one recorded step and one upload; a fenced write
/// checks the lease object first. All S3 calls go through the `aws` CLI (``AWSInvoking``).
public final class S3StateStore: StateStoring, @unchecked Sendable {
  let location: S3Location
  let client: S3Client
  let folder: PrivateFolder
  /// Guards ``copy``, ``etag`` and ``file``: one write (and its upload) at a time per instance.
  private let mutex = NSLock()
  private var copy: SQLiteStateStore
  /// The ETag of the object ``copy`` matches; nil when there is no object yet.
  private var etag: String?
  private var file: String
  private var fileNumber = 0
  /// Set when an upload found the object changed by someone else: from then on this store's
  /// fenced writes (the rest of that run) are refused with the same message, so the run stops
  /// instead of writing on top of a state it did not read. A new lease starts afresh.
  private var changedUnderUs: String?
  /// The leases this store took or renewed: environment → (lock ID, generation, expiry written).
  private let confirmed = Mutex<[String: (lockID: String, generation: Int64, expiresAt: Date)]>([:])
  /// True when the object did not exist when opened (the first write creates it).
  public let created: Bool

  public var displayLocation: String { location.display }

  /// Opens `location`: downloads the object (migrating the copy if older, refusing a newer
  /// schema or a file that is not an SQLite database), or, with `creating`, starts an empty copy
  /// when there is no object yet. Nothing is written to S3 until the first write.
  ///
  /// - Returns: nil when the object does not exist and `creating` is false.
  public static func open(_ location: S3Location, aws: any AWSInvoking, creating: Bool) throws -> S3StateStore? {
    let folder = try PrivateFolder()
    do {
      let client = S3Client(location: location, aws: aws)
      let file = folder.path + "/state-0.sqlite"
      switch try client.get(location.key, to: file) {
      case .ok(let etag):
        let copy = try openCopy(file, location: location)
        return S3StateStore(location: location, client: client, folder: folder, copy: copy, etag: etag, file: file, created: false)
      case .missing, .notModified, .preconditionFailed:
        guard creating else {
          folder.remove()
          return nil
        }
        let copy = try SQLiteStateStore(opening: file, named: location.display, snapshotFolder: nil)
        chmod(file, 0o600)
        return S3StateStore(location: location, client: client, folder: folder, copy: copy, etag: nil, file: file, created: true)
      }
    } catch {
      folder.remove()
      throw error
    }
  }

  private init(
    location: S3Location, client: S3Client, folder: PrivateFolder, copy: SQLiteStateStore, etag: String?, file: String, created: Bool
  ) {
    self.location = location
    self.client = client
    self.folder = folder
    self.copy = copy
    self.etag = etag
    self.file = file
    self.created = created
  }

  deinit { folder.remove() }

  /// Opens a downloaded copy: an SQLite header is required (an empty or foreign object is
  /// refused, not turned into a new database); an older schema is migrated in the copy.
  static func openCopy(_ file: String, location: S3Location) throws -> SQLiteStateStore {
    chmod(file, 0o600)
    let header = FileHandle(forReadingAtPath: file).flatMap { handle -> Data? in
      defer { try? handle.close() }
      return try? handle.read(upToCount: 16)
    }
    guard header == Data("SQLite format 3\0".utf8) else {
      throw StoreError.s3(
        location: location.display,
        message: "the object is not an SQLite database (it does not start with 'SQLite format 3'); point --state-db "
          + "(or HK_STATE_DB) at hk's state object, or move this object aside so hk can create a new one. "
          + "The object was not modified")
    }
    return try SQLiteStateStore(opening: file, named: location.display, snapshotFolder: nil)
  }

  // MARK: - Reads (the private copy)

  func reading<T>(_ body: (SQLiteStateStore) throws -> T) throws -> T {
    mutex.lock()
    defer { mutex.unlock() }
    return try body(copy)
  }

  public func recorded(_ environment: String) throws -> RecordedState? { try reading { try $0.recorded(environment) } }
  public func recorded(_ environments: [String]) throws -> [String: RecordedState] { try reading { try $0.recorded(environments) } }
  public func revision(_ environment: String, serial: Int64) throws -> RecordedState? {
    try reading { try $0.revision(environment, serial: serial) }
  }
  public func history(_ environment: String) throws -> [RevisionSummary] { try reading { try $0.history(environment) } }
  public func environments() throws -> [EnvironmentSummary] { try reading { try $0.environments() } }
  public func savedPlan(id: String) throws -> SavedPlan? { try reading { try $0.savedPlan(id: id) } }
  public func runs(_ environment: String, limit: Int) throws -> [RunSummary] { try reading { try $0.runs(environment, limit: limit) } }
  public func journal(runID: Int64) throws -> [JournalEntry] { try reading { try $0.journal(runID: runID) } }
  public func driftReports(_ environment: String, limit: Int) throws -> [DriftReportRecord] {
    try reading { try $0.driftReports(environment, limit: limit) }
  }
  public func exportAll() throws -> StoreDump { try reading { try $0.exportAll() } }
  public func isEmpty() throws -> Bool { try reading { try $0.isEmpty() } }

  // MARK: - Writes (one upload each)

  @discardableResult
  public func record(
    _ state: RecordedStateDraft, expectedPrior: PriorState?, actor: StoreActor, note: String, planID: String?, newLineage: Bool,
    fence: LockInfo?
  ) throws -> RecordedState {
    try writing(fence: fence) {
      try $0.record(state, expectedPrior: expectedPrior, actor: actor, note: note, planID: planID, newLineage: newLineage, fence: nil)
    }
  }

  @discardableResult
  public func amend(
    _ state: RecordedStateDraft, at expected: PriorState, actor: StoreActor, note: String, fence: LockInfo?
  ) throws -> RecordedState {
    try writing(fence: fence) { try $0.amend(state, at: expected, actor: actor, note: note, fence: nil) }
  }

  public func savePlan(id: String, planJSON: String, bindings: [PlanBinding]) throws {
    try writing(fence: nil) { try $0.savePlan(id: id, planJSON: planJSON, bindings: bindings) }
  }

  public func beginRun(environment: String, command: String, planID: String?, actor: StoreActor, fence: LockInfo?) throws -> Int64 {
    try writing(fence: fence) { try $0.beginRun(environment: environment, command: command, planID: planID, actor: actor, fence: nil) }
  }

  public func journalStepStarted(runID: Int64, stepID: Int, kind: String, argv: [String], fence: LockInfo?) throws -> Int64 {
    try writing(fence: fence) { try $0.journalStepStarted(runID: runID, stepID: stepID, kind: kind, argv: argv, fence: nil) }
  }

  public func journalStepFinished(
    entryID: Int64, status: JournalStatus, exitCode: Int32?, outputTail: String, duration: Double, fence: LockInfo?
  ) throws {
    try writing(fence: fence) {
      try $0.journalStepFinished(
        entryID: entryID, status: status, exitCode: exitCode, outputTail: outputTail, duration: duration, fence: nil)
    }
  }

  public func finishRun(runID: Int64, result: RunResult, message: String, fence: LockInfo?) throws {
    try writing(fence: fence) { try $0.finishRun(runID: runID, result: result, message: message, fence: nil) }
  }

  public func saveDriftReport(environment: String, status: String, reportJSON: String) throws {
    try writing(fence: nil) { try $0.saveDriftReport(environment: environment, status: status, reportJSON: reportJSON) }
  }

  public func importAll(_ dump: StoreDump, replacing: Bool) throws {
    try writing(fence: nil) { try $0.importAll(dump, replacing: replacing) }
  }

  /// Runs `body` on the copy (one SQLite transaction), then uploads the copy with `--if-match`
  /// (create-only when there is no object yet). A fenced write first checks that the lease
  /// object still holds `fence`. When the upload is refused or fails, the copy is read again
  /// from S3 (the local change is dropped) and the write throws: nothing is overwritten.
  func writing<T>(fence: LockInfo?, _ body: (SQLiteStateStore) throws -> T) throws -> T {
    try S3Probe.ensureConditionalWrites(client)
    if let fence { try checkFence(fence) }
    mutex.lock()
    defer { mutex.unlock() }
    if fence != nil, let changedUnderUs { throw StoreError.s3(location: location.display, message: changedUnderUs) }
    let value = try body(copy)
    let before = etag
    let outcome: S3Client.Outcome
    do {
      try copy.checkpoint()
      outcome = try client.put(location.key, from: file, ifMatch: etag)
    } catch {
      // The copy holds a write S3 does not: drop it (read the object again) before anything reads it.
      try? reloadLocked(ifChangedFrom: nil)
      throw error
    }
    switch outcome {
    case .ok(let tag?):
      etag = tag
      return value
    case .ok(nil):
      try? reloadLocked(ifChangedFrom: nil)
      throw StoreError.s3(
        location: location.display,
        message: "S3 accepted the upload but returned no ETag, so hk cannot compare-and-swap its next write; "
          + "check that the location is an S3 bucket (or a clone that returns ETags)")
    case .preconditionFailed, .missing, .notModified:
      try? reloadLocked(ifChangedFrom: nil)
      let message = Self.changedMessage(before: before, now: etag)
      changedUnderUs = message
      throw StoreError.s3(location: location.display, message: message)
    }
  }

  static func changedMessage(before: String?, now: String?) -> String {
    let was = before.map { "ETag \($0)" } ?? "no object"
    let found = now.map { "ETag \($0)" } ?? "no object"
    return "the state object changed since this hk read it (expected \(was), found \(found)): another hk, or someone "
      + "with the aws CLI, wrote or deleted it. This write was refused and nothing was overwritten (what was recorded "
      + "before this step is in the object). Run 'hk plan' to see the recorded state now, then apply again; with bucket "
      + "versioning on, 'aws s3api list-object-versions' lists every earlier version (docs/STATE.md)"
  }

  /// Reads the object again when it no longer has ETag `known` (always when `known` is nil),
  /// replacing the copy. Call with ``mutex`` held.
  func reloadLocked(ifChangedFrom known: String?) throws {
    fileNumber += 1
    let next = folder.path + "/state-\(fileNumber).sqlite"
    switch try client.get(location.key, to: next, ifNoneMatch: known) {
    case .notModified:
      try? FileManager.default.removeItem(atPath: next)
      return
    case .ok(let tag):
      let fresh = try Self.openCopy(next, location: location)
      replaceCopy(fresh, file: next, etag: tag)
    case .missing, .preconditionFailed:
      let fresh = try SQLiteStateStore(opening: next, named: location.display, snapshotFolder: nil)
      chmod(next, 0o600)
      replaceCopy(fresh, file: next, etag: nil)
    }
  }

  private func replaceCopy(_ fresh: SQLiteStateStore, file next: String, etag tag: String?) {
    let old = file
    copy = fresh
    file = next
    etag = tag
    for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: old + suffix) }
  }

  /// Remembers that the lease object holds `lease` until its expiry (this store wrote it so).
  func confirm(_ lease: LockInfo) {
    confirmed.withLock { $0[lease.environment] = (lease.lockID, lease.generation, lease.expiresAt) }
  }

  /// Forgets the lease of `environment` (released or broken by this store).
  func forget(_ environment: String) { _ = confirmed.withLock { $0.removeValue(forKey: environment) } }

  /// The expiry this store last wrote for `lease`, when it holds that very lease.
  func confirmedExpiry(_ lease: LockInfo) -> Date? {
    confirmed.withLock { map in
      guard let held = map[lease.environment], held.lockID == lease.lockID, held.generation == lease.generation else { return nil }
      return held.expiresAt
    }
  }

  /// Reads the object again if someone wrote it since this store last did (taking a lease
  /// starts from the object as it is).
  func refresh(newLease: Bool = false) throws {
    mutex.lock()
    defer { mutex.unlock() }
    if newLease { changedUnderUs = nil }
    try reloadLocked(ifChangedFrom: etag)
  }

  /// Runs `body` in one transaction of a fresh copy and uploads it, read again and retried
  /// when another writer got there first: for the idempotent updates of taking over or
  /// breaking a lease (marking its runs interrupted).
  func updateRetrying(_ body: @escaping (SQLiteStateStore) throws -> Void) throws {
    for attempt in 0..<5 {
      try refresh()
      do {
        try writing(fence: nil, body)
        return
      } catch StoreError.s3(_, let message) where attempt < 4 && message.hasPrefix("the state object changed") {
        continue
      }
    }
  }
}
