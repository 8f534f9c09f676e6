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
    #expect(SQLiteStateStore.schemaMigrations.dropFirst().first?.hasPrefix("v2: ") == true)
    let path = try oldDatabase(in: scratch, migratedThrough: 1, sql: oldProdRevision)
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
