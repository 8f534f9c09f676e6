import Foundation
import GRDB
import Model
import Testing

@testable import Store

@Suite struct RevisionTests {
  @Test func freshFileIsMigratedInWALModeWithItsParentCreated() throws {
    let scratch = try ScratchDirectory()
    defer { scratch.remove() }
    let path = scratch.file("state/hk.sqlite")
    #expect(!exists(scratch.file("state")))

    let store = try SQLiteStateStore(path: path)
    #expect(exists(path))
    #expect(try store.appliedMigrations() == SQLiteStateStore.schemaMigrations)
    #expect(SQLiteStateStore.schemaMigrations.first?.hasPrefix("v1: ") == true)
    #expect(try store.scalarForTesting("PRAGMA journal_mode") == "wal")
    #expect(try store.scalarForTesting("PRAGMA foreign_keys") == "1")
    #expect(try store.integrityCheck() == "ok")
    let tables = try #require(
      try store.scalarForTesting(
        "SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_master WHERE type = 'table' "
          + "AND name NOT LIKE 'sqlite_%' ORDER BY name)"))
    #expect(
      tables.split(separator: ",").map(String.init)
        == ["driftReport", "environment", "grdb_migrations", "journal", "leaseGeneration", "lock", "plan", "revision", "run"])
    try store.close()

    // Reopening an up-to-date file migrates nothing and keeps the data.
    let again = try SQLiteStateStore(path: path)
    #expect(try again.appliedMigrations() == SQLiteStateStore.schemaMigrations)
  }

  @Test func recordThenReadBack() throws {
    let store = try SQLiteStateStore(inMemory: true)
    #expect(try store.recorded("prod") == nil)

    let written = try store.record(
      draft(pendingRolls: ["nodes-a"], igwAttached: true), expectedPrior: nil, actor: tester,
      note: "apply step 3 cluster-replace", planID: "plan-1", newLineage: false)
    #expect(written.serial == 1)
    #expect(UUID(uuidString: written.lineage) != nil)

    let read = try #require(try store.recorded("prod"))
    #expect(read == written)
    #expect(read.environment == "prod")
    #expect(read.clusterYAML == "kind: Cluster\nmetadata:\n  name: prod.k8s.corp.local\n")
    #expect(read.instanceGroupsYAML == ["kind: InstanceGroup\nmetadata:\n  name: nodes-a\n"])
    #expect(read.cloudUpdated)
    #expect(read.pendingRolls == ["nodes-a"])
    #expect(read.igwAttached)
    #expect(read.kopsVersion == "1.28.4")
    #expect(read.desiredDigest == "sha256:abc")
    #expect(try store.revision("prod", serial: 1) == written)
    #expect(try store.revision("prod", serial: 2) == nil)
    #expect(try store.recorded("dev") == nil)
  }

  /// A database written before layer 4 (schema v1 only) is migrated in place: its revisions
  /// count as validated, and the new layer is written and read back from then on.
  @Test func aVersion1DatabaseGainsTheValidatedLayer() throws {
    let scratch = try ScratchDirectory()
    defer { scratch.remove() }
    let path = try oldDatabase(in: scratch, migratedThrough: 0, sql: oldProdRevision)
    let store = try SQLiteStateStore(path: path)
    #expect(try store.appliedMigrations() == SQLiteStateStore.schemaMigrations)
    #expect(SQLiteStateStore.schemaMigrations.count == 6)
    let old = try #require(try store.recorded("prod"))
    #expect(old.validated && old.cloudUpdated && old.clusterYAML == "kind: Cluster")
    #expect(old.settings == nil)

    var layers = RecordedStateDraft(old)
    layers.validated = false
    let amended = try store.amend(layers, at: PriorState(serial: 1, lineage: "L"), actor: tester, note: "update applied")
    #expect(!amended.validated)
    #expect(try store.recorded("prod")?.validated == false)
    layers.validated = true
    let next = try store.record(layers, expectedPrior: PriorState(serial: 1, lineage: "L"), actor: tester, note: "validated")
    #expect(try store.recorded("prod") == next)
    #expect(next.validated && next.serial == 2)
    // Migration v6: settings are written and read back, on new revisions and amended ones.
    layers.settings = ["stateStore": "s3://a", "aws.region": "eu-west-1"]
    let withSettings = try store.amend(layers, at: PriorState(serial: 2, lineage: "L"), actor: tester, note: "settings")
    #expect(withSettings.settings == layers.settings)
    #expect(try store.recorded("prod")?.settings == ["stateStore": "s3://a", "aws.region": "eu-west-1"])
    #expect(try store.integrityCheck() == "ok")
  }

  /// A database written before v5 gains `updatedByKops`: a revision whose cloud was updated
  /// takes the kops version recorded with it, one that owed the update keeps none.
  @Test func aVersion2DatabaseGainsTheKopsVersionThatLastUpdated() throws {
    let scratch = try ScratchDirectory()
    defer { scratch.remove() }
    let path = try oldDatabase(
      in: scratch, migratedThrough: 1,
      sql: """
        INSERT INTO "environment" VALUES ('prod', 'L', 1, '2026-01-01 00:00:00.000');
        INSERT INTO "environment" VALUES ('dev', 'M', 1, '2026-01-01 00:00:00.000');
        INSERT INTO "revision" ("environment", "serial", "lineage", "clusterYAML", "instanceGroupsYAML",
          "cloudUpdated", "pendingRolls", "igwAttached", "kopsVersion", "createdAt", "createdBy", "command", "note")
        VALUES ('prod', 1, 'L', 'kind: Cluster', '[]', 1, '[]', 0, '1.28.4', '2026-01-01 00:00:00.000', 'a@b', 'hk apply', 'old'),
          ('dev', 1, 'M', 'kind: Cluster', '[]', 0, '[]', 0, '1.23.4', '2026-01-01 00:00:00.000', 'a@b', 'hk apply', 'old');
        """)
    let store = try SQLiteStateStore(path: path)
    #expect(try store.appliedMigrations() == SQLiteStateStore.schemaMigrations)
    #expect(try store.recorded("prod")?.updatedByKops == "1.28.4")
    #expect(try store.recorded("dev")?.updatedByKops == nil)
    var layers = RecordedStateDraft(try #require(try store.recorded("dev")))
    layers.updatedByKops = "1.23.5"
    let next = try store.record(layers, expectedPrior: PriorState(serial: 1, lineage: "M"), actor: tester, note: "updated")
    #expect(next.updatedByKops == "1.23.5")
    #expect(try store.recorded("dev")?.updatedByKops == "1.23.5")
  }

  /// The batch read returns each environment's current revision (the newest serial), leaves out
  /// names with nothing recorded, and agrees with the one-by-one read on both of its paths (a
  /// few names looked up, many names filtered from one scan).
  @Test func batchReadMatchesOneByOne() throws {
    let store = try SQLiteStateStore(inMemory: true)
    var names: [String] = []
    for i in 0..<260 {
      let name = "env-\(i)"
      names.append(name)
      let first = try store.record(draft(name, cloudUpdated: false), expectedPrior: nil, actor: tester, note: "apply step 1")
      if i % 3 == 0 {
        try store.record(
          draft(name), expectedPrior: PriorState(serial: first.serial, lineage: first.lineage), actor: tester, note: "apply step 2")
      }
    }
    let few = try store.recorded(["env-0", "env-1", "missing", "env-0"])
    #expect(Set(few.keys) == ["env-0", "env-1"])
    #expect(few["env-0"]?.serial == 2 && few["env-0"]?.cloudUpdated == true)
    #expect(few["env-1"]?.serial == 1 && few["env-1"]?.cloudUpdated == false)

    let many = try store.recorded(names + ["missing"])
    #expect(many.count == 260)
    for name in names { #expect(many[name] == (try store.recorded(name))) }
    let some = try store.recorded(Array(names.prefix(250)))
    #expect(Set(some.keys) == Set(names.prefix(250)))
    #expect(try store.recorded([]).isEmpty)
  }

  @Test func serialsIncrementInOneLineageAndHistoryIsNewestFirst() throws {
    let scratch = try ScratchDirectory()
    defer { scratch.remove() }
    let store = try SQLiteStateStore(path: scratch.file("hk.sqlite"))
    let first = try store.record(draft(cloudUpdated: false), expectedPrior: nil, actor: tester, note: "apply step 1")
    var layers = RecordedStateDraft(first)
    layers.cloudUpdated = true
    layers.pendingRolls = ["nodes-a", "nodes-b"]
    let second = try store.record(
      layers, expectedPrior: PriorState(serial: first.serial, lineage: first.lineage), actor: tester,
      note: "apply step 2 kops-update")
    layers.pendingRolls = []
    let third = try store.record(
      layers, expectedPrior: PriorState(serial: 2, lineage: first.lineage), actor: tester,
      note: "apply step 3 rolling-update", planID: "p-3", newLineage: false)

    #expect([first.serial, second.serial, third.serial] == [1, 2, 3])
    #expect(Set([first.lineage, second.lineage, third.lineage]).count == 1)
    #expect(try store.recorded("prod") == third)
    #expect(try store.revision("prod", serial: 2)?.pendingRolls == ["nodes-a", "nodes-b"])

    let history = try store.history("prod")
    #expect(history.map(\.serial) == [3, 2, 1])
    #expect(history.map(\.note) == ["apply step 3 rolling-update", "apply step 2 kops-update", "apply step 1"])
    #expect(history.map(\.planID) == ["p-3", nil, nil])
    #expect(history.map(\.cloudUpdated) == [true, true, false])
    #expect(history.allSatisfy { $0.createdBy == "alice@ci-runner-1" && $0.command == "hk apply prod" })
    #expect(history[0].createdAt >= history[2].createdAt)
    #expect(try store.history("dev").isEmpty)
  }

  /// The file is read by people with `sqlite3`: lists are JSON text, times sort as text.
  @Test func storedColumnFormats() throws {
    let store = try SQLiteStateStore(inMemory: true)
    try store.record(
      draft(groups: ["a: 1\n", "b: \"x\"\n"], pendingRolls: ["nodes-a"]), expectedPrior: nil, actor: tester,
      note: "n")
    #expect(try store.scalarForTesting(#"SELECT "instanceGroupsYAML" FROM "revision""#) == #"["a: 1\n","b: \"x\"\n"]"#)
    #expect(try store.scalarForTesting(#"SELECT "pendingRolls" FROM "revision""#) == #"["nodes-a"]"#)
    let created = try #require(try store.scalarForTesting(#"SELECT "createdAt" FROM "revision""#))
    #expect(created.wholeMatch(of: /\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}/) != nil, "\(created)")
    let run = try store.beginRun(environment: "prod", command: "hk apply prod", planID: nil, actor: tester)
    _ = try store.journalStepStarted(runID: run, stepID: 1, kind: "kops-update", argv: ["kops", "a/b"])
    #expect(try store.scalarForTesting(#"SELECT "argvJSON" FROM "journal""#) == #"["kops","a/b"]"#)
  }

  @Test func compareAndSwapRefusesAMovedPrior() throws {
    let store = try SQLiteStateStore(inMemory: true)
    // A first write bound to a prior that does not exist.
    let ghost = PriorState(serial: 4, lineage: "0000")
    #expect(throws: StoreError.conflict(expected: ghost, actual: nil)) {
      try store.record(draft(), expectedPrior: ghost, actor: tester, note: "x")
    }
    #expect(try store.recorded("prod") == nil)

    let first = try store.record(draft(), expectedPrior: nil, actor: tester, note: "first")
    let current = PriorState(serial: 1, lineage: first.lineage)
    // A plan made against the empty state is stale now.
    #expect(throws: StoreError.conflict(expected: nil, actual: current)) {
      try store.record(draft(), expectedPrior: nil, actor: tester, note: "late")
    }
    // Right serial, other lineage; other serial, right lineage.
    #expect(throws: StoreError.conflict(expected: PriorState(serial: 1, lineage: "other"), actual: current)) {
      try store.record(draft(), expectedPrior: PriorState(serial: 1, lineage: "other"), actor: tester, note: "x")
    }
    let error = try #require(throws: StoreError.self) {
      try store.record(draft(), expectedPrior: PriorState(serial: 0, lineage: first.lineage), actor: tester, note: "x")
    }
    let message = try #require(error.errorDescription)
    #expect(message.contains("expected serial 0"))
    #expect(message.contains("found serial 1"))
    #expect(message.contains("hk plan"))
    // Nothing was written by the refused calls.
    #expect(try store.history("prod").map(\.serial) == [1])
  }

  @Test func newLineageKeepsCountingSerials() throws {
    let store = try SQLiteStateStore(inMemory: true)
    let first = try store.record(draft(), expectedPrior: nil, actor: tester, note: "import")
    let imported = try store.record(
      draft(), expectedPrior: PriorState(serial: 1, lineage: first.lineage), actor: tester, note: "import --force",
      planID: nil, newLineage: true)
    #expect(imported.serial == 2)
    #expect(imported.lineage != first.lineage)
    #expect(try store.recorded("prod")?.lineage == imported.lineage)
    #expect(try store.history("prod").map(\.lineage) == [imported.lineage, first.lineage])
  }

  @Test func environmentsListsCurrentSerialAndLastRun() throws {
    let store = try SQLiteStateStore(inMemory: true)
    #expect(try store.environments().isEmpty)
    let prod = try store.record(draft("prod"), expectedPrior: nil, actor: tester, note: "a")
    try store.record(
      draft("prod"), expectedPrior: PriorState(serial: 1, lineage: prod.lineage),
      actor: StoreActor(user: "bob", host: "laptop", pid: 1, command: "hk apply prod"), note: "b")
    try store.record(draft("dev"), expectedPrior: nil, actor: tester, note: "a")
    let run = try store.beginRun(environment: "prod", command: "hk apply prod", planID: nil, actor: tester)
    try store.finishRun(runID: run, result: .failed, message: "kops update failed")

    let list = try store.environments()
    #expect(list.map(\.name) == ["dev", "prod"])
    #expect(list.map(\.serial) == [1, 2])
    #expect(list[1].lineage == prod.lineage)
    #expect(list[1].lastAppliedBy == "bob@laptop")
    #expect(list.map(\.lastRunResult) == [nil, .failed])
  }

  @Test func savedPlansRoundTripWithTheirBindings() throws {
    let store = try SQLiteStateStore(inMemory: true)
    let bindings = [
      PlanBinding(environment: "prod", prior: PriorState(serial: 7, lineage: "l-1"), desiredDigest: "sha256:1"),
      PlanBinding(environment: "dev", prior: nil, desiredDigest: "sha256:2"),
    ]
    let json = #"{"format_version":"1","environments":[]}"#
    try store.savePlan(id: "6f1c", planJSON: json, bindings: bindings)

    let plan = try #require(try store.savedPlan(id: "6f1c"))
    #expect(plan.id == "6f1c")
    #expect(plan.planJSON == json)
    #expect(plan.environments == ["prod", "dev"])
    #expect(plan.bindings == bindings)
    #expect(try store.savedPlan(id: "nope") == nil)
    #expect(throws: StoreError.planExists(id: "6f1c")) {
      try store.savePlan(id: "6f1c", planJSON: "{}", bindings: [])
    }
    #expect(try store.savedPlan(id: "6f1c")?.planJSON == json)
  }

  @Test func runsAndTheirJournal() throws {
    let store = try SQLiteStateStore(inMemory: true)
    let run = try store.beginRun(environment: "prod", command: "hk apply prod", planID: "p1", actor: tester)
    let update = ["kops", "update", "cluster", "prod.k8s.corp.local", "--yes", "--state", "s3://x"]
    let one = try store.journalStepStarted(runID: run, stepID: 1, kind: "igw-attach", argv: ["aws", "ec2"])
    try store.journalStepFinished(entryID: one, status: .succeeded, exitCode: 0, outputTail: "ok\n", duration: 1.5)
    let two = try store.journalStepStarted(runID: run, stepID: 2, kind: "kops-update", argv: update)
    #expect(two > one)

    var runs = try store.runs("prod", limit: 10)
    #expect(runs.count == 1)
    #expect(runs[0].result == .running)
    #expect(runs[0].finishedAt == nil)
    #expect(runs[0].holder == "alice@ci-runner-1 pid 4242")
    #expect(runs[0].planID == "p1")

    let longOutput = String(repeating: "é", count: 40_000) + "END"
    try store.journalStepFinished(entryID: two, status: .failed, exitCode: 1, outputTail: longOutput, duration: 2)
    try store.finishRun(runID: run, result: .failed, message: "step 2 kops-update failed")

    let journal = try store.journal(runID: run)
    #expect(journal.map(\.stepID) == [1, 2])
    #expect(journal.map(\.kind) == ["igw-attach", "kops-update"])
    #expect(journal[1].argv == update)
    #expect(journal.map(\.status) == [.succeeded, .failed])
    #expect(journal.map(\.exitCode) == [0, 1])
    #expect(journal[0].outputTail == "ok\n")
    #expect(journal[0].durationSeconds == 1.5)
    #expect(journal[1].outputTail.hasSuffix("éEND"))
    #expect(journal[1].outputTail.utf8.count <= SQLiteStateStore.maximumOutputTailBytes)
    #expect(journal[1].outputTail.first == "é")
    #expect(journal.allSatisfy { $0.finishedAt != nil })

    runs = try store.runs("prod", limit: 10)
    #expect(runs[0].result == .failed)
    #expect(runs[0].message == "step 2 kops-update failed")
    #expect(runs[0].finishedAt != nil)

    let later = try store.beginRun(environment: "prod", command: "hk apply prod", planID: nil, actor: tester)
    #expect(try store.runs("prod", limit: 10).map(\.id) == [later, run])
    #expect(try store.runs("prod", limit: 1).map(\.id) == [later])
    #expect(try store.runs("dev", limit: 10).isEmpty)
    #expect(try store.journal(runID: later).isEmpty)
  }

  @Test func unknownRunsAndEntriesAreRefused() throws {
    let store = try SQLiteStateStore(inMemory: true)
    #expect(throws: StoreError.noSuchRun(id: 99)) {
      try store.finishRun(runID: 99, result: .succeeded, message: "")
    }
    #expect(throws: StoreError.noSuchRun(id: 99)) {
      _ = try store.journalStepStarted(runID: 99, stepID: 1, kind: "validate", argv: [])
    }
    #expect(throws: StoreError.noSuchJournalEntry(id: 5)) {
      try store.journalStepFinished(entryID: 5, status: .failed, exitCode: nil, outputTail: "", duration: 0)
    }
  }

  @Test func driftReportsNewestFirst() throws {
    let store = try SQLiteStateStore(inMemory: true)
    #expect(try store.latestDriftReport("prod") == nil)
    try store.saveDriftReport(environment: "prod", status: "in-sync", reportJSON: #"{"status":"in-sync"}"#)
    try store.saveDriftReport(environment: "dev", status: "error", reportJSON: "{}")
    try store.saveDriftReport(environment: "prod", status: "drifted", reportJSON: #"{"status":"drifted"}"#)

    #expect(try store.latestDriftReport("prod")?.status == "drifted")
    #expect(try store.latestDriftReport("prod")?.reportJSON == #"{"status":"drifted"}"#)
    #expect(try store.driftReports("prod", limit: 10).map(\.status) == ["drifted", "in-sync"])
    #expect(try store.driftReports("prod", limit: 1).count == 1)
    #expect(try store.driftReports("dev", limit: 10).map(\.status) == ["error"])
  }

  @Test func journalIsDeletedWithItsRun() throws {
    let store = try SQLiteStateStore(inMemory: true)
    let run = try store.beginRun(environment: "prod", command: "hk apply prod", planID: nil, actor: tester)
    _ = try store.journalStepStarted(runID: run, stepID: 1, kind: "validate", argv: ["kops"])
    try store.executeForTesting(#"DELETE FROM "run" WHERE "id" = \#(run)"#)
    #expect(try store.journal(runID: run).isEmpty)
    #expect(try store.integrityCheck() == "ok")
  }
}
