import Foundation
import Model
import Store

/// Copies the recorded state from one location to another and verifies the copy (the work
/// behind `hk state migrate`). The source is opened read-only and never changed.
public enum MigrateOperation {

  /// One kind of record: how many the source and the copy hold, and the source's digest.
  public struct Row: Sendable {
    public var kind: String
    public var sourceCount: Int
    public var targetCount: Int
    public var digest: String?
  }

  public struct Result: Sendable {
    public var rows: [Row]
    /// What differs between the source and the copy (empty when verified).
    public var mismatches: [String]
  }

  /// Copies `source` to `target` (replacing what the target holds only with `force`), then reads
  /// the copy back and compares counts and digests.
  public static func run(source: String, target: String, force: Bool, notice: StoreAccess.Notice) throws -> Result {
    let sourceShown = StoreLocation.redact(source)
    let targetShown = StoreLocation.redact(target)
    guard try StoreLocation.parse(source) != StoreLocation.parse(target) else {
      throw CommandError.message("the target \(targetShown) is the source itself; pass another location with --to")
    }
    guard let from = try StoreAccess.openForReading(source, notice: notice) else {
      throw CommandError.message("nothing is recorded at \(sourceShown); nothing to migrate (check --state-db / HK_STATE_DB)")
    }
    let dump = try from.exportAll()
    let destination = try StoreAccess.open(target, notice: notice)
    if !force, try !destination.isEmpty() {
      throw CommandError.message(
        "the target \(targetShown) already holds recorded state; nothing was copied. Pass --force to replace it")
    }
    try destination.importAll(dump, replacing: force)
    let copied = try destination.exportAll()
    var rows: [Row] = []
    var mismatches: [String] = []
    let targetCounts = Dictionary(uniqueKeysWithValues: copied.counts.map { ($0.kind, $0.count) })
    let targetDigests = Dictionary(uniqueKeysWithValues: copied.digests.map { ($0.kind, $0.digest) })
    let sourceDigests = Dictionary(uniqueKeysWithValues: dump.digests.map { ($0.kind, $0.digest) })
    for (kind, count) in dump.counts {
      let copiedCount = targetCounts[kind] ?? -1
      let digest = sourceDigests[kind]
      if copiedCount != count { mismatches.append("\(kind): \(count) in the source, \(copiedCount) in the target") }
      if let digest, digest != targetDigests[kind] { mismatches.append("\(kind): the digests differ") }
      rows.append(Row(kind: kind, sourceCount: count, targetCount: copiedCount, digest: digest))
    }
    return Result(rows: rows, mismatches: mismatches)
  }
}
