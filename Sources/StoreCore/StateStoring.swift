import Foundation
import Model

/// The recorded state of hk behind one seam: SQLite (``StateStoring`` in the `Store` target) and
/// PostgreSQL implement it, and no command knows which backend it has (DESIGN.md §8).
///
/// Implementations keep, per environment, the full history of revisions (DESIGN.md §5: the
/// objects written to the kops state store, whether the cloud matches them, which instance
/// groups still need a roll), saved plans, runs with their step journal, one lease per
/// environment and drift reports.
///
/// Invariants every implementation keeps (the contract suite checks each against each backend):
/// - ``record(_:expectedPrior:actor:note:planID:newLineage:fence:)`` is a compare-and-swap: it
///   writes serial `prior + 1` only when the current (serial, lineage) equals `expectedPrior`.
/// - ``acquireLock(_:actor:ttl:)`` is atomic across processes and machines: of many concurrent
///   callers for one environment exactly one gets the lease, the others get
///   ``StoreError/locked(_:)``. A lease past its expiry is taken over without force.
/// - A write given a `fence` (the writer's lease) happens only while that lease still holds the
///   environment under the same generation; otherwise it throws ``StoreError/leaseLost(environment:lockID:detail:)``
///   and writes nothing.
/// - Errors are ``StoreError`` values whose message says what to do next, worded for no backend
///   in particular, and never contain a password of the location.
public protocol StateStoring: Sendable {
  /// The location, with any secret (a password in a URI) replaced by `***`: safe to print.
  var displayLocation: String { get }

  /// The latest recorded revision of `environment`, or nil when nothing is recorded.
  func recorded(_ environment: String) throws -> RecordedState?

  /// The latest recorded revision of each of `environments` that has one, read in one
  /// transaction and one round trip (`hk plan` over a thousand environments reads them all at once).
  func recorded(_ environments: [String]) throws -> [String: RecordedState]

  /// One revision of `environment` by serial, or nil when it does not exist.
  func revision(_ environment: String, serial: Int64) throws -> RecordedState?

  /// Every revision of `environment`, newest (highest serial) first.
  func history(_ environment: String) throws -> [RevisionSummary]

  /// Every environment with a recorded revision, sorted by name.
  func environments() throws -> [EnvironmentSummary]

  /// Writes a new revision with serial = prior + 1 in one transaction.
  ///
  /// - Parameters:
  ///   - state: The objects and layers to record for `state.environment`.
  ///   - expectedPrior: The (serial, lineage) the caller read; nil when it read no state.
  ///   - actor: Who writes (stored as `user@host` and command).
  ///   - note: Why this revision exists, e.g. `apply step 3 cluster-replace`.
  ///   - planID: The saved plan being applied, if any.
  ///   - newLineage: Start a fresh lineage (a forced `hk import`); a first write always does.
  ///   - fence: The writer's lease; the write is refused when it no longer holds.
  /// - Returns: The revision as written.
  /// - Throws: ``StoreError/conflict(expected:actual:)`` when the current (serial, lineage)
  ///   differs from `expectedPrior`; nothing is written then.
  @discardableResult
  func record(
    _ state: RecordedStateDraft, expectedPrior: PriorState?, actor: StoreActor, note: String,
    planID: String?, newLineage: Bool, fence: LockInfo?
  ) throws -> RecordedState

  /// Rewrites the latest revision in place (same serial and lineage), compare-and-swap on
  /// `expected`: an apply records its progress through the layers this way, so one apply run
  /// is one serial however many steps it takes.
  @discardableResult
  func amend(
    _ state: RecordedStateDraft, at expected: PriorState, actor: StoreActor, note: String, fence: LockInfo?
  ) throws -> RecordedState

  /// Stores a plan made with `hk plan --out`, bound to the revisions it was made against.
  ///
  /// - Throws: ``StoreError/planExists(id:)`` when `id` is already used.
  func savePlan(id: String, planJSON: String, bindings: [PlanBinding]) throws

  /// A saved plan by ID, or nil when unknown.
  func savedPlan(id: String) throws -> SavedPlan?

  /// Starts a run (an apply, import or drift) and returns its ID; its result is `running`.
  func beginRun(environment: String, command: String, planID: String?, actor: StoreActor, fence: LockInfo?) throws -> Int64

  /// Journals that a step is about to run (`argv` already redacted by the caller) and returns
  /// the entry's ID.
  func journalStepStarted(runID: Int64, stepID: Int, kind: String, argv: [String], fence: LockInfo?) throws -> Int64

  /// Journals how a step ended (`outputTail` already redacted; kept up to 64 KiB).
  func journalStepFinished(
    entryID: Int64, status: JournalStatus, exitCode: Int32?, outputTail: String, duration: Double, fence: LockInfo?
  ) throws

  /// Records how a run ended.
  func finishRun(runID: Int64, result: RunResult, message: String, fence: LockInfo?) throws

  /// The latest `limit` runs of `environment`, newest first.
  func runs(_ environment: String, limit: Int) throws -> [RunSummary]

  /// The journal of one run, in the order the steps started.
  func journal(runID: Int64) throws -> [JournalEntry]

  /// Takes the lease of `environment` for `actor` for `ttl` seconds, atomically.
  ///
  /// A lease past its expiry is free: it is taken over, the runs its holder left `running`
  /// are marked `interrupted`, and the generation increases (the old holder's writes are
  /// refused from then on).
  ///
  /// - Throws: ``StoreError/locked(_:)`` naming the holder when an unexpired lease is held.
  func acquireLock(_ environment: String, actor: StoreActor, ttl: TimeInterval) throws -> LockInfo

