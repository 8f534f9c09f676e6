import Foundation
import Store
import Synchronization

/// Keeps a lease alive while a run lasts (DESIGN.md §8): renews it every TTL/3 and remembers
/// the first failure to keep or record the run (a renewal, a journal write), which the run
/// reads before each step and stops on.
public final class LeaseKeeper: Sendable {
  /// The lease as taken (its generation fences every write of the run).
  public let lease: LockInfo
  let store: any StateStoring
  let ttl: TimeInterval
  private let state = Mutex<(problem: String?, task: Task<Void, Never>?)>((nil, nil))

  /// Starts renewing `lease` every `ttl / 3` seconds.
  public init(lease: LockInfo, store: any StateStoring, ttl: TimeInterval) {
    self.lease = lease
    self.store = store
    self.ttl = ttl
    let task = Task.detached { [weak self] in
      let interval = Duration.milliseconds(max(50, Int(ttl * 1000 / 3)))
      while !Task.isCancelled {
        try? await Task.sleep(for: interval)
        guard !Task.isCancelled, let self else { return }
        if !self.renew() { return }
      }
    }
    state.withLock { $0.task = task }
  }

  /// Renews once; false (and the problem remembered) when it cannot.
  func renew() -> Bool {
    do {
      _ = try store.renewLock(lease, ttl: ttl)
      return true
    } catch let error as StoreError {
      let message: String
      if case .leaseLost = error {
        message = error.localizedDescription
      } else {
        message =
          "cannot renew the lease on \(lease.environment) (lock ID \(lease.lockID)): \(error.localizedDescription); "
          + "stopped before the next step; run 'hk apply \(lease.environment)' again once the state database is back"
      }
      state.withLock { if $0.problem == nil { $0.problem = message } }
      return false
    } catch {
      state.withLock { if $0.problem == nil { $0.problem = "cannot renew the lease: \(error.localizedDescription)" } }
      return false
    }
  }

  /// Remembers a failure to record the run (the first one wins): the run stops before its next step.
  public func report(_ problem: String) {
    state.withLock { if $0.problem == nil { $0.problem = problem } }
  }

  /// Why the run must stop (the lease could not be renewed, a journal write failed), or nil.
  public var problem: String? { state.withLock { $0.problem } }

  /// Stops renewing (before the lease is released).
  public func stop() {
    let task = state.withLock { $0.task }
    task?.cancel()
  }

  deinit {
    state.withLock { $0.task?.cancel() }
  }
}
