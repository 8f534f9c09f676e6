import HKTestSupport
import Model
import Operations
import Testing

/// What `hk plan` loads: the same errors as `hk validate`, without the cross-environment checks
/// (which only warn, and a plan reports errors alone).
@Suite struct WorkspaceCrossCheckTests {
  @Test func withoutCrossChecksOnlyTheSharedNetworkWarningsAreLeftOut() throws {
    let repo = try CopiedEnvironmentTests.repositoryWithACopy()
    let workspace = Workspace(root: repo.root)
    let names = ["dev", "qa", "staging"]
    let all = workspace.load(resolved: names)
    let plan = workspace.load(resolved: names, crossChecks: false)
    let shared = { (l: LoadedEnvironments) in l.diagnostics.flatMap(\.diagnostics).filter { $0.rule == "shared-network" } }
    #expect(shared(all).count >= 6, "\(all.diagnostics)")
    #expect(shared(plan).isEmpty)
    // Everything else is the same: the errors (which decide what is planned), the other
    // warnings, and the environments loaded.
    for ((name, a), (other, p)) in zip(all.diagnostics, plan.diagnostics) {
      #expect(name == other)
      #expect(a.filter { $0.rule != "shared-network" }.map(\.description) == p.map(\.description), "\(name)")
    }
    #expect(all.failed == ["qa"] && plan.failed == ["qa"])
    #expect(all.environments.map(\.name) == plan.environments.map(\.name))
  }

  @Test func planStillRefusesTheCopyForItsErrors() throws {
    let repo = try CopiedEnvironmentTests.repositoryWithACopy()
    let r = try repo.hk(["plan"])
    #expect(r.exitCode == 1, "\(r)")
    #expect(r.stdout.contains("spec.configBase 's3://corp-kops-state-dev/dev.k8s.corp.local' is not stateStore"), "\(r)")
    #expect(!r.stdout.contains("also used by") && !r.stderr.contains("also used by"), "\(r)")
  }
}
