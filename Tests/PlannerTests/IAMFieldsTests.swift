import Model
import Planner
import Testing

/// Issue 17 item 8: IAM outside `additionalPolicies` — `spec.externalPolicies`, an instance
/// group's `spec.iam.profile`, `spec.iam.serviceAccountExternalPermissions` — is the `iam`
/// category and `widening` when it adds privilege (these planned as plain spec changes).
@Suite struct IAMFieldsTests {
  func plan(_ change: (inout Environment) throws -> Void, recordedChange: ((inout Environment) throws -> Void)? = nil) throws
    -> EnvironmentPlan
  {
    var base = try sample("dev")
    try recordedChange?(&base)
    var desired = base
    try change(&desired)
    return try PlanBuilder.plan(desired, recorded: recorded(base))
  }

  @Test func externalAdministratorAccessIsWidening() throws {
    let p = try plan { e in
      e.setCluster("spec.externalPolicies", try yaml("node: [\"arn:aws:iam::aws:policy/AdministratorAccess\"]"))
    }
    let iam = p.changes.filter { $0.path.hasPrefix("spec.externalPolicies") }
    #expect(!iam.isEmpty && iam.allSatisfy { $0.category == .iam && $0.widening }, "\(p.changes)")
    #expect(p.wideningCount >= 1)
    // Removing it narrows.
    let narrowed = try plan(
      { e in e.cluster.remove(path: ["spec", "externalPolicies"]) },
      recordedChange: { e in e.setCluster("spec.externalPolicies", try yaml("node: [\"arn:aws:iam::aws:policy/AdministratorAccess\"]")) })
    let removed = narrowed.changes.filter { $0.path.hasPrefix("spec.externalPolicies") }
    #expect(!removed.isEmpty && removed.allSatisfy { $0.category == .iam && !$0.widening }, "\(narrowed.changes)")
  }

  @Test func anInstanceProfileIsWidening() throws {
    let p = try plan { e in
      e.setIG("nodes-ap-northeast-1a", "spec.iam", try yaml("profile: arn:aws:iam::123456789012:instance-profile/admin"))
    }
    let iam = p.changes.filter { $0.category == .iam }
    #expect(!iam.isEmpty && iam.allSatisfy(\.widening), "\(p.changes)")
    #expect(iam.contains { $0.path.hasPrefix("instancegroup[nodes-ap-northeast-1a].spec.iam") })
  }

  @Test func serviceAccountPermissionsAreWidening() throws {
    let p = try plan { e in
      e.setCluster(
        "spec.iam.serviceAccountExternalPermissions",
        try yaml("- name: app\n  namespace: default\n  aws:\n    policyARNs: [\"arn:aws:iam::aws:policy/AdministratorAccess\"]\n"))
    }
    let iam = p.changes.filter { $0.path.hasPrefix("spec.iam") }
    #expect(!iam.isEmpty && iam.allSatisfy { $0.category == .iam && $0.widening }, "\(p.changes)")
  }
}
