import Foundation
import Model

/// Where hk writes, and whether it colours: colour only on a terminal, never with `--no-color`
/// or `NO_COLOR` set (https://no-color.org).
public struct Terminal: Sendable {
  public var color: Bool
  public var isInteractive: Bool

  public init(noColor: Bool) {
    let env = ProcessInfo.processInfo.environment
    let noColorEnv = env["NO_COLOR"].map { !$0.isEmpty } ?? false
    color = !noColor && !noColorEnv && isatty(STDOUT_FILENO) == 1 && env["TERM"] != "dumb"
    isInteractive = isatty(STDIN_FILENO) == 1 && isatty(STDOUT_FILENO) == 1
  }

  public func out(_ s: String) {
    FileHandle.standardOutput.write(Data(s.utf8))
  }

  public func err(_ s: String) {
    FileHandle.standardError.write(Data(s.utf8))
  }

  /// Prints diagnostics as `file:line:col: severity: message`.
  public func print(_ diagnostics: [Diagnostic], toStdout: Bool = false) {
    var s = ""
    for d in diagnostics {
      var line = d.description
      if color {
        let code = d.severity == .error ? "31" : d.severity == .warning ? "33" : "36"
        line = line.replacingOccurrences(of: "\(d.severity.rawValue):", with: "\u{1B}[\(code)m\(d.severity.rawValue):\u{1B}[0m")
      }
      s += line + "\n"
    }
    if toStdout { out(s) } else { err(s) }
  }
}
