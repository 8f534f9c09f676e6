import Foundation
import GRDB
import HKTestSupport
import Model
import Store
import Testing

/// Issue 14: a journal or state write that fails is never swallowed. The database breaks while
/// hk runs (a trigger installed by the kops wrapper once hk has opened the file and checked its
/// schema, as the crash matrix's ``CrashScenario/FinishRunDelay`` does): apply stops before its
/// next step and says so; import says its run could not be recorded.
@Suite(.serialized) struct RecordingFailureTests {
  /// A kops that, on its first call, makes every later write to `table` fail (`when` limits
  /// it), then runs the kops double.
  static func breakingKops(_ w: World, table: String, when: String = "") throws -> String {
    let python = try #require(resolveTool("python3"), "python3 is needed to break the database")
    let sql = """
      CREATE TRIGGER "break_\(table)" BEFORE UPDATE ON "\(table)" \(when)
      BEGIN SELECT RAISE(ABORT, 'injected: the disk refused the write'); END
      """
    _ = try w.dir.write(
      "bin/break.py",
      "import sqlite3, sys\nc = sqlite3.connect(sys.argv[1], timeout=30)\nc.execute(sys.argv[2])\nc.commit()\n")
    let marker = w.dir.path + "/bin/broken-\(table)"
    let script = """
      #!/bin/sh
      if [ ! -e '\(marker)' ]; then
        : >'\(marker)'
        '\(python)' '\(w.dir.path)/bin/break.py' '\(w.stateDB)' '\(sql.replacingOccurrences(of: "'", with: "'\\''"))' || exit 99
      fi
      FAKE_KOPS_VERSION=1.23.4 exec '\(w.kops.binary)' "$@"

      """
    let path = w.dir.path + "/bin/kops-breaking-\(table)"
    _ = try w.dir.write("bin/kops-breaking-\(table)", script)
    chmod(path, 0o755)
    return path
  }

  /// Removes the trigger (hk is done) so that the test can read the state as hk left it.
  static func repair(_ w: World, table: String) throws {
    let queue = try DatabaseQueue(path: w.stateDB)
    try queue.write { try $0.execute(sql: "DROP TRIGGER IF EXISTS \"break_\(table)\"") }
    try queue.close()
  }

  @Test func aJournalWriteThatFailsStopsTheApplyBeforeTheNextStep() throws {
    let w = try World()
    let kops = try Self.breakingKops(w, table: "journal")
    let r = try w.apply(["dev"], extra: ["--kops", kops])
    // Before: the failed writes were ignored and the apply ran all five steps unjournaled.
    #expect(r.exitCode == 1, "\(r)")
    #expect(r.stdout.contains("dev: apply failed."), "\(r)")
    #expect(r.stdout.contains("the journal could not record the end of"), "\(r)")
    #expect(r.stdout.contains("injected: the disk refused the write"), "\(r)")
    #expect(r.stdout.contains("(before step 1, "), "\(r)")
    #expect(r.stdout.contains("Next:    run 'hk apply dev' again once the state database is reachable"), "\(r)")
    // Nothing ran past the pre-flight reads, nothing was recorded, the run says it failed and
    // the lease is released.
    #expect(w.successfulCalls("create").isEmpty && w.successfulCalls("update").isEmpty)
    #expect(try w.attachedVPCs("dev").isEmpty)
    try Self.repair(w, table: "journal")
    let store = try w.store()
    #expect(try store.recorded("dev") == nil)
    #expect(try store.runs("dev", limit: 1).first?.result == .failed)
    #expect(try store.locks().isEmpty)
  }

  @Test func aRunEndThatCannotBeRecordedFailsTheImport() throws {
    let w = try World()
    #expect(try w.apply(["dev"]).exitCode == 0)
    for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: w.stateDB + suffix) }
    let kops = try Self.breakingKops(w, table: "run")
    let r = try w.hk(["import", "dev", "--kops", kops])
    // Before: `try?` on finishRun, so the import exited 0 and left its run `running`.
    #expect(r.exitCode == 1, "\(r)")
    #expect(r.stderr.contains("could not be recorded: "), "\(r)")
    #expect(r.stderr.contains("injected: the disk refused the write"), "\(r)")
    #expect(r.stderr.contains("'hk state show dev --run "), "\(r)")
    try Self.repair(w, table: "run")
    let store = try w.store()
    #expect(try store.recorded("dev")?.serial == 1)
    #expect(try store.locks().isEmpty)
  }
}
