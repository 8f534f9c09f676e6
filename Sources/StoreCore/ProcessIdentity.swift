import Foundation

/// This process's user and host, and whether another process exists: what locks record.
public enum ProcessIdentity {
  /// The host name from `gethostname`, or `localhost` when it fails.
  public static func hostName() -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
    let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    return name.isEmpty ? "localhost" : name
  }

  /// The login name of the effective user (passwd entry, else `$USER`, else `uid N`).
  public static func userName() -> String {
    let uid = geteuid()
    var entry = passwd()
    var result: UnsafeMutablePointer<passwd>?
    var buffer = [CChar](repeating: 0, count: 4096)
    if getpwuid_r(uid, &entry, &buffer, buffer.count, &result) == 0, result != nil, let name = entry.pw_name {
      let text = String(cString: name)
      if !text.isEmpty { return text }
    }
    if let user = ProcessInfo.processInfo.environment["USER"], !user.isEmpty { return user }
    return "uid \(uid)"
  }

  /// Whether a process with `pid` exists (`kill(pid, 0)` does not fail with `ESRCH`).
  ///
  /// A process owned by another user (`EPERM`) exists. Non-positive pids never name one
  /// process, so they count as gone.
  /// A zombie (exited, not yet reaped: a SIGKILLed hk whose parent is gone and whose init does
  /// not reap) counts as gone too, so its lock shows as stale.
  public static func processExists(_ pid: Int32) -> Bool {
    guard pid > 0 else { return false }
    if kill(pid, 0) != 0 { return errno != ESRCH }
    #if os(Linux)
    if let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") {
      let state = stat[stat.index(after: close)...].drop { $0 == " " }.first
      if state == "Z" || state == "X" { return false }
    }
    #endif
    return true
  }
}
