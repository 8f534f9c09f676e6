import Foundation

/// `body`'s result, run on a thread started for it (one that has run nothing before: no arena,
/// no thread-local table of its own yet); nil only if the thread handed nothing back.
public func onNewThread<T>(_ body: @escaping @Sendable () -> T) -> T? {
  let box = ResultBox<T>()
  let done = DispatchSemaphore(value: 0)
  let thread = Thread {
    box.set(body())
    done.signal()
  }
  thread.start()
  done.wait()
  return box.take()
}

/// What another thread made, handed over under a lock.
private final class ResultBox<T>: @unchecked Sendable {
  private let lock = NSLock()
  private var value: T?
  func set(_ v: T) { lock.withLock { value = v } }
  func take() -> T? { lock.withLock { value } }
}
