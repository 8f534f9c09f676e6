import ArgumentParser
import Foundation
import Model
import Operations
import Store

extension HK.StateCommand {
  /// `hk state migrate --to LOCATION [--force]`: copies every revision, run, journal entry, saved
  /// plan and drift report (not the leases) to another backend, then verifies counts and digests.
  public struct Migrate: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
      commandName: "migrate",
      abstract: "Copy the recorded state (everything but leases) to another location, e.g. SQLite → PostgreSQL, and verify it.",
      discussion: """
        The source (--state-db / HK_STATE_DB) is opened read-only and never changed. A target that holds \
        state already is refused unless --force, which replaces what it holds.
        """)
    @OptionGroup public var global: GlobalOptions
    @Option(name: .customLong("to"), help: "The target location: PATH, sqlite:PATH or postgres://….") public var target: String
    @Flag(help: "Replace what the target holds.") public var force = false
    public init() {}

    public func run() async throws {
      let term = global.terminal
      let sourceShown = StoreLocation.redact(global.stateDBPath)
      let targetShown = StoreLocation.redact(target)
      let result = try MigrateOperation.run(source: global.stateDBPath, target: target, force: force, notice: { term.err($0) })
      let mismatches = result.mismatches
      var table = [["KIND", "SOURCE", "TARGET", "DIGEST (SHA-256)"]]
      for r in result.rows {
        table.append([r.kind, String(r.sourceCount), String(r.targetCount), r.digest.map { String($0.prefix(16)) } ?? "-"])
      }
      term.out(Format.table(table))
      guard mismatches.isEmpty else {
        throw CommandError.message(
          "the copy in \(targetShown) differs from the source: \(mismatches.joined(separator: "; ")); "
            + "do not use the target; retry with --force")
      }
      term.out(
        "Migrated \(sourceShown) → \(targetShown): counts and digests verified. Leases are not copied. "
          + "Point hk at the new location with --state-db or HK_STATE_DB.\n")
    }
  }
}
