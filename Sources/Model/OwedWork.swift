/// What a lower layer (or the user) still owes: why a plan has steps without changes, or work
/// it leaves to the user. The renderers turn it into text.
public enum OwedWork: Sendable, Hashable {
  /// A kops upgrade across minor versions: `kops upgrade cluster` is for the user to review.
  case upgradeReview(from: KopsVersion, to: KopsVersion, cluster: String, stateStore: String)
  /// An interrupted apply left the internet gateway attached: the plan detaches it first.
  case gatewayLeftAttached(gateway: String)
  /// `kops update --yes` has not run since the recorded serial.
  case cloudLags(serial: Int64)
  /// Rolls an earlier apply left owed (those the plan's own changes do not roll).
  case rollsOwed([String])
  /// `rollingUpdate: manual`: the rolls the user runs.
  case manualRolls(cluster: String, instanceGroups: [String])
  /// `kops validate cluster` has not passed since the cloud last changed.
  case validationOwed
  /// A line read back from a plan file, as written.
  case note(String)
}
