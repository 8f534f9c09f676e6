import Foundation

/// A fresh directory under `NSTemporaryDirectory()`, removed on `remove()` or when released.
public final class TemporaryDirectory: @unchecked Sendable {
  /// The absolute path of the directory (no trailing slash).
  public let path: String
  private let lock = NSLock()
  private var removed = false

  /// Creates the directory `<tmp>/<prefix>-XXXXXX`.
  public init(prefix: String = "hk-test") throws {
    var template = Array((NSTemporaryDirectory() + "/" + prefix + "-XXXXXX").utf8CString)
    let made = template.withUnsafeMutableBufferPointer { buffer -> Bool in
      guard let base = buffer.baseAddress else { return false }
      return mkdtemp(base) != nil
    }
    guard made else { throw TestSupportError("cannot create a temporary directory for \(prefix): errno \(errno)") }
    let raw = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    path = URL(fileURLWithPath: raw).standardizedFileURL.path
  }

  /// `path/relative`.
  public func file(_ relative: String) -> String { path + "/" + relative }

  /// Writes `text` to `path/relative` (creating directories) and returns the file's path.
  @discardableResult
  public func write(_ relative: String, _ text: String) throws -> String {
    let target = file(relative)
    try FileManager.default.createDirectory(
      atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try Data(text.utf8).write(to: URL(fileURLWithPath: target))
    return target
  }

  /// Creates `path/relative` as a directory and returns its path.
  @discardableResult
  public func makeDirectory(_ relative: String) throws -> String {
    let target = file(relative)
    try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
    return target
  }

  /// The text of `path/relative`, nil when it does not exist.
  public func read(_ relative: String) -> String? {
    FileManager.default.contents(atPath: file(relative)).map { String(decoding: $0, as: UTF8.self) }
  }

  /// Removes the directory and everything in it (idempotent).
  public func remove() {
    lock.lock()
    defer { lock.unlock() }
    guard !removed else { return }
    removed = true
    try? FileManager.default.removeItem(atPath: path)
  }

  deinit { remove() }
}
