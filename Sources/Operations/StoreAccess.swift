import Foundation
import Model
import Store
import Synchronization

/// Opens the state location the way each command needs it, through the one factory
/// (``StateStores``): no command knows which backend it has.
public enum StoreAccess {
  /// For read-only commands (plan, state, lock list, drift history): nothing is created or
  /// migrated; a location where hk never wrote is an empty state (nil), said once on stderr.
  ///
  /// With `snapshot` (the default) the database is opened read-only; commands that write
  /// (drift records its report, lock unlock) pass `false`.
  public static func openForReading(_ location: String, snapshot: Bool = true) throws -> (any StateStoring)? {
    let opened = try StateStores.openForReading(location, snapshot: snapshot)
    say(opened.notice)
    return opened.store
  }

  private static let noticed = Mutex(false)

  /// Prints the first notice of the process on stderr (apply reads, then creates: said once).
  private static func say(_ notice: String?) {
    guard let notice,
      noticed.withLock({ done in
        defer { done = true }
        return !done
      })
    else { return }
    // Redacted like everything hk prints (a location may carry a secret).
    FileHandle.standardError.write(Data((Redaction.redact(text: notice) + "\n").utf8))
  }

  /// For commands that record (apply, import): created when missing, said once on stderr.
  public static func open(_ location: String) throws -> any StateStoring {
    let opened = try StateStores.open(location)
    say(opened.notice)
    guard let store = opened.store else { throw StoreError.unreadable(path: StoreLocation.redact(location)) }
    return store
  }
}
