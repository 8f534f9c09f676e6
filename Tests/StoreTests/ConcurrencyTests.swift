import Foundation
import Model
import Testing

@testable import Store

/// Several hk processes share one file: each test opens one store per "process" (each a
/// separate SQLite connection with its own file locks) on its own thread.
@Suite struct ConcurrencyTests {
  @Test func tenRacersOnAFreshFileAllOpenIt() throws {
    let scratch = try ScratchDirectory()
    defer { scratch.remove() }
    let path = scratch.file("state/hk.sqlite")
    let outcomes = onThreads(10) { _ in
      Result { try SQLiteStateStore(path: path).appliedMigrations() }
    }
    #expect(outcomes.count == 10)
    for outcome in outcomes {
      #expect(try outcome.get() == SQLiteStateStore.schemaMigrations)
    }
    #expect(try SQLiteStateStore(path: path).integrityCheck() == "ok")
  }

  @Test func tenRacersForOneLockExactlyOneWins() throws {
    let scratch = try ScratchDirectory()
    defer { scratch.remove() }
    let path = scratch.file("hk.sqlite")
    let check = try SQLiteStateStore(path: path)

    // Like ten `hk apply prod` started at once: each opens the file, then takes the lock.
    let outcomes = onThreads(10) { index in
      Result {
        let actor = StoreActor(
          user: "ci", host: "runner-\(index)", pid: Int32(1000 + index), command: "hk apply prod")
        return try SQLiteStateStore(path: path).acquireLock("prod", actor: actor)
      }
    }
    let winners = outcomes.compactMap { try? $0.get() }
    #expect(winners.count == 1)
    let winner = try #require(winners.first)
    for outcome in outcomes {
      guard case .failure(let error) = outcome else { continue }
      #expect(error as? StoreError == .locked(winner), "a loser got \(error)")
    }
    #expect(try check.locks() == [winner])
    #expect(try check.integrityCheck() == "ok")
  }

  @Test func tenRecordersWithTheSamePriorExactlyOneWrites() throws {
    let scratch = try ScratchDirectory()
    defer { scratch.remove() }
    let path = scratch.file("hk.sqlite")
    let first = try SQLiteStateStore(path: path).record(draft(), expectedPrior: nil, actor: tester, note: "base")
    let prior = PriorState(serial: first.serial, lineage: first.lineage)
    let stores = try (0..<10).map { _ in try SQLiteStateStore(path: path) }

    let outcomes = onThreads(10) { index in
      Result { try stores[index].record(draft(), expectedPrior: prior, actor: tester, note: "racer \(index)") }
    }
    #expect(outcomes.filter { (try? $0.get()) != nil }.count == 1)
    let conflicts = outcomes.filter {
      if case .failure(let error) = $0, case .conflict = error as? StoreError { return true }
      return false
    }
    #expect(conflicts.count == 9)
    #expect(try stores[0].history("prod").map(\.serial) == [2, 1])
  }

  @Test func writersWaitForALongTransactionAndReadersDoNot() throws {
    let scratch = try ScratchDirectory()
    defer { scratch.remove() }
    let path = scratch.file("hk.sqlite")
    let holder = try SQLiteStateStore(path: path)
    try holder.record(draft(), expectedPrior: nil, actor: tester, note: "base")
    let writer = try SQLiteStateStore(path: path)
    let reader = try SQLiteStateStore(path: path)

    let outcomes = onThreads(3) { index -> Result<Double, any Error> in
      let clock = ContinuousClock()
      switch index {
      case 0:
        return Result {
          try holder.holdingWriteLockForTesting { Thread.sleep(forTimeInterval: 1.5) }
          return 0
        }
      case 1:
        Thread.sleep(forTimeInterval: 0.3)
        let start = clock.now
        return Result {
          _ = try writer.acquireLock("prod", actor: tester)
          return (clock.now - start) / .seconds(1)
        }
      default:
        Thread.sleep(forTimeInterval: 0.3)
        let start = clock.now
        return Result {
          _ = try reader.recorded("prod")
          _ = try reader.locks()
          return (clock.now - start) / .seconds(1)
        }
      }
    }
    let waited = try outcomes[1].get()
    let read = try outcomes[2].get()
    #expect(waited > 0.5, "the writer should have waited for the transaction")
    #expect(read < 1.0, "a reader must not wait for a writer in WAL mode")
    #expect(try reader.lock("prod") != nil)
  }

  /// A real second process (the sqlite3 shell) holds the write lock; hk waits instead of failing.
  @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/sqlite3")))
  func anotherProcessHoldingTheWriteLockMakesUsWait() throws {
    let scratch = try ScratchDirectory()
    defer { scratch.remove() }
    let path = scratch.file("hk.sqlite")
    let store = try SQLiteStateStore(path: path)
    let marker = scratch.file("began")

    let shell = Process()
    shell.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
    shell.arguments = [path]
    let input = Pipe()
    shell.standardInput = input
    shell.standardOutput = FileHandle.nullDevice
    try shell.run()
    let script = """
      .timeout 10000
      BEGIN IMMEDIATE;
      INSERT INTO "driftReport" ("environment", "createdAt", "status", "reportJSON")
        VALUES ('prod', '2026-01-01 00:00:00.000', 'in-sync', '{}');
      .shell touch '\(marker)'
      .shell sleep 2
      COMMIT;

      """
    input.fileHandleForWriting.write(Data(script.utf8))
    try input.fileHandleForWriting.close()

    let deadline = Date().addingTimeInterval(10)
    while !exists(marker), Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
    #expect(exists(marker), "the sqlite3 shell never began its transaction")
    let start = ContinuousClock.now
    let lock = try store.acquireLock("prod", actor: tester)
    let waited = (ContinuousClock.now - start) / .seconds(1)
    shell.waitUntilExit()

    #expect(shell.terminationStatus == 0)
    #expect(waited > 0.5)
    #expect(try store.lock("prod") == lock)
    #expect(try store.latestDriftReport("prod")?.status == "in-sync")
  }
}
