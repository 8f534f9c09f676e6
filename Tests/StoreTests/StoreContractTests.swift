import Foundation
import HKTestSupport
import Model
import Testing

@testable import Store

/// The backends the contract suite runs against: every ``StateStoring`` must pass it alike.
enum Backend: String, CaseIterable, CustomTestStringConvertible, Sendable {
  case sqlite, postgres, s3

  var testDescription: String { rawValue }

  /// Every backend, or those named in `HK_TEST_BACKENDS` (comma-separated, e.g. `s3`) to run
  /// the suite on some of them while working on one.
  static var allCases: [Backend] {
    let all: [Backend] = [.sqlite, .postgres, .s3]
    guard let names = ProcessInfo.processInfo.environment["HK_TEST_BACKENDS"], !names.isEmpty else { return all }
    let chosen = names.split(separator: ",").compactMap { Backend(rawValue: String($0)) }
    return chosen.isEmpty ? all : chosen
  }

  /// A new, empty location of this backend: an SQLite file in a fresh directory, or a fresh
  /// database on the test PostgreSQL server (HK_TEST_POSTGRES_URL, else one started for the
  /// tests: never skipped silently), or an object in a fresh bucket of a moto server.
  func freshLocation() throws -> String {
    switch self {
    case .sqlite: return try ScratchDirectory().file("hk.sqlite")
    case .postgres: return try PostgresServer.freshDatabase()
    case .s3: return try S3TestBucket.freshLocation()
    }
  }

  /// A store opened through the one factory, as hk opens it.
  func open(_ location: String) throws -> any StateStoring {
    try #require(try StateStores.open(location).store)
  }
}

/// One contract, every backend: revisions and layers, compare-and-swap, saved plans, runs and
/// journal, leases, drift reports, history, and the dump `hk state migrate` copies.
@Suite struct StoreContractTests {
  @Test(arguments: Backend.allCases) func revisionsKeepTheirLayersAndHistory(_ backend: Backend) throws {
    let store = try backend.open(try backend.freshLocation())
    #expect(try store.recorded("prod") == nil)
    #expect(try store.environments().isEmpty)
    var d = draft(pendingRolls: ["nodes-a"], igwAttached: true)
    d.validated = false
    d.gitCommit = "0123abc-dirty"
    let first = try store.record(d, expectedPrior: nil, actor: tester, note: "apply step 1")
    #expect(first.serial == 1 && !first.lineage.isEmpty)
    #expect(first.pendingRolls == ["nodes-a"] && first.igwAttached && !first.validated && first.cloudUpdated)
    #expect(first.kopsVersion == "1.28.4" && first.desiredDigest == "sha256:abc" && first.gitCommit == "0123abc-dirty")
    #expect(try store.history("prod").first?.gitCommit == "0123abc-dirty")
    #expect(try store.recorded("prod") == first)
    let second = try store.record(draft(cluster: "kind: Cluster\n"), expectedPrior: first.prior, actor: tester, note: "apply 2")
    #expect(second.serial == 2 && second.lineage == first.lineage)
    #expect(try store.revision("prod", serial: 1) == first)
    #expect(try store.revision("prod", serial: 3) == nil)
    let history = try store.history("prod")
    #expect(history.map(\.serial) == [2, 1])
    #expect(history.last?.note == "apply step 1" && history.last?.createdBy == "alice@ci-runner-1")
    #expect(history.last?.command == "hk apply prod")
    _ = try store.record(draft("dev"), expectedPrior: nil, actor: tester, note: "import")
    let batch = try store.recorded(["prod", "dev", "nowhere"])
    #expect(batch.keys.sorted() == ["dev", "prod"] && batch["prod"] == second)
    let run = try store.beginRun(environment: "prod", command: "hk apply prod", planID: nil, actor: tester)
    try store.finishRun(runID: run, result: .failed, message: "step 3 failed")
    let envs = try store.environments()
    #expect(envs.map(\.name) == ["dev", "prod"])
    #expect(envs.last?.serial == 2 && envs.last?.lastRunResult == .failed && envs.first?.lastRunResult == nil)
  }

