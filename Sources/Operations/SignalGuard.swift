import Dispatch
import Foundation

/// Turns SIGINT and SIGTERM into task cancellation while an apply runs: the running step is
/// stopped (SIGTERM, then SIGKILL after a grace period, by the runner), the internet gateway is
/// detached, progress is recorded and the lock released before hk exits 1.
public enum SignalGuard {
  public static func run<T: Sendable>(_ body: @escaping @Sendable () async -> T) async -> T {
    let task = Task { await body() }
    let queue = DispatchQueue(label: "hk.signals")
    var sources: [any DispatchSourceSignal] = []
    for sig in [SIGINT, SIGTERM] {
      signal(sig, SIG_IGN)
      let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
      source.setEventHandler {
        FileHandle.standardError.write(
          Data("\nhk: stopping (signal \(sig)): ending the running step, closing the gateway bracket, recording…\n".utf8))
        task.cancel()
      }
      source.resume()
      sources.append(source)
    }
    let result = await task.value
    for s in sources { s.cancel() }
    signal(SIGINT, SIG_DFL)
    signal(SIGTERM, SIG_DFL)
    return result
  }
}
