import Foundation
import GRDB
import HKTestSupport
import Model
import Store
import Testing

/// A previous drift report that cannot be read is said, never silently taken as "nothing seen
/// before" (issue 14: failures are never swallowed).
@Suite struct DriftHistoryDamageTests {
  @Test func anUnreadablePreviousReportIsAWarningAndDriftStillReports() throws {
    let w = try World()
    let applied = try w.apply(["dev"])
    try #require(applied.exitCode == 0, "\(applied)")
    let first = try w.hk(["drift", "dev"])
    try #require(first.exitCode == 0, "\(first)")
    #expect(!first.stderr.contains("previous drift report"), "\(first)")
    // Damage the stored report as another tool might.
    let queue = try DatabaseQueue(path: w.stateDB)
    try queue.write { db in
      try db.execute(sql: #"UPDATE "driftReport" SET "reportJSON" = '{"not": "a report"' WHERE "environment" = 'dev'"#)
    }
    try queue.close()
    let second = try w.hk(["drift", "dev"])
    #expect(second.exitCode == 0, "\(second)")
    #expect(second.stderr.contains("warning: dev: cannot read the previous drift report"), "\(second)")
    #expect(second.stdout.contains("in sync"), "\(second)")
  }
}
