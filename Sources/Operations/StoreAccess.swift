import Foundation
import Model
import Store
import Synchronization

/// Opens the state location the way each command needs it, through the one factory
/// (``StateStores``): no command knows which backend it has.
public enum StoreAccess {
  /// Where a notice goes (the command's stderr; redacted there, like everything hk prints).
  public typealias Notice = @Sendable (String) -> Void

  /// For read-only commands (plan, state, lock list, drift history): nothing is created or
  /// migrated; a location where hk never wrote is an empty state (nil), said once to `notice`.
  ///
  /// With `snapshot` (the default) the database is opened read-only; commands that write
  /// (drift records its report, lock unlock) pass `false`.
  public static func openForReading(_ location: String, snapshot: Bool = true, notice: Notice) throws -> (any StateStoring)? {
    let opened = try StateStores.openForReading(location, snapshot: snapshot)
    say(opened.notice, to: notice)
    return opened.store
  }

  private static let noticed = Mutex(false)

  /// Hands the first notice of the process to `sink` (apply reads, then creates: said once),
  /// as one line ending in a newline.
  private static func say(_ notice: String?, to sink: Notice) {
    guard let notice,
      noticed.withLock({ done in
        defer { done = true }
        return !done
      })
    else { return }
    sink(notice + "\n")
  }

  /// For commands that record (apply, import): created when missing, said once to `notice`.
  public static func open(_ location: String, notice: Notice) throws -> any StateStoring {
    let opened = try StateStores.open(location)
    say(opened.notice, to: notice)
    guard let store = opened.store else { throw StoreError.unreadable(path: StoreLocation.redact(location)) }
    return store
  }
}
