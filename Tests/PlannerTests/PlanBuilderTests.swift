import Config
import Model
import Planner
import Testing

@Suite struct PlanBuilderTests {
  @Test func firstPlanFromEmptyCreatesTheClusterInsideAnIGWBracket() throws {
    let env = try sample("dev")
    let p = try PlanBuilder.plan(env, recorded: nil)
    #expect(p.prior == nil)
    #expect(p.steps.map(\.kind) == [.clusterCreate, .igwAttach, .kopsUpdate, .igwDetach, .validate])
    #expect(p.steps[0].command == ["kops", "create", "-f", "<scratch>/cluster.yaml", "--state", "s3://corp-kops-state-dev"])
    #expect(
      p.steps[2].command == [
        "kops", "update", "cluster", "dev.k8s.corp.local", "--state", "s3://corp-kops-state-dev", "--yes", "--create-kube-config=false",
      ])
    #expect(
      p.steps[1].command == [
        "aws", "ec2", "attach-internet-gateway", "--internet-gateway-id=igw-0a1b2c3d4e5f60718", "--vpc-id=vpc-0a11d2e3f4a5b6c7d",
        "--region=ap-northeast-1", "--profile=corp-dev", "--output=json",
      ])
    #expect(p.changes.filter { $0.category == .instancegroup && $0.action == .create }.count == 3)
    #expect(p.rolls.isEmpty)
  }

  @Test func recordedEqualToDesiredPlansNothing() throws {
    for name in ["dev", "staging", "prod"] {
      let env = try sample(name)
      let p = try PlanBuilder.plan(env, recorded: recorded(env))
      #expect(p.changes.isEmpty, "\(name): \(p.changes.map(\.path))")
      #expect(p.steps.isEmpty)
      #expect(!p.hasChanges)
      #expect(p.prior == PriorState(serial: 3, lineage: "7d0c3c7e-4f1c-4b8e-9a51-1f0e2d3c4b5a"))
    }
  }

  @Test func egressProxyEditRollsEveryGroup() throws {
    var env = try sample("dev")
    let rec = recorded(env)
    env.setCluster("spec.egressProxy.excludes", .string("corp.local,10.10.0.0/16,169.254.169.254,s3.ap-northeast-1.amazonaws.com"))
    let p = try PlanBuilder.plan(env, recorded: rec)
    #expect(p.changes.map(\.path) == ["spec.egressProxy.excludes", "internetGateway[igw-0a1b2c3d4e5f60718]"])
    #expect(p.changes[0].category == .spec)
    #expect(p.rolls == ["control-plane-ap-northeast-1a", "nodes-ap-northeast-1a", "nodes-ap-northeast-1c"])
    #expect(p.steps.map(\.kind) == [.clusterReplace, .igwAttach, .kopsUpdate, .igwDetach, .rollingUpdate, .validate])
    #expect(
      p.steps[4].command.suffix(3) == [
        "--yes", "--instance-group", "control-plane-ap-northeast-1a,nodes-ap-northeast-1a,nodes-ap-northeast-1c",
      ])
    #expect(p.steps[4].disruptive)
  }

  @Test func reformattedAndReorderedPolicyPlansNothing() throws {
    var env = try sample("dev")
    let rec = recorded(env)
    env.setCluster(
      "spec.additionalPolicies.node",
      .string(
        #"[{"Resource":"arn:aws:logs:ap-northeast-1:*:log-group:/k8s/*","Action":["logs:PutLogEvents","logs:DescribeLogStreams","logs:CreateLogStream","logs:CreateLogGroup"],"Effect":"Allow"}]"#
      ))
    let p = try PlanBuilder.plan(env, recorded: rec)
    #expect(p.changes.isEmpty)
    #expect(p.steps.isEmpty)
  }

  @Test func addingS3StarIsWideningAndRollsNothing() throws {
    var env = try sample("dev")
    let rec = recorded(env)
    env.setCluster(
      "spec.additionalPolicies.node",
      .string(
        #"[{"Effect":"Allow","Action":["logs:CreateLogGroup","logs:CreateLogStream","logs:PutLogEvents","logs:DescribeLogStreams"],"Resource":["arn:aws:logs:ap-northeast-1:*:log-group:/k8s/*"]},{"Effect":"Allow","Action":"s3:*","Resource":"*"}]"#
      ))
    let p = try PlanBuilder.plan(env, recorded: rec)
    let iam = p.changes.filter { $0.category == .iam }
    #expect(iam.count == 1)
    #expect(iam.first?.path == "spec.additionalPolicies.node[1]")
    #expect(iam.first?.action == .create)
    #expect(iam.first?.widening == true)
    #expect(p.rolls.isEmpty)
    #expect(!p.steps.contains { $0.kind == .rollingUpdate })
    #expect(p.steps.map(\.kind) == [.clusterReplace, .igwAttach, .kopsUpdate, .igwDetach, .validate])
  }

  @Test func narrowingAnActionIsNotWidening() throws {
    var env = try sample("dev")
    let rec = recorded(env)
    env.setCluster(
      "spec.additionalPolicies.master",
      .string(
        #"[{"Effect":"Allow","Action":["logs:CreateLogStream","logs:PutLogEvents"],"Resource":["arn:aws:logs:ap-northeast-1:*:log-group:/k8s/*"]}]"#
      ))
    let p = try PlanBuilder.plan(env, recorded: rec)
    let iam = try #require(p.changes.first { $0.category == .iam })
    #expect(iam.action == .update)
    #expect(iam.widening == false)
    #expect(iam.path == "spec.additionalPolicies.master[0]")
  }

  @Test func addingAnActionToAStatementIsWidening() throws {
    var env = try sample("dev")
    let rec = recorded(env)
    env.setCluster(
      "spec.additionalPolicies.master",
      .string(
        #"[{"Effect":"Allow","Action":["logs:CreateLogGroup","logs:CreateLogStream","logs:PutLogEvents","logs:DescribeLogStreams","logs:DeleteLogGroup"],"Resource":["arn:aws:logs:ap-northeast-1:*:log-group:/k8s/*"]}]"#
      ))
    let p = try PlanBuilder.plan(env, recorded: rec)
    let iam = try #require(p.changes.first { $0.category == .iam })
    #expect(iam.widening)
  }

  @Test func logOptIsAKeyValueMapInTheLoggingCategory() throws {
    var env = try sample("dev")
    let rec = recorded(env)
    env.setCluster(
      "spec.docker.logOpt",
      .sequence([.string("awslogs-group=/k8s/dev-v2"), .string("awslogs-region=ap-northeast-1"), .string("awslogs-create-group=true")]))
    let p = try PlanBuilder.plan(env, recorded: rec)
    #expect(p.changes.filter { $0.category == .logging }.map(\.path) == ["spec.docker.logOpt[awslogs-group]"])
    let c = try #require(p.changes.first)
    #expect(c.before == .string("/k8s/dev"))
    #expect(c.after == .string("/k8s/dev-v2"))
    #expect(p.rolls.count == 3)
  }

  @Test func reorderedLogOptPlansNothing() throws {
    var env = try sample("dev")
    let rec = recorded(env)
    env.setCluster(
      "spec.docker.logOpt",
      .sequence([.string("awslogs-group=/k8s/dev"), .string("awslogs-create-group=true"), .string("awslogs-region=ap-northeast-1")]))
    let p = try PlanBuilder.plan(env, recorded: rec)
    #expect(p.changes.isEmpty)
  }

  @Test func kubeletLogSizeIsLogging() throws {
    var env = try sample("prod")
    let rec = recorded(env)
    env.setCluster("spec.kubelet.containerLogMaxFiles", .int(7))
    let p = try PlanBuilder.plan(env, recorded: rec)
    #expect(p.changes.map(\.category) == [.logging])
    #expect(p.changes.first?.path == "spec.kubelet.containerLogMaxFiles")
    // prod is external-egress: no IGW steps
    #expect(p.steps.map(\.kind) == [.clusterReplace, .kopsUpdate, .rollingUpdate, .validate])
  }

  @Test func machineTypeRollsOnlyThatGroupAndSizesRollNothing() throws {
    var env = try sample("dev")
    let rec = recorded(env)
    env.setIG("nodes-ap-northeast-1c", "spec.machineType", .string("m5.2xlarge"))
    env.setIG("nodes-ap-northeast-1a", "spec.maxSize", .int(6))
    let p = try PlanBuilder.plan(env, recorded: rec)
    #expect(p.rolls == ["nodes-ap-northeast-1c"])
    let paths = p.changes.filter { $0.category == .instancegroup }.map(\.path)
    #expect(
      paths.sorted() == ["instancegroup[nodes-ap-northeast-1a].spec.maxSize", "instancegroup[nodes-ap-northeast-1c].spec.machineType"])
    #expect(p.steps.filter { $0.kind == .instanceGroupReplace }.count == 2)
    #expect(p.steps.first { $0.kind == .rollingUpdate }?.instanceGroups == ["nodes-ap-northeast-1c"])
  }

  @Test func externalDnsChangeRollsNothing() throws {
    var env = try sample("staging")
    let rec = recorded(env)
    env.setCluster("spec.externalDns.watchIngress", .bool(false))
    let p = try PlanBuilder.plan(env, recorded: rec)
    #expect(p.rolls.isEmpty)
    #expect(!p.changes.isEmpty)
  }

  @Test func subnetsAreMatchedByNameNotIndex() throws {
    var env = try sample("dev")
    let rec = recorded(env)
    var subnets = try #require(env.cluster[path: "spec", "subnets"]?.items)
    subnets.reverse()
    subnets[0].set("cidr", .string("10.10.8.0/22"))
    env.setCluster("spec.subnets", .sequence(subnets))
    let p = try PlanBuilder.plan(env, recorded: rec)
    #expect(p.changes.map(\.path).first == "spec.subnets[name=utility-ap-northeast-1c].cidr")
    #expect(p.changes.filter { $0.category == .spec }.count == 1)
  }

  @Test func newAndRemovedInstanceGroups() throws {
    var env = try sample("dev")
    let rec = recorded(env)
    var ig = env.instanceGroups[2]
    ig.set(path: ["metadata", "name"], .string("nodes-gpu"))
    env.instanceGroups.remove(at: 1)
    env.instanceGroups.append(ig)
    let p = try PlanBuilder.plan(env, recorded: rec)
    #expect(p.steps.map(\.kind) == [.instanceGroupCreate, .instanceGroupDelete, .igwAttach, .kopsUpdate, .igwDetach, .validate])
    #expect(p.steps[0].command.contains("--force"))
    #expect(
      p.steps[1].command == [
        "kops", "delete", "instancegroup", "nodes-ap-northeast-1a", "--name", "dev.k8s.corp.local", "--state", "s3://corp-kops-state-dev",
        "--yes",
      ])
    #expect(p.rolls.isEmpty)
  }

  /// A kopsVersion different from the kops that last ran `update --yes` is a kops upgrade:
  /// `update --yes` and a roll of every group; a major.minor step reminds of `kops upgrade cluster`.
  @Test(arguments: [("1.28.3", false), ("1.27.3", true)])
  func aKopsVersionChangeIsAPlannedUpgrade(last: String, reminds: Bool) throws {
    let env = try sample("prod")
    var state = recorded(env)
    state.updatedByKops = last
    let p = try PlanBuilder.plan(env, recorded: state)
    let upgrade = try #require(p.changes.first { $0.category == .upgrade })
    #expect(upgrade.before == .string(last) && upgrade.after == .string("1.28.4"))
    #expect(upgrade.rolls == env.instanceGroupViews.compactMap(\.name).sorted())
    #expect(p.steps.map(\.kind) == [.kopsUpdate, .rollingUpdate, .validate])
    #expect(p.steps[1].instanceGroups == upgrade.rolls)
    #expect(p.owed.map(PlanRenderer.owedLine).contains { $0.contains("kops upgrade cluster prod.k8s.corp.local") } == reminds, "\(p.owed)")
    #expect(p.owed.contains { if case .upgradeReview = $0 { true } else { false } } == reminds)
    // the same version plans nothing
    state.updatedByKops = "1.28.4"
    #expect(try PlanBuilder.plan(env, recorded: state).changes.isEmpty)
  }

  @Test func lowerLayersOweWorkEvenWithoutASpecDiff() throws {
    let env = try sample("dev")
    // update never ran
    var p = try PlanBuilder.plan(env, recorded: recorded(env, cloudUpdated: false))
    #expect(p.changes.map(\.category) == [.igw])
    #expect(p.steps.map(\.kind) == [.igwAttach, .kopsUpdate, .igwDetach, .validate])
    #expect(p.owed.count == 1)
    #expect(p.hasChanges)
    // rolls still owed
    p = try PlanBuilder.plan(env, recorded: recorded(env, pendingRolls: ["nodes-ap-northeast-1a"]))
    #expect(p.steps.map(\.kind) == [.rollingUpdate, .validate])
    #expect(p.steps[0].instanceGroups == ["nodes-ap-northeast-1a"])
    // gateway left attached
    p = try PlanBuilder.plan(env, recorded: recorded(env, igwAttached: true))
    #expect(p.steps.map(\.kind) == [.igwDetach])
    // validate never passed after the cloud changed (layer 4): validating is all that is left
    p = try PlanBuilder.plan(env, recorded: recorded(env, validated: false))
    #expect(p.changes.isEmpty)
    #expect(p.steps.map(\.kind) == [.validate])
    #expect(p.owed == [.validationOwed])
    #expect(p.owed.map(PlanRenderer.owedLine)[0].contains("kops validate cluster has not passed"))
    #expect(p.hasChanges)
    // with other work owed, validate runs once, at the end, and owes no separate line
    p = try PlanBuilder.plan(env, recorded: recorded(env, pendingRolls: ["nodes-ap-northeast-1a"], validated: false))
    #expect(p.steps.map(\.kind) == [.rollingUpdate, .validate])
    #expect(p.owed.count == 1)
    // nothing recorded as written to the cloud yet: update first, then validate (no extra line)
    p = try PlanBuilder.plan(env, recorded: recorded(env, cloudUpdated: false, validated: false))
    #expect(p.steps.map(\.kind) == [.igwAttach, .kopsUpdate, .igwDetach, .validate])
    #expect(p.owed.count == 1)
  }

  @Test func manualRollingUpdateReportsRollsWithoutAStep() throws {
    var env = try sample("dev")
    env.settings.rollingUpdate = .manual
    let rec = recorded(env)
    env.setCluster("spec.kubernetesVersion", .string("1.23.18"))
    let p = try PlanBuilder.plan(env, recorded: rec)
    #expect(!p.steps.contains { $0.kind == .rollingUpdate })
    #expect(p.rolls.count == 3)
    #expect(p.owed.map(PlanRenderer.owedLine).contains { $0.contains("manual") })
    #expect(
      p.owed.contains { if case .manualRolls("dev.k8s.corp.local", let groups) = $0 { groups.count == 3 } else { false } }, "\(p.owed)")
  }

  @Test func lifecycleIgnoreStrategyAddsTheOverride() throws {
    var env = try sample("staging")
    env.settings.igwStrategy = .lifecycleIgnore
    let p = try PlanBuilder.plan(env, recorded: nil)
    let update = try #require(p.steps.first { $0.kind == .kopsUpdate })
    #expect(update.command.suffix(2) == ["--lifecycle-overrides", "InternetGateway=Ignore"])
    #expect(!p.steps.contains { $0.kind == .igwAttach })
  }
}
