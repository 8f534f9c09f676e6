import Foundation
import Model

/// The recorded state of hk behind one seam, so that a PostgreSQL backend can join later.
///
/// Implementations keep, per environment, the full history of revisions (DESIGN.md §5: the
/// objects written to the kops state store, whether the cloud matches them, which instance
/// groups still need a roll), saved plans, runs with their step journal, one lock per
/// environment and drift reports.
///
/// Invariants every implementation keeps:
/// - ``record(_:expectedPrior:actor:note:planID:newLineage:)`` is a compare-and-swap: it writes
///   serial `prior + 1` only when the current (serial, lineage) equals `expectedPrior`.
/// - ``acquireLock(_:actor:)`` is atomic across processes: of many concurrent callers for one
///   environment exactly one gets the lock, the others get ``StoreError/locked(_:)``.
/// - Errors are ``StoreError`` values whose message says what to do next.
public protocol StateStoring: Sendable {
  /// The latest recorded revision of `environment`, or nil when nothing is recorded.
  func recorded(_ environment: String) throws -> RecordedState?

  /// The latest recorded revision of each of `environments` that has one, read in one
  /// transaction (`hk plan` over a thousand environments reads them all at once).
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
  /// - Returns: The revision as written.
  /// - Throws: ``StoreError/conflict(expected:actual:)`` when the current (serial, lineage)
  ///   differs from `expectedPrior`; nothing is written then.
  @discardableResult
  func record(
    _ state: RecordedStateDraft, expectedPrior: PriorState?, actor: StoreActor, note: String,
    planID: String?, newLineage: Bool
  ) throws -> RecordedState

  /// Stores a plan made with `hk plan --out`, bound to the revisions it was made against.
  ///
  /// - Throws: ``StoreError/planExists(id:)`` when `id` is already used.
  /// Rewrites the latest revision in place (same serial and lineage), compare-and-swap on
  /// `expected`: an apply records its progress through the layers this way, so one apply run
  /// is one serial however many steps it takes.
  @discardableResult
  func amend(_ state: RecordedStateDraft, at expected: PriorState, actor: StoreActor, note: String) throws -> RecordedState

  func savePlan(id: String, planJSON: String, bindings: [PlanBinding]) throws

  /// A saved plan by ID, or nil when unknown.
  func savedPlan(id: String) throws -> SavedPlan?

  /// Starts a run (an apply, import or drift) and returns its ID; its result is `running`.
  func beginRun(environment: String, command: String, planID: String?, actor: StoreActor) throws -> Int64

  /// Journals that a step is about to run.
  ///
  /// - Parameters:
  ///   - runID: The run from ``beginRun(environment:command:planID:actor:)``.
  ///   - stepID: The plan step's ID.
  ///   - kind: The step kind (`cluster-replace`, `igw-attach`, …).
  ///   - argv: The command line, already redacted by the caller.
  /// - Returns: The journal entry's ID, for ``journalStepFinished(entryID:status:exitCode:outputTail:duration:)``.
  /// - Throws: ``StoreError`` when the entry cannot be written.
  func journalStepStarted(runID: Int64, stepID: Int, kind: String, argv: [String]) throws -> Int64

  /// Journals how a step ended.
  ///
  /// - Parameters:
  ///   - entryID: The entry ``journalStepStarted(runID:stepID:kind:argv:)`` returned.
  ///   - status: How the step ended.
  ///   - exitCode: The command's exit code, when it exited.
  ///   - outputTail: The end of the step's output, already redacted (kept up to 64 KiB).
  ///   - duration: Wall-clock seconds the step took.
  /// - Throws: ``StoreError`` when the entry cannot be written.
  func journalStepFinished(
    entryID: Int64, status: JournalStatus, exitCode: Int32?, outputTail: String, duration: Double
  ) throws

  /// Records how a run ended.
  func finishRun(runID: Int64, result: RunResult, message: String) throws

  /// The latest `limit` runs of `environment`, newest first.
  func runs(_ environment: String, limit: Int) throws -> [RunSummary]

  /// The journal of one run, in the order the steps started.
  func journal(runID: Int64) throws -> [JournalEntry]

  /// Takes the lock of `environment` for `actor`, atomically (one IMMEDIATE transaction).
  ///
  /// A lock whose holder is gone (``LockInfo/isStale``) is not taken over: only
  /// ``forceUnlock(_:lockID:)`` (`hk lock unlock ENV --force ID`) removes it.
  ///
  /// - Throws: ``StoreError/locked(_:)`` naming the holder when the lock is held.
  func acquireLock(_ environment: String, actor: StoreActor) throws -> LockInfo

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

