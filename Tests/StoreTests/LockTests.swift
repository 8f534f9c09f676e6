import Foundation
import Model
import Testing

@testable import Store

@Suite struct LockTests {
  @Test func secondAcquireNamesTheHolder() throws {
    let store = try SQLiteStateStore(inMemory: true)
    let held = try store.acquireLock("prod", actor: tester)
    #expect(held.environment == "prod")
    #expect(UUID(uuidString: held.lockID) != nil)
    #expect(held.user == "alice")
    #expect(held.host == "ci-runner-1")
    #expect(held.pid == 4242)
    #expect(held.command == "hk apply prod")

    let other = StoreActor(user: "bob", host: "laptop", pid: 7, command: "hk apply prod --yes")
    let error = try #require(throws: StoreError.self) { try store.acquireLock("prod", actor: other) }
    #expect(error == .locked(held))
    let message = try #require(error.errorDescription)
    #expect(
      message.hasPrefix("environment prod is locked by alice@ci-runner-1 pid 4242 running 'hk apply prod' since "))
    #expect(message.contains("(lock ID \(held.lockID))"))
    #expect(message.hasSuffix("run 'hk lock unlock prod --force \(held.lockID)'"))

    // Other environments are independent.
    let dev = try store.acquireLock("dev", actor: other)
    #expect(try store.locks().map(\.environment) == ["dev", "prod"])
    #expect(try store.lock("prod") == held)
    #expect(dev.lockID != held.lockID)
  }

  @Test func releaseFreesTheLockOnlyForItsID() throws {
    let store = try SQLiteStateStore(inMemory: true)
    let held = try store.acquireLock("prod", actor: tester)
    #expect(throws: StoreError.lockMismatch(environment: "prod", lockID: "not-mine", holder: held)) {
      try store.releaseLock("prod", lockID: "not-mine")
    }
    #expect(try store.lock("prod") == held)

    try store.releaseLock("prod", lockID: held.lockID)
    #expect(try store.lock("prod") == nil)
    #expect(throws: StoreError.noSuchLock(environment: "prod", lockID: held.lockID)) {
      try store.releaseLock("prod", lockID: held.lockID)
    }
    let again = try store.acquireLock("prod", actor: tester)
    #expect(again.lockID != held.lockID)
  }

  @Test func forceUnlockNeedsTheCurrentLockID() throws {
    let store = try SQLiteStateStore(inMemory: true)
    let held = try store.acquireLock("prod", actor: tester)
    let run = try store.beginRun(environment: "prod", command: "hk apply prod", planID: nil, actor: tester)
    let step = try store.journalStepStarted(runID: run, stepID: 1, kind: "kops-update", argv: ["kops"])
    let otherRun = try store.beginRun(
      environment: "prod", command: "hk drift prod", planID: nil,
      actor: StoreActor(user: "carol", host: "h", pid: 1, command: "hk drift prod"))

    let error = try #require(throws: StoreError.self) { try store.forceUnlock("prod", lockID: "wrong-id") }
    #expect(error == .lockMismatch(environment: "prod", lockID: "wrong-id", holder: held))
    let message = try #require(error.errorDescription)
    #expect(message.contains("lock ID wrong-id does not hold environment prod"))
    #expect(message.contains("'hk lock unlock prod --force \(held.lockID)'"))
    #expect(try store.lock("prod") == held)

    try store.forceUnlock("prod", lockID: held.lockID)
    #expect(try store.lock("prod") == nil)
    #expect(throws: StoreError.noSuchLock(environment: "prod", lockID: held.lockID)) {
      try store.forceUnlock("prod", lockID: held.lockID)
    }
    // The holder's unfinished run is marked interrupted; another holder's run is left alone.
    let runs = Dictionary(uniqueKeysWithValues: try store.runs("prod", limit: 10).map { ($0.id, $0) })
    #expect(runs[run]?.result == .interrupted)
    #expect(runs[run]?.message.contains("force-unlocked") == true)
    #expect(runs[otherRun]?.result == .running)
    #expect(try store.journal(runID: run).first { $0.id == step }?.status == .interrupted)
    // The lock can be taken again.
    _ = try store.acquireLock("prod", actor: tester)
  }

  @Test func staleOnlyWhenTheHolderIsGoneFromThisHost() throws {
    let pid = try deadPID()
    let here = ProcessIdentity.hostName()
    let store = try SQLiteStateStore(inMemory: true)
    let dead = try store.acquireLock(
      "prod", actor: StoreActor(user: "alice", host: here, pid: pid, command: "hk apply prod"))
    #expect(dead.isStale)
    let alive = try store.acquireLock("dev", actor: .current(command: "hk apply dev"))
    #expect(alive.host == here)
    #expect(alive.pid == ProcessInfo.processInfo.processIdentifier)
    #expect(!alive.isStale)
    let elsewhere = try store.acquireLock(
      "qa", actor: StoreActor(user: "alice", host: here + "-elsewhere", pid: pid, command: "hk apply qa"))
    #expect(!elsewhere.isStale)

    // A stale lock is still a lock: only force-unlock removes it, and the message says the holder is gone.
    let error = try #require(throws: StoreError.self) {
      try store.acquireLock("prod", actor: .current(command: "hk apply prod"))
    }
    #expect(error.errorDescription?.contains("no longer exists") == true)
  }

  @Test func currentActorDescribesThisProcess() {
    let actor = StoreActor.current(command: "hk apply prod")
    #expect(!actor.user.isEmpty)
    #expect(!actor.host.isEmpty)
    #expect(actor.pid == ProcessInfo.processInfo.processIdentifier)
    #expect(actor.userAtHost == "\(actor.user)@\(actor.host)")
    #expect(actor.holder == "\(actor.user)@\(actor.host) pid \(actor.pid)")
  }
}
