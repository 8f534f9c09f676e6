import Foundation
import Model

extension PriorState {
  /// The serial and lineage of the revision recorded after `prior` (nil: nothing recorded yet):
  /// the next serial, in `prior`'s lineage unless there is none or `newLineage` (`hk import`),
  /// then in a new one (a lower-case UUID).
  public static func next(after prior: PriorState?, newLineage: Bool) -> PriorState {
    PriorState(
      serial: (prior?.serial ?? 0) + 1,
      lineage: prior.flatMap { newLineage ? nil : $0.lineage } ?? UUID().uuidString.lowercased())
  }
}

/// How a backend removes a lease: a release and `hk lock unlock --force` are the same removal,
/// the second also marking the runs its holder left running interrupted.
public protocol LeaseRemoving {
  /// Deletes `environment`'s lease when `lockID` holds it (else ``StoreError/noSuchLock(environment:lockID:)``
  /// or ``StoreError/lockMismatch(environment:lockID:holder:)``); with `message`, marks the runs
  /// its holder left running, and their started steps, interrupted with that message.
  func removeLease(_ environment: String, lockID: String, interrupting message: String?) throws
}

extension LeaseRemoving {
  public func releaseLock(_ environment: String, lockID: String) throws {
    try removeLease(environment, lockID: lockID, interrupting: nil)
  }

  public func forceUnlock(_ environment: String, lockID: String) throws {
    let breaker = StoreActor.current(command: "hk lock unlock \(environment) --force \(lockID)")
    try removeLease(environment, lockID: lockID, interrupting: "lock \(lockID) force-unlocked by \(breaker.userAtHost)")
  }
}
