import ArgumentParser
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

  /// Writes to stdout. Every line hk prints passes ``Redaction`` here, the output boundary
  /// (docs/SECURITY.md), whatever produced it.
  public func out(_ s: String) {
    FileHandle.standardOutput.write(Data(Redaction.redact(text: s).utf8))
  }

  /// Writes to stdout UTF-8 parts that already passed ``Redaction`` part by part
  /// (``Redaction/redact(part:last:)``, in parallel): the parts go to `writev` as they are, a
  /// thousand at a time, so megabytes of plan are neither joined nor copied into one buffer
  /// (a copy whose fresh pages cost more than the copy itself).
  public func out(redactedParts parts: [[UInt8]]) {
    StandardOutput.write(parts)
  }

  /// Writes to stderr, redacted like ``out(_:)``.
  public func err(_ s: String) {
    FileHandle.standardError.write(Data(Redaction.redact(text: s).utf8))
  }

  /// Prints diagnostics as `file:line:col: severity: message`.
  public func print(_ diagnostics: [Diagnostic], toStdout: Bool = false) {
    var s = ""
    for d in diagnostics {
      // The message may quote the repository's text: one line, control characters escaped.
      var line = d.location.map { "\(OutputEscaping.text($0.file)):\($0.line):\($0.column): " } ?? ""
      line += "\(d.severity.rawValue): " + OutputEscaping.text(d.message)
      if color {
        let code = d.severity == .error ? "31" : d.severity == .warning ? "33" : "36"
        line = line.replacingOccurrences(of: "\(d.severity.rawValue):", with: "\u{1B}[\(code)m\(d.severity.rawValue):\u{1B}[0m")
      }
      s += line + "\n"
    }
    if toStdout { out(s) } else { err(s) }
  }
}

extension Terminal {
  /// Runs an operation; the diagnostics it throws (files that cannot be loaded, names that are
  /// no environment) are printed as `file:line:col: severity: message` and hk exits 1.
  func printingDiagnostics<T>(_ body: () async throws -> T) async throws -> T {
    do {
      return try await body()
    } catch let error as DiagnosticError {
      print(error.diagnostics)
      throw ExitCode.failure
    }
  }
}
