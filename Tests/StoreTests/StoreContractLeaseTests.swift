import Foundation
import HKTestSupport
import Model
import Testing

@testable import Store

/// The lease contract (DESIGN.md §8) against every backend.
@Suite struct StoreContractLeaseTests {
  let other = StoreActor(user: "bob", host: "runner-2", pid: 77, command: "hk apply prod --yes", ciRunURL: "https://ci/run/9")

  @Test(arguments: Backend.allCases) func aHeldLeaseIsRefusedNamingItsHolder(_ backend: Backend) throws {
    let store = try backend.open(try backend.freshLocation())
    let ci = StoreActor(
      user: "alice", host: "ci-runner-1", pid: 4242, command: "hk apply prod", ciRunURL: "https://github.com/o/r/actions/runs/1")
    let held = try store.acquireLock("prod", actor: ci, ttl: 60)
    #expect(held.generation >= 1 && held.ciRunURL == "https://github.com/o/r/actions/runs/1")
    #expect(held.expiresAt.timeIntervalSince(held.startedAt) > 59 && !held.isExpired())
    let error = try #require(throws: StoreError.self) { try store.acquireLock("prod", actor: other, ttl: 60) }
    #expect(error == .locked(held))
    #expect(error.localizedDescription.contains("alice@ci-runner-1 pid 4242"))
    #expect(error.localizedDescription.contains("CI run https://github.com/o/r/actions/runs/1"))
    #expect(try store.locks() == [held])
    try store.releaseLock("prod", lockID: held.lockID)
    let again = try store.acquireLock("prod", actor: other, ttl: 60)
    #expect(again.generation > held.generation, "the generation grows across releases")
  }

  @Test(arguments: Backend.allCases) func anExpiredLeaseIsTakenOverAndFencesItsOldHolder(_ backend: Backend) throws {
    let store = try backend.open(try backend.freshLocation())
    let dead = try store.acquireLock("prod", actor: tester, ttl: 0.3)
    let run = try store.beginRun(environment: "prod", command: "hk apply prod", planID: nil, actor: tester, fence: dead)
    let step = try store.journalStepStarted(runID: run, stepID: 1, kind: "kops-update", argv: ["kops"], fence: dead)
    Thread.sleep(forTimeInterval: 0.5)
    #expect(try store.lock("prod")?.isExpired() == true)
    let taken = try store.acquireLock("prod", actor: other, ttl: 60)
    #expect(taken.generation == dead.generation + 1 && taken.user == "bob")
    let runs = try store.runs("prod", limit: 5)
    #expect(runs.first?.result == .interrupted && runs.first?.message.contains("expired") == true)
    #expect(try store.journal(runID: run).first?.status == .interrupted)
    // The old holder can neither renew nor write.
    let lost = try #require(throws: StoreError.self) { try store.renewLock(dead, ttl: 60) }
    guard case .leaseLost(let env, let id, let detail) = lost else {
      Issue.record("expected leaseLost, got \(lost)")
      return
    }
    #expect(env == "prod" && id == dead.lockID && detail.contains("bob@runner-2"))
    #expect(lost.localizedDescription.contains("stopped before the next step"))
    for write in [
      { _ = try store.record(draft(), expectedPrior: nil, actor: tester, note: "late", planID: nil, newLineage: false, fence: dead) },
      { try store.finishRun(runID: run, result: .succeeded, message: "", fence: dead) },
      { _ = try store.beginRun(environment: "prod", command: "x", planID: nil, actor: tester, fence: dead) },
      { try store.journalStepFinished(entryID: step, status: .succeeded, exitCode: 0, outputTail: "", duration: 1, fence: dead) },
    ] as [() throws -> Void] {
      #expect(throws: StoreError.self) { try write() }
    }
    #expect(try store.recorded("prod") == nil, "nothing written by the fenced holder")
    // The new holder writes and renews.
    _ = try store.record(draft(), expectedPrior: nil, actor: other, note: "taker", planID: nil, newLineage: false, fence: taken)
    let renewed = try store.renewLock(taken, ttl: 120)
    #expect(renewed.expiresAt > taken.expiresAt && renewed.generation == taken.generation)
  }

