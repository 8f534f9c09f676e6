import Foundation
import GRDB
import HKTestSupport
import Model
import Store
import Testing

/// Issue 14: a recorded state whose YAML cannot be read is an error naming the environment, the
/// serial and the way out, never an empty state (planned over as empty, hk would create what
/// exists and then record over the revision). `hk plan` and `hk apply` refuse; nothing is written.
@Suite struct RecordedDamageTests {
  /// How a revision's recorded YAML is damaged (raw SQL on the real state file).
  enum Damage: String, CaseIterable, Sendable {
    /// The cluster document is gone: only a comment is left (no document).
    case clusterWithoutDocument
    /// An instance group's text is empty (no document).
    case emptyInstanceGroup
    /// The cluster is a YAML scalar, not a mapping.
    case clusterNotAMapping
    /// The cluster is not YAML at all.
    case clusterSyntaxError

    var sql: String {
      switch self {
      case .clusterWithoutDocument: #"UPDATE "revision" SET "clusterYAML" = '# damaged'"#
      case .emptyInstanceGroup: #"UPDATE "revision" SET "instanceGroupsYAML" = json_set("instanceGroupsYAML", '$[0]', '')"#
      case .clusterNotAMapping: #"UPDATE "revision" SET "clusterYAML" = 'damaged'"#
      case .clusterSyntaxError: #"UPDATE "revision" SET "clusterYAML" = 'kind: Cluster' || char(10) || 'spec: [unclosed'"#
      }
    }
  }

  @Test(arguments: Damage.allCases)
  func planAndApplyRefuseARevisionThatCannotBeRead(_ damage: Damage) throws {
    let w = try World()
    let applied = try w.apply(["dev"])
    try #require(applied.exitCode == 0, "\(applied)")
    let serial = try #require(try w.store().recorded("dev")?.serial)
    let queue = try DatabaseQueue(path: w.stateDB)
    try queue.write { db in try db.execute(sql: damage.sql + #" WHERE "environment" = 'dev'"#) }
    try queue.close()
    let damaged = try #require(try w.store().recorded("dev"))
    let runs = try w.store().runs("dev", limit: 100).count
    let calls = w.kops.completedCalls().count

    for args in [["plan", "dev"], ["apply", "dev", "--yes"]] {
      let r = try w.hk(args)
      let output = r.stdout + r.stderr
      #expect(r.exitCode == 1, "\(args): \(r)")
      #expect(output.contains("environment dev: recorded revision \(serial) cannot be read"), "\(args): \(r)")
      // Every error hk ends with starts as argument-parser's do.
      #expect(r.stderr.hasPrefix("Error: "), "\(args): \(r)")
      #expect(output.contains("hk import dev --force") && output.contains("hk state show dev"), "\(args): \(r)")
      #expect(!output.contains("create cluster"), "\(args): \(r)")
    }
    // Nothing ran, nothing was recorded: the damaged revision is still the current one.
    #expect(w.kops.completedCalls().count == calls)
    let after = try w.store()
    #expect(try after.recorded("dev") == damaged)
    #expect(try after.history("dev").count == Int(serial))
    #expect(try after.runs("dev", limit: 100).count == runs)
  }
}
