import ArgumentParser
import Foundation
import Model
import Operations

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
        --state-db LOCATION the recorded state (HK_STATE_DB; default ROOT/state/hk.sqlite;
                            sqlite:PATH, postgres://…, s3://BUCKET/KEY)
        --kops PATH         the kops executable (HK_KOPS; default: kops on PATH)
        --kops-map V=PATH   kops per kopsVersion (HK_KOPS_MAP; beats kopsPath)
        --aws PATH          the aws executable (HK_AWS; default: aws on PATH)
        --no-color          never colour output (NO_COLOR)
      """,
    version: BuildInfo.versionLine,
    subcommands: [
      Validate.self, PlanCommand.self, ApplyCommand.self, DriftCommand.self, ImportCommand.self, StateCommand.self,
      LockCommand.self,
    ])

  public init() {}

  /// The message and exit code of an error that ends hk: every hk error (``Model/HKError``) in
  /// one form, its message with its next step; argument-parser's own errors (usage, help,
  /// ``ExitCode``) as argument-parser prints them; an error of the database library (whose
  /// description quotes the whole row, recorded YAML included) by its type only: hk never
  /// prints a row.
  static func report(_ error: any Error) -> (message: String, code: ExitCode) {
    // "Error: " as argument-parser starts every other error, so each failure reads the same.
    if let error = error as? any HKError { return ("Error: " + error.userMessage, .failure) }
    let type = String(reflecting: Swift.type(of: error))
    if type.hasPrefix("GRDB.") {
      return (
        "Error: the state database holds a value hk cannot read (\(type)): it was damaged or written by another tool; "
          + "check it with sqlite3 (PRAGMA integrity_check), or restore it from a backup", .failure
      )
    }
    return (fullMessage(for: error), exitCode(for: error))
  }
}
