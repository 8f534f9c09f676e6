import CMallocAdvice
import Foundation
import Model

/// Runs independent per-environment work (load, validate, plan, render) on every usable CPU.
///
/// Environments share nothing while they are loaded and planned (the shared base is parsed once,
/// behind ``Config/Repository``'s lock), so a thousand of them are spread over as many threads
/// as the process may run at once (``Model/UsableCPUs``: affinity and cgroup quota, not the
/// machine's cores), each taking the indices ``IndexRuns`` deals it; results keep input order. With one usable CPU
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
    let slots = Slots<R>(count: items.count, width: width)
    DispatchQueue.concurrentPerform(iterations: width) { worker in
      if advise { _ = hk_malloc_advise_this_thread() }
      while let i = slots.nextIndex(worker: worker) { slots.set(i, body(items[i])) }
    }
    return slots.values()
  }

  /// The results, filled by index under a lock (one lock round per environment: nothing next to
  /// loading and planning one), and who takes which index (``IndexRuns``).
  private final class Slots<R: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [R?]
    private var runs: IndexRuns

    init(count: Int, width: Int) {
      results = Array(repeating: nil, count: count)
      runs = IndexRuns(count: count, workers: width)
    }

    func nextIndex(worker k: Int) -> Int? { lock.withLock { runs.next(worker: k) } }

    func set(_ i: Int, _ r: R) { lock.withLock { results[i] = r } }

    func values() -> [R] { lock.withLock { results.compactMap { $0 } } }
  }
}

/// Which index of a ``Parallel/map(_:_:)`` each worker takes next.
///
/// Worker `k` of `w` owns the `k`-th of `w` contiguous runs of indices and takes them in order; a
/// worker whose run is done takes the last index of the run with the most left. So each worker
/// mostly keeps to neighbouring environments, and to the same ones in every map of one command
/// (load, plan, render: same count, same runs), where a shared counter dealt them out
/// alternately. Measured in one run against the shared counter on two CPUs: 2–2.5 % less CPU
/// time on both P1 workloads (docs/PERFORMANCE.md, ninth round).
struct IndexRuns {
  /// Per worker: the next index of its run, and the end of what is left of it.
  private var nextIndex: [Int]
  private var end: [Int]

  init(count: Int, workers: Int) {
    let w = max(1, workers)
    nextIndex = (0..<w).map { $0 * count / w }
    end = (0..<w).map { ($0 + 1) * count / w }
  }

  /// The next index for `worker` (in `0..<workers`), or nil when every index has been taken.
  mutating func next(worker k: Int) -> Int? {
    if nextIndex.indices.contains(k), nextIndex[k] < end[k] {
      defer { nextIndex[k] += 1 }
      return nextIndex[k]
    }
    var donor = -1
    var most = 0
    for j in nextIndex.indices where end[j] - nextIndex[j] > most {
      donor = j
      most = end[j] - nextIndex[j]
    }
    guard donor >= 0 else { return nil }
    end[donor] -= 1
    return end[donor]
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
