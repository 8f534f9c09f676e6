import Config
import Model
import Planner
import Testing

/// A plan a reviewer can read (issue 13 §3): creates and deletes as the YAML the user wrote,
/// multi-line text intact, secrets redacted; multi-line updates as line diffs. And the digest
/// that binds what was reviewed (§1).
@Suite struct ReadablePlanTests {
  static let userData = "#!/bin/bash\nset -e\necho one\necho two\necho three\necho four\necho five\necho six\n"

  func devWithUserData(_ content: String) throws -> Environment {
    var env = try sample("dev")
    env.setCluster(
      "spec.additionalUserData",
      .sequence([
        .mapping([
          YAMLPair(key: "name", value: .string("setup.sh")), YAMLPair(key: "type", value: .string("text/x-shellscript")),
          YAMLPair(key: "content", value: .string(content)),
        ])
      ]))
    return env
  }

  @Test func aCreatedClusterIsItsYAMLWithMultiLineTextIntactAndSecretsRedacted() throws {
    var env = try devWithUserData(Self.userData)
    env.setCluster("spec.assets.containerProxy", .string("http://builder:hunter2@registry-proxy.corp.local:5000"))
    env.setCluster("spec.kubeAPIServer.oidcClientSecret", .string("s3cr3t-value-123"))
    // User data is shown as digest and length unless asked (docs/SECURITY.md): asked here.
    let plan = Plan(environments: [try PlanBuilder.plan(env, recorded: nil, showContent: true)])
    let text = PlanRenderer().text(plan)
    let md = PlanRenderer().markdown(plan).joined()
    for o in [text, md] {
      #expect(o.contains("+ cluster[dev.k8s.corp.local] =\n"), "\(o)")
      #expect(o.contains("+     networkCIDR: 10.10.0.0/16\n"))
      // The user data as a literal block, every line under its +.
      #expect(o.contains("+       content: |\n"))
      for line in Self.userData.split(separator: "\n") { #expect(o.contains("+         \(line)\n"), "\(line)") }
      #expect(o.contains("+ instancegroup[nodes-ap-northeast-1a] =\n"))
      #expect(o.contains("+     machineType: m5.xlarge\n"))
      #expect(!o.contains("hunter2"))
      #expect(!o.contains("s3cr3t-value-123"))
      #expect(o.contains("oidcClientSecret: (redacted)"))
      #expect(!o.contains("{\"apiVersion\""))
    }
    #expect(md.contains("```diff\n+ cluster[dev.k8s.corp.local] =\n+   apiVersion: kops.k8s.io/v1alpha2\n"))
  }

  @Test func aDeletedInstanceGroupIsItsYAMLUnderMinus() throws {
    var env = try sample("dev")
    let rec = recorded(env)
    env.instanceGroups.removeAll { InstanceGroupView($0).name == "nodes-ap-northeast-1c" }
    let text = PlanRenderer().text(Plan(environments: [try PlanBuilder.plan(env, recorded: rec)]))
    #expect(text.contains("    - instancegroup[nodes-ap-northeast-1c] (was:)\n    -   apiVersion: kops.k8s.io/v1alpha2\n"), "\(text)")
    #expect(text.contains("    -     - private-ap-northeast-1c\n"))
  }

  @Test func anUpdatedMultiLineTextIsALineDiff() throws {
    let old = try devWithUserData(Self.userData)
    let new = try devWithUserData(Self.userData.replacingOccurrences(of: "echo four\n", with: "echo FOUR\necho 4.5\n"))
    let plan = Plan(environments: [try PlanBuilder.plan(new, recorded: recorded(old), showContent: true)])
    let text = PlanRenderer().text(plan)
    let expected = """
          ~ spec.additionalUserData[name=setup.sh].content: text, 3 lines changed  [rolls control-plane-ap-northeast-1a, nodes-ap-northeast-1a, nodes-ap-northeast-1c]
              …
              echo two
              echo three
          -   echo four
          +   echo FOUR
          +   echo 4.5
              echo five
              echo six
              …

      """
    #expect(text.contains(expected), "\(text)")
    #expect(PlanRenderer().markdown(plan).joined().contains("-   echo four\n+   echo FOUR\n"))
  }

  @Test func controlCharactersInMultiLineTextAreShownEscaped() throws {
    let old = try devWithUserData(Self.userData)
    let new = try devWithUserData(Self.userData.replacingOccurrences(of: "echo four", with: "echo \u{1B}[2J\u{202E}four\r"))
    let text = PlanRenderer().text(Plan(environments: [try PlanBuilder.plan(new, recorded: recorded(old), showContent: true)]))
    #expect(text.contains("+   echo \\x1b[2J\\u{202e}four\\r\n"), "\(text)")
    #expect(!text.contains("\u{1B}"))
    #expect(!text.contains("\u{202E}"))
  }

  @Test func lineDiffKeepsTwoLinesOfContext() {
    let d = LineDiffProbe.render(old: "a\nb\nc\nd\ne\nf\ng", new: "a\nb\nc\nX\ne\nf\ng")
    #expect(d == ["…", "  b", "  c", "- d", "+ X", "  e", "  f", "…"])
    #expect(LineDiffProbe.render(old: "a", new: "a\nb") == ["  a", "+ b"])
    #expect(LineDiffProbe.render(old: "", new: "x\ny") == ["- ", "+ x", "+ y"])
  }

  // MARK: The digest

  @Test func theDigestCoversEveryReviewedPartAndNothingMachineSpecific() throws {
    let env = try sample("dev")
    let plan = Plan(environments: [try PlanBuilder.plan(env, recorded: nil)])
    let digest = PlanDigest.digest(plan)
    #expect(PlanDigest.isWellFormed(digest))
    #expect(PlanDigest.digest(Plan(environments: [try PlanBuilder.plan(env, recorded: nil)])) == digest)
    #expect(plan.environments[0].steps.allSatisfy { ["kops", "aws"].contains($0.command.first) })
    // One environment: the plan's digest is the environment's.
    #expect(PlanDigest.digest(plan.environments[0]) == digest)
    // Every covered part moves it.
    var edits: [(String, (inout EnvironmentPlan) -> Void)] = [
      ("name", { $0.name = "dev2" }), ("prior", { $0.prior = PriorState(serial: 1, lineage: "x") }),
      ("desired", { $0.desiredDigest = "sha256:1" }), ("change path", { $0.changes[0].path += "x" }),
      ("change value", { $0.changes[0].after = .string("x") }), ("change rolls", { $0.changes[0].rolls = ["a"] }),
      ("step argv", { $0.steps[0].command[0] = "/usr/local/bin/kops" }), ("step order", { $0.steps.swapAt(0, 1) }),
      ("step disruptive", { $0.steps[0].disruptive.toggle() }),
    ]
    edits.append(("step added", { $0.steps.append(Step(id: 9, kind: .validate, command: ["kops", "validate"])) }))
    for (what, edit) in edits {
      var e = plan.environments[0]
      edit(&e)
      #expect(PlanDigest.digest(Plan(environments: [e])) != digest, "\(what)")
    }
    // Owed notes and summaries are derived: not covered.
    var e = plan.environments[0]
    e.owed = [.note("note")]
    #expect(PlanDigest.digest(Plan(environments: [e])) == digest)
  }

  @Test func aSavedPlansContentDigestIsItsStatedDigestUntilEdited() throws {
    let envs = try ["dev", "staging", "prod"].map(sample)
    let plan = Plan(environments: try envs.map { try PlanBuilder.plan($0, recorded: nil) })
    let text = PlanJSON.render(plan)
    let saved = try PlanJSON.decodeSaved(text)
    #expect(saved.statedDigest == PlanDigest.digest(plan))
    #expect(saved.contentDigest == PlanDigest.digest(plan))
    let edited = try PlanJSON.decodeSaved(text.replacingOccurrences(of: "\"kops-update\"", with: "\"validate\""))
    #expect(edited.statedDigest == saved.statedDigest)
    #expect(edited.contentDigest != saved.statedDigest)
  }
}

/// Renders ``LineDiff`` output as `kind line` strings.
enum LineDiffProbe {
  static func render(old: String, new: String) -> [String] {
    LineDiff.lines(old: old, new: new).map { $0.0 == "…" ? "…" : "\($0.0) \($0.1)" }
  }
}
