import Foundation

/// Finds an executable before anything runs, so that a command can say it is missing before
/// it prints a plan it cannot apply.
public enum ExecutableLookup {
  /// The error a run of `executable` would meet (with `hint` as its advice), or nil when it is
  /// there: a path must exist; a bare name must be an executable file in a `PATH` directory.
  public static func missing(_ executable: String, hint: String, path: String? = nil) -> ExecutableNotFoundError? {
    if executable.contains("/") {
      return FileManager.default.fileExists(atPath: executable)
        ? nil : ExecutableNotFoundError(executable: executable, searchPath: nil, hint: hint)
    }
    let search = path ?? ProcessInfo.processInfo.environment["PATH"] ?? ""
    for dir in search.split(separator: ":", omittingEmptySubsequences: true) {
      let candidate = dir + "/" + executable
      var info = stat()
      if stat(candidate, &info) == 0, info.st_mode & S_IFMT == S_IFREG, access(candidate, X_OK) == 0 { return nil }
    }
    return ExecutableNotFoundError(executable: executable, searchPath: search, hint: hint)
  }
}
