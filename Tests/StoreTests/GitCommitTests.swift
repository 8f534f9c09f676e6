import Foundation
import GRDB
import Model
import Testing

@testable import Store

/// Migration v3: revisions record the git commit of the desired files they were applied from.
@Suite struct GitCommitTests {
  @Test func aVersion2DatabaseGainsTheCommitColumn() throws {
    let scratch = try ScratchDirectory()
    defer { scratch.remove() }
    let path = scratch.file("hk.sqlite")
    let v2 = try #require(SQLiteStateStore.schemaMigrations.dropFirst().first)
    #expect(v2.hasPrefix("v2: "))
    do {
      let queue = try DatabaseQueue(path: path)
      try Schema.migrator.migrate(queue, upTo: v2)
      try queue.write { db in
        try db.execute(
          sql: """
            INSERT INTO "environment" VALUES ('prod', 'L', 1, '2026-01-01 00:00:00.000');
            INSERT INTO "revision" ("environment", "serial", "lineage", "clusterYAML", "instanceGroupsYAML",
              "cloudUpdated", "pendingRolls", "igwAttached", "createdAt", "createdBy", "command", "note")
            VALUES ('prod', 1, 'L', 'kind: Cluster', '[]', 1, '[]', 0, '2026-01-01 00:00:00.000', 'a@b', 'hk apply', 'old');
            """)
      }
    }
    let store = try SQLiteStateStore(path: path)
    #expect(try store.appliedMigrations() == SQLiteStateStore.schemaMigrations)
    #expect(SQLiteStateStore.schemaMigrations.contains { $0.hasPrefix("v3: revision.gitCommit") })
    let old = try #require(try store.recorded("prod"))
    #expect(old.gitCommit == nil)

    var draft = RecordedStateDraft(old)
    draft.gitCommit = "0123456789abcdef0123456789abcdef01234567"
    let next = try store.record(draft, expectedPrior: PriorState(serial: 1, lineage: "L"), actor: tester, note: "applied")
    #expect(next.gitCommit == draft.gitCommit)
    #expect(try store.recorded("prod")?.gitCommit == draft.gitCommit)
    #expect(try store.history("prod").first { $0.serial == 2 }?.gitCommit == draft.gitCommit)
    draft.gitCommit = "0123456789abcdef0123456789abcdef01234567-dirty"
    let amended = try store.amend(draft, at: PriorState(serial: 2, lineage: "L"), actor: tester, note: "amended")
    #expect(amended.gitCommit == draft.gitCommit)
    #expect(try store.revision("prod", serial: 1)?.gitCommit == nil)
  }
}
