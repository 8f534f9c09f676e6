import Foundation
import Model

/// Apply's scratch directories (docs/SECURITY.md): manifests written for kops and, for kops
/// ≤ 1.30, a one-hour admin kubeconfig. Each is made by `mkdtemp` (new, 0700, never an existing
/// directory) as `hk-scratch-ENV-PID-XXXXXX`; one left behind by a killed hk (its PID gone) is
/// swept when the next apply starts.
public enum Scratch {
  public static let prefix = "hk-scratch-"

  /// A new scratch directory under `parent` for `environment`.
  ///
  /// - Throws: A message naming `parent` when it cannot be created.
  public static func create(environment: String, in parent: String) throws -> String {
    var template = Array((parent + "/" + prefix + environment + "-\(getpid())-XXXXXX").utf8CString)
    let made = template.withUnsafeMutableBufferPointer { buf -> Bool in
      guard let base = buf.baseAddress else { return false }
      return mkdtemp(base) != nil
    }
    guard made else {
      throw ScratchError(message: "cannot create a scratch directory in \(parent): \(String(cString: strerror(errno)))")
    }
    return String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  /// Removes scratch directories under `parent` whose hk process is gone (owned by this user,
  /// real directories only); returns their paths.
  @discardableResult
  public static func sweep(in parent: String) -> [String] {
    guard let entries = try? FileManager.default.contentsOfDirectory(atPath: parent) else { return [] }
    var removed: [String] = []
    for name in entries where name.hasPrefix(prefix) {
      let parts = name.split(separator: "-")
      guard parts.count >= 5, let pid = pid_t(parts[parts.count - 2]), pid > 0 else { continue }
      if pid == getpid() || kill(pid, 0) == 0 || errno != ESRCH { continue }
      let path = parent + "/" + name
      var info = stat()
      guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR, info.st_uid == getuid() else { continue }
      if (try? FileManager.default.removeItem(atPath: path)) != nil { removed.append(path) }
    }
    return removed
  }
}

/// A scratch directory that could not be made.
public struct ScratchError: HKError {
  public var message: String
  public var errorDescription: String? { message }
  public var nextStep: String { NextStep.of(message, otherwise: "check TMPDIR") }
}
