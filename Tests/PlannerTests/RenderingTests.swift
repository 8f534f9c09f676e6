import Config
import Model
import Planner
import Testing

@Suite struct RenderingTests {
  func mixedPlan() throws -> Plan {
    var dev = try sample("dev")
    let devRec = recorded(dev)
    dev.setCluster(
      "spec.egressProxy.excludes", .string("corp.local,10.10.0.0/16,169.254.169.254,s3.ap-northeast-1.amazonaws.com,sts.amazonaws.com"))
    dev.setCluster(
      "spec.additionalPolicies.node",
      .string(
        #"[{"Effect":"Allow","Action":["logs:CreateLogGroup","logs:CreateLogStream","logs:PutLogEvents","logs:DescribeLogStreams"],"Resource":["arn:aws:logs:ap-northeast-1:*:log-group:/k8s/*"]},{"Effect":"Allow","Action":"s3:*","Resource":"*"}]"#
      ))
    dev.setIG("nodes-ap-northeast-1c", "spec.maxSize", .int(8))
    var prod = try sample("prod")
    let prodRec = recorded(prod)
    prod.setIG("nodes-ap-northeast-1a", "spec.machineType", .string("m6i.2xlarge"))
    prod.setCluster("spec.kubelet.containerLogMaxSize", .string("100Mi"))
    let staging = try sample("staging")
    return Plan(environments: [
      try PlanBuilder.plan(dev, recorded: devRec),
      try PlanBuilder.plan(prod, recorded: prodRec),
      try PlanBuilder.plan(staging, recorded: recorded(staging)),
    ])
  }

  @Test func goldenFirstPlanFromEmpty() throws {
    let plan = Plan(environments: [try PlanBuilder.plan(try sample("dev"), recorded: nil)])
    let text = PlanRenderer().text(plan)
    #expect(text.contains("Plan: 5 changes in 1 environment (5 steps)."))
    try golden.check(text, named: "create-dev.txt")
  }

  @Test func goldenMixedText() throws {
    let text = PlanRenderer().text(try mixedPlan())
    #expect(text.contains("Plan: 6 changes in 2 environments (12 steps; rolls "))
    #expect(text.contains("1 IAM widening)."))
    try golden.check(text, named: "mixed.txt")
  }

  @Test func goldenMixedMarkdownAndJSON() throws {
    let plan = try mixedPlan()
    let md = PlanRenderer().markdown(plan)
    #expect(md.count == 1)
    try golden.check(md.joined(), named: "mixed.md")
    try golden.check(PlanJSON.render(plan), named: "mixed.json")
  }

  @Test func colourOnlyWhenAsked() throws {
    let plan = try mixedPlan()
    #expect(!PlanRenderer(color: false).text(plan).contains("\u{1B}["))
    #expect(
      PlanRenderer(color: true).text(plan).contains("\u{1B}[32m+\u{1B}[0m")
        || PlanRenderer(color: true).text(plan).contains("\u{1B}[33m~\u{1B}[0m"))
  }

  @Test func noChangesSummary() throws {
    let envs = try ["dev", "staging", "prod"].map(sample)
    let plan = Plan(environments: try envs.map { try PlanBuilder.plan($0, recorded: recorded($0)) })
    #expect(PlanRenderer().summary(plan) == "No changes. All 3 environments match their recorded state.")
    #expect(PlanJSON.encode(plan)["summary"]?["changes"] == .int(0))
  }

  @Test func jsonRoundTripsThroughTheSavedPlanDecoder() throws {
    let plan = try mixedPlan()
    let decoded = try PlanJSON.decode(PlanJSON.render(plan))
    #expect(decoded == plan)
  }

  @Test func decoderRefusesForeignFiles() {
    #expect(throws: PlanJSON.DecodeError.self) { try PlanJSON.decode("not json") }
    #expect(throws: PlanJSON.DecodeError.self) { try PlanJSON.decode(#"{"format_version":"9","environments":[]}"#) }
    #expect(throws: PlanJSON.DecodeError.self) {
      try PlanJSON.decode(#"{"format_version":"1","environments":[{"name":"x"}]}"#)
    }
  }

  @Test func secretsAreRedactedInEveryFormat() throws {
    var env = try sample("dev")
    let rec = recorded(env)
    env.setCluster("spec.assets.containerProxy", .string("http://builder:hunter2@registry-proxy.corp.local:5000"))
    env.setCluster("spec.kubeAPIServer.oidcClientSecret", .string("s3cr3t-value-123"))
    env.setCluster(
      "spec.additionalPolicies.node",
      .string(
        #"[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:token":"tok-ABCDEF123456"}}}]"#))
    let plan = Plan(environments: [try PlanBuilder.plan(env, recorded: rec)])
    let outputs = [
      PlanRenderer().text(plan), PlanRenderer(color: true).text(plan), PlanRenderer().markdown(plan).joined(), PlanJSON.render(plan),
    ]
    for o in outputs {
      #expect(!o.contains("hunter2"))
      #expect(!o.contains("s3cr3t-value-123"))
      #expect(!o.contains("tok-ABCDEF123456"))
      #expect(o.contains("(redacted)"))
      #expect(o.contains("registry-proxy.corp.local"))
    }
  }

  @Test func largeMarkdownIsSplitIntoPartsUnderTheLimit() throws {
    var envs: [EnvironmentPlan] = []
    for i in 0..<60 {
      var env = try sample("dev")
      env.name = "dev-\(i)"
      envs.append(try PlanBuilder.plan(env, recorded: nil))
    }
    let parts = PlanRenderer().markdown(Plan(environments: envs))
    #expect(parts.count > 1)
    for (i, p) in parts.enumerated() {
      #expect(p.count < 65_000)
      #expect(p.hasPrefix("*Part \(i + 1) of \(parts.count)*"))
    }
    let all = parts.joined()
    for i in 0..<60 { #expect(all.contains("<b>dev-\(i)</b>")) }
    #expect(parts[0].contains("Plan: "))
  }

  @Test func oneHugeEnvironmentIsCutNotOverflowed() throws {
    var env = try sample("dev")
    let rec = recorded(env)
    env.setCluster(
      "spec.fileAssets",
      .sequence(
        (0..<3000).map { i in
          .mapping([
            YAMLPair(key: "name", value: .string("asset-\(i)")),
            YAMLPair(key: "content", value: .string(String(repeating: "x", count: 40))),
          ])
        }))
    let parts = PlanRenderer().markdown(Plan(environments: [try PlanBuilder.plan(env, recorded: rec)]))
    for p in parts { #expect(p.count < 65_000) }
  }
}
