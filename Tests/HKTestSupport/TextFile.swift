import Foundation
import Testing

/// Edits of text files in a test's scratch repository.
public enum TextFile {
  /// Rewrites the file at `path` with `change` applied to its text; an edit that changes nothing
  /// is a recorded issue (the test would then check nothing).
  public static func edit(
    _ path: String, sourceLocation: SourceLocation = #_sourceLocation, _ change: (String) -> String
  ) throws {
    let text = try String(contentsOfFile: path, encoding: .utf8)
    let changed = change(text)
    #expect(changed != text, "the edit of \(path) changed nothing", sourceLocation: sourceLocation)
    try changed.write(toFile: path, atomically: true, encoding: .utf8)
  }
}