  @Test(arguments: Backend.allCases) func compareAndSwapOnSerialAndLineage(_ backend: Backend) throws {
    let store = try backend.open(try backend.freshLocation())
    let first = try store.record(draft(), expectedPrior: nil, actor: tester, note: "one")
    #expect(throws: StoreError.conflict(expected: nil, actual: first.prior)) {
      try store.record(draft(), expectedPrior: nil, actor: tester, note: "stale")
    }
    let wrongLineage = PriorState(serial: 1, lineage: "other")
    #expect(throws: StoreError.conflict(expected: wrongLineage, actual: first.prior)) {
      try store.amend(draft(), at: wrongLineage, actor: tester, note: "stale")
    }
    var layers = RecordedStateDraft(first)
    layers.cloudUpdated = false
    let amended = try store.amend(layers, at: first.prior, actor: tester, note: "amended")
    #expect(amended.serial == 1 && !amended.cloudUpdated)
    let forced = try store.record(draft(), expectedPrior: first.prior, actor: tester, note: "import --force", planID: nil, newLineage: true)
    #expect(forced.serial == 2 && forced.lineage != first.lineage)
    #expect(try store.history("prod").count == 2)
  }

  @Test(arguments: Backend.allCases) func tenRecordersWithOnePriorOneWins(_ backend: Backend) throws {
    let location = try backend.freshLocation()
    let base = try backend.open(location).record(draft(), expectedPrior: nil, actor: tester, note: "base")
    let stores = try (0..<10).map { _ in try backend.open(location) }
    let results = onThreads(10) { i in
      Result { try stores[i].record(draft(), expectedPrior: base.prior, actor: tester, note: "racer \(i)") }
    }
    #expect(results.filter { (try? $0.get()) != nil }.count == 1)
    for case .failure(let error) in results { #expect(error is StoreError, "\(error)") }
    #expect(try stores[0].recorded("prod")?.serial == 2)
  }

  @Test(arguments: Backend.allCases) func savedPlansRoundTrip(_ backend: Backend) throws {
    let store = try backend.open(try backend.freshLocation())
    let bindings = [
      PlanBinding(environment: "prod", prior: PriorState(serial: 3, lineage: "L"), desiredDigest: "sha256:1"),
      PlanBinding(environment: "dev", prior: nil, desiredDigest: "sha256:2"),
    ]
    try store.savePlan(id: "p1", planJSON: "{\"format_version\":\"1\"}", bindings: bindings)
    let saved = try #require(try store.savedPlan(id: "p1"))
    #expect(saved.environments == ["prod", "dev"] && saved.bindings == bindings && saved.planJSON.contains("format_version"))
    #expect(throws: StoreError.planExists(id: "p1")) { try store.savePlan(id: "p1", planJSON: "{}", bindings: []) }
    #expect(try store.savedPlan(id: "nope") == nil)
  }

  @Test(arguments: Backend.allCases) func runsAndTheirJournal(_ backend: Backend) throws {
    let store = try backend.open(try backend.freshLocation())
    let run = try store.beginRun(environment: "prod", command: "hk apply prod", planID: "p1", actor: tester)
    let a = try store.journalStepStarted(runID: run, stepID: 1, kind: "kops-replace", argv: ["kops", "replace", "-f", "-"])
    try store.journalStepFinished(entryID: a, status: .succeeded, exitCode: 0, outputTail: "ok\n", duration: 1.5)
    let b = try store.journalStepStarted(runID: run, stepID: 2, kind: "kops-update", argv: ["kops", "update"])
    try store.journalStepFinished(
      entryID: b, status: .failed, exitCode: 2, outputTail: String(repeating: "x", count: 70_000) + "end", duration: 3)
    try store.finishRun(runID: run, result: .failed, message: "step 2 failed")
    let journal = try store.journal(runID: run)
    #expect(journal.map(\.stepID) == [1, 2] && journal.map(\.status) == [.succeeded, .failed])
    #expect(journal[0].argv == ["kops", "replace", "-f", "-"] && journal[0].durationSeconds == 1.5 && journal[0].exitCode == 0)
    #expect(journal[1].outputTail.utf8.count == 64 * 1024 && journal[1].outputTail.hasSuffix("end"))
    let later = try store.beginRun(environment: "prod", command: "hk drift", planID: nil, actor: tester)
    let runs = try store.runs("prod", limit: 10)
    #expect(runs.map(\.id) == [later, run])
    #expect(runs[1].result == .failed && runs[1].planID == "p1" && runs[1].holder == "alice@ci-runner-1 pid 4242")
    #expect(runs[1].finishedAt != nil && runs[0].finishedAt == nil && runs[0].result == .running)
    #expect(throws: StoreError.noSuchRun(id: 99_999)) {
      try store.journalStepStarted(runID: 99_999, stepID: 1, kind: "x", argv: [])
    }
    #expect(throws: StoreError.noSuchJournalEntry(id: 99_999)) {
      try store.journalStepFinished(entryID: 99_999, status: .failed, exitCode: nil, outputTail: "", duration: 0)
    }
  }

  @Test(arguments: Backend.allCases) func driftReportsNewestFirst(_ backend: Backend) throws {
    let store = try backend.open(try backend.freshLocation())
    for status in ["in-sync", "drifted", "pending"] {
      try store.saveDriftReport(environment: "prod", status: status, reportJSON: "{\"status\":\"\(status)\"}")
    }
    try store.saveDriftReport(environment: "dev", status: "error", reportJSON: "{}")
    #expect(try store.driftReports("prod", limit: 2).map(\.status) == ["pending", "drifted"])
    #expect(try store.latestDriftReport("prod")?.reportJSON == "{\"status\":\"pending\"}")
    #expect(try store.latestDriftReport("staging") == nil)
  }
}