  /// Every held lock, sorted by environment.
  func locks() throws -> [LockInfo]

  /// Stores one environment's drift report (`status` is in-sync, drifted, pending or error).
  func saveDriftReport(environment: String, status: String, reportJSON: String) throws

  /// The latest `limit` drift reports of `environment`, newest first.
  func driftReports(_ environment: String, limit: Int) throws -> [DriftReportRecord]

  /// The newest drift report of `environment`, or nil when none was stored.
  func latestDriftReport(_ environment: String) throws -> DriftReportRecord?
}

extension StateStoring {
  /// Writes a new revision in the current lineage, not bound to a saved plan.
  ///
  /// Same as ``record(_:expectedPrior:actor:note:planID:newLineage:)`` with `planID: nil`
  /// and `newLineage: false`.
  @discardableResult
  public func record(
    _ state: RecordedStateDraft, expectedPrior: PriorState?, actor: StoreActor, note: String
  ) throws -> RecordedState {
    try record(state, expectedPrior: expectedPrior, actor: actor, note: note, planID: nil, newLineage: false)
  }
}

/// Who acts on the recorded state: stored on revisions (`createdBy`), runs (`holder`) and locks.
public struct StoreActor: Sendable, Hashable {
  /// The login name of the effective user.
  public var user: String
  /// The host name (`gethostname`), compared by ``LockInfo/isStale``.
  public var host: String
  public var pid: Int32
  /// The hk command line, e.g. `hk apply prod` (already redacted).
  public var command: String

  public init(user: String, host: String, pid: Int32, command: String) {
    self.user = user
    self.host = host
    self.pid = pid
    self.command = command
  }

  /// This process: the effective user, this host, `getpid()`, and `command`.
  public static func current(command: String) -> StoreActor {
    StoreActor(
      user: ProcessIdentity.userName(), host: ProcessIdentity.hostName(),
      pid: ProcessInfo.processInfo.processIdentifier, command: command)
  }

  /// `user@host`, as stored in ``RevisionSummary/createdBy``.
  public var userAtHost: String { "\(user)@\(host)" }

  /// `user@host pid N`, as stored in ``RunSummary/holder``.
  public var holder: String { "\(user)@\(host) pid \(pid)" }
}

/// What to record for an environment: ``Model/RecordedState`` without serial and lineage,
/// which the store assigns.
public struct RecordedStateDraft: Sendable, Hashable {
  public var environment: String
  /// The Cluster as written to the kops state store (normalised YAML, one document).
  public var clusterYAML: String
  /// The InstanceGroups as written (normalised YAML, one document each), in order.
  public var instanceGroupsYAML: [String]
  /// Layer 2: `kops update --yes` ran after the last object write.
  public var cloudUpdated: Bool
  /// Layer 3: instance groups whose nodes still run an older configuration.
  public var pendingRolls: [String]
  /// Whether hk attached the gateway and has not detached it yet.
  public var igwAttached: Bool
  /// Layer 4: `kops validate cluster` passed since the cloud last changed.
  public var validated: Bool
  public var kopsVersion: String?
  public var desiredDigest: String?
  /// The git commit of the desired files (`-dirty` when they differed from it); nil outside git.
  public var gitCommit: String?
  /// The environment's settings (``Model/EnvironmentSettings/recorded``).
  public var settings: [String: String]?

  public init(
    environment: String, clusterYAML: String, instanceGroupsYAML: [String], cloudUpdated: Bool,
    pendingRolls: [String], igwAttached: Bool, validated: Bool = true, kopsVersion: String? = nil, desiredDigest: String? = nil,
    gitCommit: String? = nil, settings: [String: String]? = nil
  ) {
    self.gitCommit = gitCommit
    self.environment = environment
    self.clusterYAML = clusterYAML
    self.instanceGroupsYAML = instanceGroupsYAML
    self.cloudUpdated = cloudUpdated
    self.pendingRolls = pendingRolls
    self.igwAttached = igwAttached
    self.validated = validated
    self.kopsVersion = kopsVersion
    self.desiredDigest = desiredDigest
    self.settings = settings
  }

