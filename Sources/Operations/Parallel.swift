import CMallocAdvice
import Foundation
import Model

/// Runs independent per-environment work (load, validate, plan, render) on every usable CPU.
///
/// Environments share nothing while they are loaded and planned (the shared base is parsed once,
/// behind ``Config/Repository``'s lock), so a thousand of them are spread over as many threads
/// as the process may run at once (``Model/UsableCPUs``: affinity and cgroup quota, not the
/// machine's cores), each taking the next index; results keep input order. With one usable CPU
/// everything runs inline on the calling thread: no thread is started, nothing waits.
///
/// In a large map (``adviceThreshold`` items or more) every thread the work runs on first advises
/// its malloc arena's heap to use huge pages (`hk_malloc_advise_this_thread`, Sources/CMallocAdvice:
/// once per thread, and only in hk's executable, whose start-up turns the advice on); a small one
/// leaves the heaps as they are, since a 2 MiB page it would barely fill costs more than it saves.
public enum Parallel {
  /// The item count from which a map asks for huge pages.
  public static let adviceThreshold = 64

  /// How many threads hk's CPU-bound work uses (``Model/UsableCPUs/count``).
  public static var width: Int { UsableCPUs.count }

  public static func map<T: Sendable, R: Sendable>(_ items: [T], _ body: @Sendable (T) -> R) -> [R] {
    let width = min(items.count, Parallel.width)
    let advise = items.count >= adviceThreshold
    if advise { _ = hk_malloc_advise_this_thread() }
    if width < 2 { return items.map(body) }
    let slots = Slots<R>(count: items.count)
    DispatchQueue.concurrentPerform(iterations: width) { _ in
      if advise { _ = hk_malloc_advise_this_thread() }
      while let i = slots.nextIndex() { slots.set(i, body(items[i])) }
    }
    return slots.values()
  }

  /// The results, filled by index under a lock (one lock round per environment: nothing next to
  /// loading and planning one).
  private final class Slots<R: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [R?]
    private var next = 0

    init(count: Int) { results = Array(repeating: nil, count: count) }

    func nextIndex() -> Int? {
      lock.withLock {
        guard next < results.count else { return nil }
        defer { next += 1 }
        return next
      }
    }

    func set(_ i: Int, _ r: R) { lock.withLock { results[i] = r } }

    func values() -> [R] { lock.withLock { results.compactMap { $0 } } }
  }
}

/// Work started on another thread now, whose result is collected later (``value()`` waits).
///
/// With one usable CPU the work runs inline, right here: another thread could only take turns
/// with this one, and waiting for it costs a handoff (or, when the thread pool is busy, an idle
/// wait until it grows).
public final class Background<T: Sendable>: @unchecked Sendable {
  private let done = DispatchSemaphore(value: 0)
  private var result: Result<T, any Error> = .failure(CancellationError())

  public init(_ body: @escaping @Sendable () throws -> T) {
    if Parallel.width < 2 {
      result = Result { try body() }
      done.signal()
      return
    }
    DispatchQueue.global().async {
      let r = Result { try body() }
      self.result = r
      self.done.signal()
    }
  }

  /// Waits for the work, then returns its result or throws its error (once).
  public func value() throws -> T {
    done.wait()
    return try result.get()
  }
}

/// Keeps large values alive until the process exits, as clang's `-disable-free` does: a plan
/// over a thousand environments is millions of small tree nodes and strings, and freeing them
/// one by one just before exit cost a tenth of `hk plan`'s time. The kernel reclaims the pages
/// at exit anyway. Only for values a command is done with right before it returns.
public enum KeepUntilExit {
  private static let lock = NSLock()
  nonisolated(unsafe) private static var kept: [Any] = []

  public static func keep(_ value: Any) {
    lock.withLock { kept.append(value) }
  }
}
