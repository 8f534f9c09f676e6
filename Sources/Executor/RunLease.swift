import Foundation
import Model
import Store

/// One run's lifecycle on the recorded state (DESIGN.md §8), shared by apply and import: take
/// the environment's lease (kept alive by a ``LeaseKeeper``; its generation fences every write),
/// begin a run, finish it, release the lease. No write of it is silent: each one that fails is
/// thrown to the caller, which says so.
public struct RunLease: Sendable {
  public let store: any StateStoring
  public let actor: StoreActor
  /// Renews the lease while the run lasts and collects the first failure to keep or record it.
  public let keeper: LeaseKeeper

  /// The lease as taken: every write of the run passes it.
  public var fence: LockInfo { keeper.lease }
  public var environment: String { keeper.lease.environment }

  /// Takes `environment`'s lease for `ttl` seconds and starts renewing it.
  /// - Throws: the store's error (``StoreError/isLocked`` when another run holds it).
  public static func acquire(
    _ environment: String, store: any StateStoring, actor: StoreActor, ttl: TimeInterval = LeaseSettings.ttl()
  ) throws -> RunLease {
    let lock = try store.acquireLock(environment, actor: actor, ttl: ttl)
    return RunLease(store: store, actor: actor, keeper: LeaseKeeper(lease: lock, store: store, ttl: ttl))
  }

  /// Records the start of a run under the lease; its ID names the run's journal entries.
  public func begin(planID: String?) throws -> Int64 {
    try store.beginRun(environment: environment, command: actor.command, planID: planID, actor: actor, fence: fence)
  }

  /// Records how run `runID` ended (the message redacted).
  public func finish(_ runID: Int64, result: RunResult, message: String) throws {
    try store.finishRun(runID: runID, result: result, message: Redaction.redact(text: message), fence: fence)
  }

  /// Stops renewing and releases the lease.
  public func release() throws {
    keeper.stop()
    try store.releaseLock(environment, lockID: fence.lockID)
  }

  /// The whole lifecycle around `body` (import's): begin a run, run `body` with the lease,
  /// finish the run (succeeded with `summary` of the result, or failed with the error) and
  /// release the lease. A write of the lifecycle that fails is thrown (``RunRecordingError``),
  /// saying what happened before it.
  public func perform<T: Sendable>(
    planID: String? = nil, command: String, _ body: (LockInfo) async throws -> T, summary: (T) -> String
  ) async throws -> T {
    let runID: Int64
    do {
      runID = try begin(planID: planID)
    } catch {
      let released = releaseProblem()
      throw RunRecordingError(
        what: "the run could not be recorded", cause: error.localizedDescription + (released.map { "; " + $0 } ?? ""),
        next: "nothing was changed; check the state location, then run '\(command)' again")
    }
    let value: T
    do {
      value = try await body(fence)
      if let problem = keeper.problem {
        throw RunRecordingError(what: "the lease was not kept", cause: problem, next: "run '\(command)' again")
      }
    } catch {
      var problems: [String] = []
      do { try finish(runID, result: .failed, message: error.localizedDescription) } catch {
        problems.append("the run's end could not be recorded either (\(error.localizedDescription))")
      }
      if let released = releaseProblem() { problems.append(released) }
      guard !problems.isEmpty else { throw error }
      throw RunRecordingError(
        what: error.localizedDescription, cause: problems.joined(separator: "; "),
        next: "check the state location ('hk state show \(environment)'), then run '\(command)' again")
    }
    do {
      try finish(runID, result: .succeeded, message: summary(value))
    } catch {
      _ = releaseProblem()
      throw RunRecordingError(
        what: "done (\(summary(value))), but the end of run \(runID) could not be recorded", cause: error.localizedDescription,
        next: "check the state location; 'hk state show \(environment) --run \(runID)' shows the run")
    }
    if let released = releaseProblem() {
      throw RunRecordingError(
        what: "done (\(summary(value)))", cause: released,
        next: "break the lease with 'hk lock unlock \(environment) --force \(fence.lockID)'")
    }
    return value
  }

  /// Releases the lease; what went wrong, or nil.
  private func releaseProblem() -> String? {
    do {
      try release()
      return nil
    } catch {
      return "the lock \(fence.lockID) could not be released (\(error.localizedDescription))"
    }
  }
}

/// A write of a run's lifecycle (begin, finish, release, the lease) that failed: what happened,
/// why, and what to do next.
public struct RunRecordingError: HKError, Hashable {
  public var what: String
  public var cause: String
  public var next: String

  public init(what: String, cause: String, next: String) {
    self.what = what
    self.cause = cause
    self.next = next
  }

  public var errorDescription: String? { "\(what): \(cause); \(next)" }
  public var nextStep: String { next }
}
