import Model

extension PlanRenderer {
  /// The line a plan shows (in text, markdown and JSON) for what a layer or the user still owes.
  public static func owedLine(_ owed: OwedWork) -> String {
    switch owed {
    case .upgradeReview(let from, let to, let cluster, let stateStore):
      "kops upgrade \(from.majorMinor) → \(to.majorMinor): review 'kops upgrade cluster \(cluster) --state \(stateStore)' "
        + "(hk does not run it) and bring what it changes into git"
    case .gatewayLeftAttached(let gateway):
      "internet gateway \(gateway) was left attached by an interrupted apply: detach it first"
    case .cloudLags(let serial):
      "kops update --yes has not run since recorded serial \(serial): the cloud lags the state store"
    case .rollsOwed(let groups):
      "rolls still owed from an earlier apply: \(groups.joined(separator: ", "))"
    case .manualRolls(let cluster, let groups):
      "rollingUpdate is manual: run 'kops rolling-update cluster \(cluster) --yes' for \(groups.joined(separator: ", "))"
    case .validationOwed:
      "kops validate cluster has not passed since the cloud last changed (an apply stopped before it finished)"
    case .note(let line):
      line
    }
  }
}