  @Test(arguments: Backend.allCases) func forceUnlockStillBreaksAHeldLease(_ backend: Backend) throws {
    let store = try backend.open(try backend.freshLocation())
    let held = try store.acquireLock("prod", actor: tester, ttl: 600)
    let run = try store.beginRun(environment: "prod", command: "hk apply prod", planID: nil, actor: tester, fence: held)
    #expect(throws: StoreError.lockMismatch(environment: "prod", lockID: "wrong", holder: held)) {
      try store.forceUnlock("prod", lockID: "wrong")
    }
    try store.forceUnlock("prod", lockID: held.lockID)
    #expect(try store.lock("prod") == nil)
    #expect(try store.runs("prod", limit: 1).first?.id == run)
    #expect(try store.runs("prod", limit: 1).first?.result == .interrupted)
    #expect(throws: StoreError.self) { try store.finishRun(runID: run, result: .succeeded, message: "", fence: held) }
    #expect(throws: StoreError.noSuchLock(environment: "prod", lockID: held.lockID)) { try store.releaseLock("prod", lockID: held.lockID) }
  }

  @Test(arguments: Backend.allCases) func tenAcquirersExactlyOneWins(_ backend: Backend) throws {
    let location = try backend.freshLocation()
    let stores = try (0..<10).map { _ in try backend.open(location) }
    let results = onThreads(10) { i in
      Result {
        try stores[i].acquireLock("prod", actor: StoreActor(user: "u\(i)", host: "h\(i)", pid: Int32(i + 1), command: "hk apply"), ttl: 60)
      }
    }
    let winners = results.compactMap { try? $0.get() }
    #expect(winners.count == 1)
    for case .failure(let error) in results {
      #expect((error as? StoreError) == .locked(winners[0]), "\(error)")
    }
  }

  /// What `hk state migrate` copies is everything but leases, identical on the other side.
  @Test(arguments: Backend.allCases) func aDumpCopiesIntoEveryBackendIdentically(_ target: Backend) throws {
    let source = try Backend.sqlite.open(try Backend.sqlite.freshLocation())
    let lock = try source.acquireLock("prod", actor: tester, ttl: 60)
    let first = try source.record(draft(), expectedPrior: nil, actor: tester, note: "one", planID: "p1", newLineage: false, fence: lock)
    var second = draft(pendingRolls: ["a"])
    second.gitCommit = "feedbeef"
    _ = try source.record(second, expectedPrior: first.prior, actor: tester, note: "two")
    _ = try source.record(draft("dev"), expectedPrior: nil, actor: tester, note: "dev")
    try source.savePlan(id: "p1", planJSON: "{}", bindings: [PlanBinding(environment: "prod", prior: nil, desiredDigest: "d")])
    let run = try source.beginRun(environment: "prod", command: "hk apply prod", planID: "p1", actor: tester)
    let entry = try source.journalStepStarted(runID: run, stepID: 1, kind: "kops-update", argv: ["kops", "update"])
    try source.journalStepFinished(entryID: entry, status: .succeeded, exitCode: 0, outputTail: "done", duration: 0.25)
    try source.finishRun(runID: run, result: .succeeded, message: "")
    try source.saveDriftReport(environment: "prod", status: "in-sync", reportJSON: "{}")
    let dump = try source.exportAll()

    let destination = try target.open(try target.freshLocation())
    #expect(try destination.isEmpty())
    try destination.importAll(dump, replacing: false)
    let copied = try destination.exportAll()
    #expect(copied.counts.map(\.count) == dump.counts.map(\.count))
    #expect(copied.digests.map(\.digest) == dump.digests.map(\.digest))
    #expect(try destination.history("prod").map(\.note) == ["two", "one"])
    #expect(try destination.recorded("prod")?.pendingRolls == ["a"])
    #expect(try destination.recorded("prod")?.gitCommit == "feedbeef")
    #expect(try destination.locks().isEmpty, "leases are not copied")
    #expect(throws: StoreError.self) { try destination.importAll(dump, replacing: false) }
    // New IDs continue after the copied ones.
    #expect(try destination.beginRun(environment: "prod", command: "x", planID: nil, actor: tester) > run)
    try destination.importAll(dump, replacing: true)
    #expect(try destination.exportAll().digests.map(\.digest) == dump.digests.map(\.digest))
  }
}
