import Model
import Planner
import Testing

/// Environments that could not be planned appear in every rendering, redacted, and survive a
/// saved plan's round trip.
@Suite struct FailedEnvironmentTests {
  static let secret = "hunter2-not-for-pr-comments"
  static var plan: Plan {
    let diagnostic = Diagnostic(
      .error, "cannot read https://ops:\(secret)@git.corp.example/base.yaml",
      at: Diagnostic.Location(file: "environments/qa/environment.yaml", line: 4, column: 7), rule: "settings-type")
    let ok = EnvironmentPlan(name: "dev", cluster: "dev.k8s.local", prior: nil, desiredDigest: "sha256:0", changes: [], steps: [])
    return Plan(environments: [ok], failed: [FailedEnvironment(name: "qa", diagnostics: [diagnostic])])
  }

  @Test func everyRenderingListsTheFailureWithoutItsSecret() throws {
    let text = PlanRenderer().text(Self.plan)
    let markdown = PlanRenderer().markdown(Self.plan).joined()
    let json = PlanJSON.render(Self.plan)
    for out in [text, markdown, json] {
      #expect(out.contains("qa"))
      #expect(out.contains("environments/qa/environment.yaml"))
      #expect(!out.contains(Self.secret), "\(out)")
    }
    #expect(text.contains("No changes in the 1 environment planned. 1 environment has errors and was not planned: qa."), "\(text)")
    #expect(markdown.contains("- `qa` (1 error):"))
    let decoded = try PlanJSON.decode(json)
    #expect(decoded.failed.map(\.name) == ["qa"])
    #expect(decoded.failed.first?.diagnostics.first?.location?.line == 4)
  }

  /// Markdown sections count changes and steps in the singular when there is one.
  @Test func markdownCountsInTheSingular() {
    let change = Change(category: .spec, action: .update, path: "spec.x", before: .int(1), after: .int(2))
    let step = Step(id: 1, kind: .validate, command: ["kops", "validate", "cluster"])
    let env = EnvironmentPlan(
      name: "dev", cluster: "dev.k8s.local", prior: nil, desiredDigest: "sha256:0", changes: [change], steps: [step])
    let markdown = PlanRenderer().markdown(Plan(environments: [env])).joined()
    #expect(markdown.contains("1 change, 1 step</summary>"), "\(markdown)")
    #expect(!markdown.contains("1 changes"))
  }
}
