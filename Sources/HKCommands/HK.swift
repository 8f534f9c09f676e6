import ArgumentParser
import Foundation
import Model

/// The `hk` command: GitOps for kops clusters in AWS hybrid VPCs.
public struct HK: AsyncParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "hk",
    abstract: "Run kops-managed clusters in AWS hybrid VPCs (no internet gateway) the GitOps way.",
    discussion: """
      Desired configuration lives in environments/<env>/ (kops Cluster + InstanceGroup manifests and \
      environment.yaml); recorded state in state/hk.sqlite. 'hk plan' in pull requests, 'hk apply' \
      after merge, 'hk drift' for drift reports.

      Global options, accepted before or after the command (hk --state-db ci.sqlite plan):
        --root DIR          the GitOps repository root (default: .)
        --state-db PATH     the state database (HK_STATE_DB; default: ROOT/state/hk.sqlite)
        --kops PATH         the kops executable (HK_KOPS; default: kops on PATH)
        --aws PATH          the aws executable (HK_AWS; default: aws on PATH)
        --no-color          never colour output (NO_COLOR)
      """,
    version: "0.1.0",
    subcommands: [
      Validate.self, PlanCommand.self, ApplyCommand.self, DriftCommand.self, ImportCommand.self, StateCommand.self,
      LockCommand.self,
    ])

  public init() {}

  /// Prints an error and exits with its code; the message passes the output boundary
  /// (``Redaction``, one line per line with control characters escaped): kops's and aws's
  /// messages end up in errors. Used by ``main()`` instead of argument-parser's `exit(withError:)`.
  static func report(_ error: any Error) -> Never {
    let error = printable(error)
    let code = exitCode(for: error)
    let message = fullMessage(for: error)
    if code == .success {
      if !message.isEmpty { FileHandle.standardOutput.write(Data((message + "\n").utf8)) }
    } else if !message.isEmpty {
      let safe = message.split(separator: "\n", omittingEmptySubsequences: false).map { OutputEscaping.text(String($0)) }
      FileHandle.standardError.write(Data((Redaction.redact(text: safe.joined(separator: "\n")) + "\n").utf8))
    }
    Foundation.exit(code.rawValue)
  }

  /// `error`, or for an error of the database library (whose description quotes the whole row,
  /// recorded YAML included) a message that names only its type: hk never prints a row.
  static func printable(_ error: any Error) -> any Error {
    let type = String(reflecting: Swift.type(of: error))
    guard type.hasPrefix("GRDB.") else { return error }
    return CommandError.message(
      "the state database holds a value hk cannot read (\(type)): it was damaged or written by another tool; "
        + "check it with sqlite3 (PRAGMA integrity_check), or restore it from a backup")
  }
}