  /// Extends the lease `lock` for another `ttl` seconds from now.
  ///
  /// - Throws: ``StoreError/leaseLost(environment:lockID:detail:)`` when the lease is no longer
  ///   this holder's (expired and taken over, or force-unlocked).
  func renewLock(_ lock: LockInfo, ttl: TimeInterval) throws -> LockInfo

  /// Releases a lock this process holds.
  ///
  /// - Throws: ``StoreError/noSuchLock(environment:lockID:)`` when no lock is held, or
  ///   ``StoreError/lockMismatch(environment:lockID:holder:)`` when another lock replaced it.
  func releaseLock(_ environment: String, lockID: String) throws

  /// Breaks a lock on the user's request (`hk lock unlock ENV --force ID`).
  ///
  /// Runs of the lock's holder still marked `running` become `interrupted`.
  ///
  /// - Throws: ``StoreError/lockMismatch(environment:lockID:holder:)`` naming the ID that
  ///   holds the lock when `lockID` differs, ``StoreError/noSuchLock(environment:lockID:)``
  ///   when the environment is not locked.
  func forceUnlock(_ environment: String, lockID: String) throws

  /// The lock of one environment, or nil when it is not locked.
  func lock(_ environment: String) throws -> LockInfo?

  /// Every held lock (expired ones too, until taken over or released), sorted by environment.
  func locks() throws -> [LockInfo]

  /// Stores one environment's drift report (`status` is in-sync, drifted, pending or error).
  func saveDriftReport(environment: String, status: String, reportJSON: String) throws

  /// The latest `limit` drift reports of `environment`, newest first.
  func driftReports(_ environment: String, limit: Int) throws -> [DriftReportRecord]

  /// The newest drift report of `environment`, or nil when none was stored.
  func latestDriftReport(_ environment: String) throws -> DriftReportRecord?

  /// Everything stored, for `hk state migrate` (locks excluded), in a stable order.
  func exportAll() throws -> StoreDump

  /// Writes `dump` into this (empty, or emptied with `replacing`) store in one transaction,
  /// keeping every ID, date, serial and lineage.
  func importAll(_ dump: StoreDump, replacing: Bool) throws

  /// Whether this store holds anything (a revision, run, plan or drift report).
  func isEmpty() throws -> Bool
}

extension StateStoring {
  /// Writes a new revision in the current lineage, not bound to a saved plan and to no lease.
  @discardableResult
  public func record(
    _ state: RecordedStateDraft, expectedPrior: PriorState?, actor: StoreActor, note: String
  ) throws -> RecordedState {
    try record(state, expectedPrior: expectedPrior, actor: actor, note: note, planID: nil, newLineage: false, fence: nil)
  }

  /// ``record(_:expectedPrior:actor:note:planID:newLineage:fence:)`` outside a lease.
  @discardableResult
  public func record(
    _ state: RecordedStateDraft, expectedPrior: PriorState?, actor: StoreActor, note: String,
    planID: String?, newLineage: Bool
  ) throws -> RecordedState {
    try record(state, expectedPrior: expectedPrior, actor: actor, note: note, planID: planID, newLineage: newLineage, fence: nil)
  }

  /// ``amend(_:at:actor:note:fence:)`` outside a lease.
  @discardableResult
  public func amend(_ state: RecordedStateDraft, at expected: PriorState, actor: StoreActor, note: String) throws -> RecordedState {
    try amend(state, at: expected, actor: actor, note: note, fence: nil)
  }

  /// ``beginRun(environment:command:planID:actor:fence:)`` outside a lease.
  public func beginRun(environment: String, command: String, planID: String?, actor: StoreActor) throws -> Int64 {
    try beginRun(environment: environment, command: command, planID: planID, actor: actor, fence: nil)
  }

  /// ``journalStepStarted(runID:stepID:kind:argv:fence:)`` outside a lease.
  public func journalStepStarted(runID: Int64, stepID: Int, kind: String, argv: [String]) throws -> Int64 {
    try journalStepStarted(runID: runID, stepID: stepID, kind: kind, argv: argv, fence: nil)
  }

  /// ``journalStepFinished(entryID:status:exitCode:outputTail:duration:fence:)`` outside a lease.
  public func journalStepFinished(
    entryID: Int64, status: JournalStatus, exitCode: Int32?, outputTail: String, duration: Double
  ) throws {
    try journalStepFinished(entryID: entryID, status: status, exitCode: exitCode, outputTail: outputTail, duration: duration, fence: nil)
  }

  /// ``finishRun(runID:result:message:fence:)`` outside a lease.
  public func finishRun(runID: Int64, result: RunResult, message: String) throws {
    try finishRun(runID: runID, result: result, message: message, fence: nil)
  }

  /// Takes the lease for ``LeaseSettings/ttl(environment:)`` seconds (`HK_LOCK_TTL`, default 120).
  public func acquireLock(_ environment: String, actor: StoreActor) throws -> LockInfo {
    try acquireLock(environment, actor: actor, ttl: LeaseSettings.ttl())
  }

  /// The newest drift report of `environment`.
  public func latestDriftReport(_ environment: String) throws -> DriftReportRecord? {
    try driftReports(environment, limit: 1).first
  }
}
