/// What `hk --version` prints.
public enum BuildInfo {
  public static let version = "0.1.0"
  /// The commit hk was built from: `scripts/release` writes it into `BuildCommit.swift` for the
  /// build and restores the file afterwards; any other build says "unknown".
  public static var commit: String { buildCommit }
  /// `0.1.0 (commit 0123456789ab)`.
  public static var versionLine: String { "\(version) (commit \(commit))" }
}