  /// The layers of a recorded revision, to change one and record the result.
  public init(_ state: RecordedState) {
    self.init(
      environment: state.environment, clusterYAML: state.clusterYAML, instanceGroupsYAML: state.instanceGroupsYAML,
      cloudUpdated: state.cloudUpdated, pendingRolls: state.pendingRolls, igwAttached: state.igwAttached,
      validated: state.validated, kopsVersion: state.kopsVersion, desiredDigest: state.desiredDigest, gitCommit: state.gitCommit,
      settings: state.settings)
  }
}

/// One line of `hk state history`: a revision without its manifests.
public struct RevisionSummary: Sendable, Hashable {
  public var environment: String
  public var serial: Int64
  public var lineage: String
  public var createdAt: Date
  /// `user@host` of the writer.
  public var createdBy: String
  /// The hk command that wrote it.
  public var command: String
  /// Why it was written, e.g. `apply step 3 cluster-replace`.
  public var note: String
  public var planID: String?
  public var cloudUpdated: Bool
  public var pendingRolls: [String]
  public var igwAttached: Bool
  public var kopsVersion: String?
  public var desiredDigest: String?
  /// The git commit of the desired files (`-dirty` when they differed from it); nil outside git.
  public var gitCommit: String?

  public init(
    environment: String, serial: Int64, lineage: String, createdAt: Date, createdBy: String, command: String,
    note: String, planID: String?, cloudUpdated: Bool, pendingRolls: [String], igwAttached: Bool,
    kopsVersion: String? = nil, desiredDigest: String? = nil, gitCommit: String? = nil
  ) {
    self.gitCommit = gitCommit
    self.environment = environment
    self.serial = serial
    self.lineage = lineage
    self.createdAt = createdAt
    self.createdBy = createdBy
    self.command = command
    self.note = note
    self.planID = planID
    self.cloudUpdated = cloudUpdated
    self.pendingRolls = pendingRolls
    self.igwAttached = igwAttached
    self.kopsVersion = kopsVersion
    self.desiredDigest = desiredDigest
  }
}

/// One line of `hk state list`.
public struct EnvironmentSummary: Sendable, Hashable {
  public var name: String
  /// The current (latest) serial.
  public var serial: Int64
  public var lineage: String
  /// When the current revision was written.
  public var lastAppliedAt: Date
  /// `user@host` that wrote the current revision.
  public var lastAppliedBy: String
  /// The result of the environment's newest run; nil when it never ran.
  public var lastRunResult: RunResult?

  public init(
    name: String, serial: Int64, lineage: String, lastAppliedAt: Date, lastAppliedBy: String,
    lastRunResult: RunResult?
  ) {
    self.name = name
    self.serial = serial
    self.lineage = lineage
    self.lastAppliedAt = lastAppliedAt
    self.lastAppliedBy = lastAppliedBy
    self.lastRunResult = lastRunResult
  }
}

/// What a saved plan was made against, per environment: `apply --plan` refuses it when the
/// recorded serial or lineage moved or the desired files' digest changed.
public struct PlanBinding: Sendable, Hashable, Codable {
  public var environment: String
  /// The recorded revision diffed against; nil when nothing was recorded (still binding).
  public var prior: PriorState?
  public var desiredDigest: String

  public init(environment: String, prior: PriorState?, desiredDigest: String) {
    self.environment = environment
    self.prior = prior
    self.desiredDigest = desiredDigest
  }

  private enum CodingKeys: String, CodingKey {
    case environment, priorSerial, priorLineage, desiredDigest
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    environment = try container.decode(String.self, forKey: .environment)
    desiredDigest = try container.decode(String.self, forKey: .desiredDigest)
    let serial = try container.decodeIfPresent(Int64.self, forKey: .priorSerial)
    let lineage = try container.decodeIfPresent(String.self, forKey: .priorLineage)
    if let serial, let lineage {
      prior = PriorState(serial: serial, lineage: lineage)
    } else {
      prior = nil
    }
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(environment, forKey: .environment)
    try container.encodeIfPresent(prior?.serial, forKey: .priorSerial)
    try container.encodeIfPresent(prior?.lineage, forKey: .priorLineage)
    try container.encode(desiredDigest, forKey: .desiredDigest)
  }
}

/// A plan saved by `hk plan --out`.
public struct SavedPlan: Sendable, Hashable {
  public var id: String
  public var createdAt: Date
  /// The environments the plan covers, in plan order.
  public var environments: [String]
  /// The plan's JSON (format_version "1"), secrets already redacted.
  public var planJSON: String
  public var bindings: [PlanBinding]

