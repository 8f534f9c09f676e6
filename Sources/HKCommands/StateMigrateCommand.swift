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
      guard try StoreLocation.parse(global.stateDBPath) != StoreLocation.parse(target) else {
        throw CommandError.message("the target \(targetShown) is the source itself; pass another location with --to")
      }
      guard let source = try StoreAccess.openForReading(global.stateDBPath) else {
        throw CommandError.message("nothing is recorded at \(sourceShown); nothing to migrate (check --state-db / HK_STATE_DB)")
      }
      let dump = try source.exportAll()
      let destination = try StoreAccess.open(target)
      if !force, try !destination.isEmpty() {
        throw CommandError.message(
          "the target \(targetShown) already holds recorded state; nothing was copied. Pass --force to replace it")
      }
      try destination.importAll(dump, replacing: force)
      let copied = try destination.exportAll()
      var table = [["KIND", "SOURCE", "TARGET", "DIGEST (SHA-256)"]]
      var mismatches: [String] = []
      let targetCounts = Dictionary(uniqueKeysWithValues: copied.counts.map { ($0.kind, $0.count) })
      let targetDigests = Dictionary(uniqueKeysWithValues: copied.digests.map { ($0.kind, $0.digest) })
      let sourceDigests = Dictionary(uniqueKeysWithValues: dump.digests.map { ($0.kind, $0.digest) })
      for (kind, count) in dump.counts {
        let copiedCount = targetCounts[kind] ?? -1
        let digest = sourceDigests[kind]
        if copiedCount != count { mismatches.append("\(kind): \(count) in the source, \(copiedCount) in the target") }
        if let digest, digest != targetDigests[kind] { mismatches.append("\(kind): the digests differ") }
        table.append([kind, String(count), String(copiedCount), digest.map { String($0.prefix(16)) } ?? "-"])
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
