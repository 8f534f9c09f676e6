import Foundation
import Testing

/// Rendered output checked against files kept in the repository: the one golden helper every
/// golden test uses.
///
/// `HK_RECORD=1` rewrites the files instead of comparing (then check the diff by eye before
/// committing); a missing file is a recorded issue that says so.
public struct GoldenFiles: Sendable {
  /// The directory holding the files.
  public let directory: String

  public init(directory: String) { self.directory = directory }

  /// The `Golden` directory next to the test file `filePath` (pass `#filePath`).
  public init(nextTo filePath: String) {
    self.directory = URL(fileURLWithPath: filePath).deletingLastPathComponent().appendingPathComponent("Golden").path
  }

  /// Whether this run records (`HK_RECORD=1`) instead of comparing.
  public static var recording: Bool { ProcessInfo.processInfo.environment["HK_RECORD"] == "1" }

  /// Compares `actual` with the file `name`, recording an issue at the first differing line.
  public func check(_ actual: String, named name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let path = directory + "/" + name
    if Self.recording {
      try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
      try actual.write(toFile: path, atomically: true, encoding: .utf8)
      return
    }
    guard let expected = try? String(contentsOfFile: path, encoding: .utf8) else {
      Issue.record("missing golden file \(name); run with HK_RECORD=1 to create it", sourceLocation: sourceLocation)
      return
    }
    if let mismatch = Self.firstDifference(expected: expected, actual: actual) {
      Issue.record("golden \(name) differs at \(mismatch)\n(HK_RECORD=1 rewrites)", sourceLocation: sourceLocation)
    }
  }

  /// `line N:` with both sides of the first differing line; nil when the texts are equal.
  public static func firstDifference(expected: String, actual: String) -> String? {
    guard expected != actual else { return nil }
    let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
    let a = actual.split(separator: "\n", omittingEmptySubsequences: false)
    let i = (0..<min(e.count, a.count)).first { e[$0] != a[$0] } ?? min(e.count, a.count)
    let shown = { (lines: [Substring]) in i < lines.count ? String(lines[i]) : "<end>" }
    return "line \(i + 1):\n expected: \(shown(e))\n   actual: \(shown(a))"
  }
}