  public init(id: String, createdAt: Date, environments: [String], planJSON: String, bindings: [PlanBinding]) {
    self.id = id
    self.createdAt = createdAt
    self.environments = environments
    self.planJSON = planJSON
    self.bindings = bindings
  }
}

/// How a run ended; `running` while it runs (or when its process died unrecorded).
public enum RunResult: String, Sendable, Hashable, Codable, CaseIterable {
  case running, succeeded, failed, interrupted
}

/// How a journaled step ended; `started` while it runs.
public enum JournalStatus: String, Sendable, Hashable, Codable, CaseIterable {
  case started, succeeded, failed, interrupted
}

/// One run (apply, import, drift) of one environment.
public struct RunSummary: Sendable, Hashable {
  /// Increasing in start order.
  public var id: Int64
  public var environment: String
  public var command: String
  public var planID: String?
  public var startedAt: Date
  public var finishedAt: Date?
  public var result: RunResult
  public var message: String
  /// `user@host pid N`.
  public var holder: String

  public init(
    id: Int64, environment: String, command: String, planID: String?, startedAt: Date, finishedAt: Date?,
    result: RunResult, message: String, holder: String
  ) {
    self.id = id
    self.environment = environment
    self.command = command
    self.planID = planID
    self.startedAt = startedAt
    self.finishedAt = finishedAt
    self.result = result
    self.message = message
    self.holder = holder
  }
}

/// One journaled step of a run.
public struct JournalEntry: Sendable, Hashable {
  /// Increasing in start order.
  public var id: Int64
  public var runID: Int64
  /// The plan step's `id`.
  public var stepID: Int
  /// The step kind, e.g. `kops-update`.
  public var kind: String
  /// The command line as run, redacted by the caller.
  public var argv: [String]
  public var startedAt: Date
  public var finishedAt: Date?
  public var exitCode: Int32?
  /// The end of the output (redacted by the caller), at most 64 KiB.
  public var outputTail: String
  /// Wall-clock seconds; nil while the step runs.
  public var durationSeconds: Double?
  public var status: JournalStatus

  public init(
    id: Int64, runID: Int64, stepID: Int, kind: String, argv: [String], startedAt: Date, finishedAt: Date?,
    exitCode: Int32?, outputTail: String, durationSeconds: Double?, status: JournalStatus
  ) {
    self.id = id
    self.runID = runID
    self.stepID = stepID
    self.kind = kind
    self.argv = argv
    self.startedAt = startedAt
    self.finishedAt = finishedAt
    self.exitCode = exitCode
    self.outputTail = outputTail
    self.durationSeconds = durationSeconds
    self.status = status
  }
}

/// The lock of one environment and who holds it.
public struct LockInfo: Sendable, Hashable {
  public var environment: String
  /// A UUID naming this acquisition; `hk lock unlock ENV --force ID` needs it.
  public var lockID: String
  public var host: String
  public var pid: Int32
  public var user: String
  /// The command the holder runs, e.g. `hk apply prod`.
  public var command: String
  public var startedAt: Date

  public init(
    environment: String, lockID: String, host: String, pid: Int32, user: String, command: String, startedAt: Date
  ) {
    self.environment = environment
    self.lockID = lockID
    self.host = host
    self.pid = pid
    self.user = user
    self.command = command
    self.startedAt = startedAt
  }

  /// Whether the holder is provably gone: it ran on this host and no process has its pid.
  ///
  /// A lock taken on another host is never stale from here (hk cannot see its processes).
  /// Not a permission to take the lock over: only `hk lock unlock --force` breaks it.
  public var isStale: Bool {
    host == ProcessIdentity.hostName() && !ProcessIdentity.processExists(pid)
  }

  /// `user@host pid N running 'cmd' since T (lock ID …)`.
  public var holderDescription: String {
    "\(user)@\(host) pid \(pid) running '\(command)' since \(startedAt.formatted(.iso8601)) (lock ID \(lockID))"
  }
}

/// One stored drift report of one environment.
public struct DriftReportRecord: Sendable, Hashable {
  /// Increasing in creation order.
  public var id: Int64
  public var environment: String
  public var createdAt: Date
  /// `in-sync`, `drifted`, `pending` or `error`.
  public var status: String
  /// The environment's entry of the drift JSON (DESIGN.md §6).
  public var reportJSON: String

  public init(id: Int64, environment: String, createdAt: Date, status: String, reportJSON: String) {
    self.id = id
    self.environment = environment
    self.createdAt = createdAt
    self.status = status
    self.reportJSON = reportJSON
  }
}
