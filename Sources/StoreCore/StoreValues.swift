import Foundation
import Model

/// Who acts on the recorded state: stored on revisions (`createdBy`), runs (`holder`) and leases.
public struct StoreActor: Sendable, Hashable {
  /// The login name of the effective user.
  public var user: String
  /// The host name (`gethostname`).
  public var host: String
  public var pid: Int32
  /// The hk command line, e.g. `hk apply prod` (already redacted).
  public var command: String
  /// The CI run this process belongs to, when known (``LeaseSettings/ciRunURL(_:)``).
  public var ciRunURL: String?

  public init(user: String, host: String, pid: Int32, command: String, ciRunURL: String? = nil) {
    self.user = user
    self.host = host
    self.pid = pid
    self.command = command
    self.ciRunURL = ciRunURL
  }

  /// This process: the effective user, this host, `getpid()`, `command` and the CI run URL.
  public static func current(command: String) -> StoreActor {
    StoreActor(
      user: ProcessIdentity.userName(), host: ProcessIdentity.hostName(),
      pid: ProcessInfo.processInfo.processIdentifier, command: StoreLocation.redactURLs(in: command),
      ciRunURL: LeaseSettings.ciRunURL(ProcessInfo.processInfo.environment))
  }

  /// `user@host`, as stored in ``RevisionSummary/createdBy``.
  public var userAtHost: String { "\(user)@\(host)" }

  /// `user@host pid N`, as stored in ``RunSummary/holder``.
  public var holder: String { "\(user)@\(host) pid \(pid)" }
}

/// The lease's time to live and the CI run that holds it (DESIGN.md §8).
public enum LeaseSettings {
  /// The default time to live of a lease, in seconds.
  public static let defaultTTL: TimeInterval = 120

  /// `HK_LOCK_TTL` seconds (a positive number, at least 0.3), else ``defaultTTL``.
  public static func ttl(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> TimeInterval {
    guard let text = environment["HK_LOCK_TTL"], let value = Double(text.trimmingCharacters(in: .whitespaces)),
      value.isFinite, value >= 0.3
    else { return defaultTTL }
    return value
  }

  /// The CI run URL: `GITHUB_SERVER_URL/GITHUB_REPOSITORY/actions/runs/GITHUB_RUN_ID`, else `CI_JOB_URL`.
  public static func ciRunURL(_ environment: [String: String]) -> String? {
    if let server = environment["GITHUB_SERVER_URL"], let repo = environment["GITHUB_REPOSITORY"],
      let run = environment["GITHUB_RUN_ID"], !server.isEmpty, !repo.isEmpty, !run.isEmpty
    {
      return "\(server)/\(repo)/actions/runs/\(run)"
    }
    if let url = environment["CI_JOB_URL"], !url.isEmpty { return url }
    return nil
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

  /// The summary of a recorded revision, with what the store keeps beside it.
  public init(_ state: RecordedState, createdAt: Date, createdBy: String, command: String, note: String, planID: String?) {
    self.init(
      environment: state.environment, serial: state.serial, lineage: state.lineage, createdAt: createdAt, createdBy: createdBy,
      command: command, note: note, planID: planID, cloudUpdated: state.cloudUpdated, pendingRolls: state.pendingRolls,
      igwAttached: state.igwAttached, kopsVersion: state.kopsVersion, desiredDigest: state.desiredDigest,
      gitCommit: state.gitCommit)
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

/// The lease of one environment and who holds it (DESIGN.md §8).
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
  /// When the lease lapses unless renewed.
  public var expiresAt: Date
  /// The fencing generation: increases with every acquisition of the environment.
  public var generation: Int64
  /// The CI run of the holder, when known.
  public var ciRunURL: String?

  public init(
    environment: String, lockID: String, host: String, pid: Int32, user: String, command: String, startedAt: Date,
    expiresAt: Date? = nil, generation: Int64 = 0, ciRunURL: String? = nil
  ) {
    self.environment = environment
    self.lockID = lockID
    self.host = host
    self.pid = pid
    self.user = user
    self.command = command
    self.startedAt = startedAt
    self.expiresAt = expiresAt ?? startedAt.addingTimeInterval(LeaseSettings.defaultTTL)
    self.generation = generation
    self.ciRunURL = ciRunURL
  }

  /// Whether the lease lapsed: the next apply takes it without `--force`.
  public func isExpired(at now: Date = Date()) -> Bool { expiresAt <= now }

  /// Whether the holder is provably gone (it ran on this host and no process has its pid) or
  /// its lease lapsed.
  public var isStale: Bool {
    isExpired() || (host == ProcessIdentity.hostName() && !ProcessIdentity.processExists(pid))
  }

  /// `user@host pid N running 'cmd' since T (lock ID …)`.
  public var holderDescription: String {
    let ci = ciRunURL.map { ", CI run \($0)" } ?? ""
    return "\(user)@\(host) pid \(pid) running '\(command)' since \(startedAt.formatted(.iso8601)), lease until "
      + "\(expiresAt.formatted(.iso8601))\(ci) (lock ID \(lockID))"
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

/// Everything a store holds except its leases: what `hk state migrate` copies.
public struct StoreDump: Sendable, Hashable {
  /// Every revision, by environment then serial.
  public var revisions: [StoredRevision]
  public var plans: [SavedPlan]
  /// Every run, by ID.
  public var runs: [RunSummary]
  /// Every journal entry, by ID.
  public var journal: [JournalEntry]
  /// Every drift report, by ID.
  public var driftReports: [DriftReportRecord]

  public init(
    revisions: [StoredRevision], plans: [SavedPlan], runs: [RunSummary], journal: [JournalEntry], driftReports: [DriftReportRecord]
  ) {
    self.revisions = revisions
    self.plans = plans
    self.runs = runs
    self.journal = journal
    self.driftReports = driftReports
  }
}

/// One revision with its layers and metadata, as stored.
public struct StoredRevision: Sendable, Hashable {
  public var state: RecordedState
  public var summary: RevisionSummary

  public init(state: RecordedState, summary: RevisionSummary) {
    self.state = state
    self.summary = summary
  }
}
