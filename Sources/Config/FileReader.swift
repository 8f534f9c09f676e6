import Foundation
import Model

/// Reads files for the loaders with the size limit checked before the bytes are read.
public enum FileReader {
  /// The file's bytes, or a diagnostic naming the file when it is missing, unreadable, a
  /// directory or over `limit` bytes.
  public static func read(_ path: String, limit: Int = YAMLLimits.default.maxBytes) throws(DiagnosticError) -> [UInt8] {
    let at = Diagnostic.Location(file: path, line: 1, column: 1)
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
      throw DiagnosticError(Diagnostic(.error, "file not found; create it or fix the path that names it", at: at, rule: "file-missing"))
    }
    if isDir.boolValue {
      throw DiagnosticError(Diagnostic(.error, "is a directory, expected a YAML file", at: at, rule: "file-missing"))
    }
    if let attrs = try? FileManager.default.attributesOfItem(atPath: path),
      let size = (attrs[.size] as? NSNumber)?.intValue, size > limit
    {
      throw DiagnosticError(
        Diagnostic(.error, "file is \(size) bytes, over hk's limit of \(limit); split it or remove what kops does not need", at: at, rule: "yaml-size"))
    }
    guard let data = FileManager.default.contents(atPath: path) else {
      throw DiagnosticError(Diagnostic(.error, "cannot read the file; check its permissions", at: at, rule: "file-missing"))
    }
    if data.count > limit {
      throw DiagnosticError(
        Diagnostic(.error, "file is \(data.count) bytes, over hk's limit of \(limit)", at: at, rule: "yaml-size"))
    }
    return [UInt8](data)
  }
}
