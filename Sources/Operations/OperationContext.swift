import Executor
import Model

/// What every operation is given by the operator — flags and environment, trusted; never the
/// repository's files: where the repository and the recorded state are, which kops and aws run,
/// and where the diagnostics of environments that cannot be loaded or planned go.
public struct OperationContext: Sendable {
  /// The GitOps repository root (`--root`).
  public var root: String
  /// The state location (`--state-db`, `HK_STATE_DB`).
  public var stateLocation: String
  /// Which kops runs for an environment (``Executor/KopsSelection``); unused by plan.
  public var kops: KopsSelection
  /// The aws CLI (`--aws`, `HK_AWS`).
  public var aws: String
  /// Receives each environment's errors as they are found.
  public var report: @Sendable ([Diagnostic]) -> Void
  /// Receives the one-line notices of the state location (its first use), once per process
  /// (``StoreAccess``): operations print nothing themselves.
  public var notice: StoreAccess.Notice

  public init(
    root: String, stateLocation: String, kops: KopsSelection = KopsSelection(), aws: String = "aws",
    report: @escaping @Sendable ([Diagnostic]) -> Void, notice: @escaping StoreAccess.Notice
  ) {
    (self.root, self.stateLocation, self.kops, self.aws, self.report) = (root, stateLocation, kops, aws, report)
    self.notice = notice
  }
}
