import Config
import Foundation
import HKTestSupport
import Model
import Testing

/// fake-kops against the simulated cloud: update (dry run, --yes, the IGW rule against a real
/// moto server), kubeconfig export, rolling-update, validate.
@Suite struct FakeKopsCloudTests {
  @Test func updateWithoutAnAttachedGatewayHitsTheTaskDeadlineThenSucceedsAfterAttach() throws {
    let f = try FakeKopsFixture()
    try f.create()
    let dry = try f.kops.run(["update", "cluster", FakeKopsFixture.cluster])
    #expect(dry.exitCode == 0)
    #expect(dry.stdout.contains("Will create resources:\n"))
    #expect(dry.stdout.contains("  InternetGateway/c1.k8s.test\n"))
    #expect(dry.stdout.hasSuffix("Must specify --yes to apply changes\n"))

    let failed = try f.kops.run(["update", "cluster", FakeKopsFixture.cluster, "--yes", "--create-kube-config=false"])
    #expect(failed.exitCode == 1)
    #expect(failed.stderr.contains("] error running task \"InternetGateway/c1.k8s.test\" ("))
    #expect(failed.stderr.contains("remaining to succeed): InternetGateway for shared VPC was not found\n"))
    #expect(
      failed.stderr.hasSuffix(
        "Error: error running tasks: deadline exceeded executing task InternetGateway/c1.k8s.test. Example error: InternetGateway for shared VPC was not found\n"
      ))
    #expect(f.kops.cloudState(FakeKopsFixture.cluster) == nil)
    #expect(!FileManager.default.fileExists(atPath: f.kops.storeFile(FakeKopsFixture.cluster, "cluster-completed.spec")))

    let igw = try f.attachGateway()
    #expect(try f.moto?.attachedVPCs(igw: igw) == [f.vpc])
    let applied = try f.kops.run(["update", "cluster", FakeKopsFixture.cluster, "--yes", "--create-kube-config=false"])
    #expect(applied.exitCode == 0, "\(applied)")
    #expect(applied.stdout.contains("Cluster changes have been applied to the cloud.\n"))
    #expect(f.kops.cloudState(FakeKopsFixture.cluster)?["applied"]?.boolValue == true)
    let version = try String(contentsOfFile: f.kops.storeFile(FakeKopsFixture.cluster, "kops-version.txt"), encoding: .utf8)
    #expect(version == "1.28.4")

    // hk detaches the gateway after the update: the next dry run shows the task again.
    try f.moto?.detachInternetGateway(igw, vpc: f.vpc)
    #expect(try f.moto?.attachedVPCs(igw: igw) == [])
    let after = try f.kops.run(["update", "cluster", FakeKopsFixture.cluster])
    #expect(after.stdout.contains("  InternetGateway/c1.k8s.test\n"))
  }

  enum GatewayAvoidance: String, CaseIterable, Sendable { case externalEgress, lifecycleIgnore }

  @Test(arguments: GatewayAvoidance.allCases)
  func updateSucceedsWithoutAGatewayWhenKopsNeedsNone(_ way: GatewayAvoidance) throws {
    let f = try FakeKopsFixture()
    try f.create(egress: way == .externalEgress ? "External" : nil)
    var args = ["update", "cluster", FakeKopsFixture.cluster, "--yes", "--create-kube-config=false"]
    if way == .lifecycleIgnore { args += ["--lifecycle-overrides", "InternetGateway=Ignore"] }
    let applied = try f.kops.run(args)
    #expect(applied.exitCode == 0, "\(applied)")
    #expect(!applied.stderr.contains("InternetGateway"))
    var dryArgs = ["update", "cluster", FakeKopsFixture.cluster, "--target", "dryrun"]
    if way == .lifecycleIgnore { dryArgs += ["--lifecycle-overrides=InternetGateway=Ignore"] }
    let dry = try f.kops.run(dryArgs)
    #expect(dry.stdout == "No changes need to be applied\n")
  }

  @Test func unknownLifecycleIsRefused() throws {
    let f = try FakeKopsFixture()
    try f.create()
    let result = try f.kops.run(["update", "cluster", FakeKopsFixture.cluster, "--lifecycle-overrides", "InternetGateway=Skip"])
    #expect(result.exitCode == 1)
    #expect(
      result.stderr.hasSuffix(
        "Error: unknown lifecycle \"Skip\", available lifecycle: ExistsAndValidates,ExistsAndWarnIfChanges,Ignore,Sync,WarnIfInsufficientAccess\n"
      ))
  }

  @Test func dryRunMarkersBeforeAndAfterYes() throws {
    let f = try FakeKopsFixture()
    try f.create()
    try f.attachGateway()
    let before = try f.kops.run(["update", "cluster", FakeKopsFixture.cluster])
    #expect(before.exitCode == 0)
    #expect(before.stdout.hasPrefix("Will create resources:\n"))
    #expect(before.stdout.contains("  ManagedFile/cluster-completed.spec\n"))
    #expect(before.stdout.contains("  \tMinSize             \t2\n"))
    #expect(before.stdout.hasSuffix("\nMust specify --yes to apply changes\n"))
    #expect(!before.stdout.contains("] "), "klog lines belong on stderr")
    #expect(before.stderr.contains("] Tasks: "))

    let applied = try f.kops.run(["update", "cluster", FakeKopsFixture.cluster, "--yes", "--create-kube-config=false"])
    try #require(applied.exitCode == 0, "\(applied)")
    let clean = try f.kops.run(["update", "cluster", FakeKopsFixture.cluster])
    #expect(clean.exitCode == 0)
    #expect(clean.stdout == "No changes need to be applied\n")

    // A proxy change reaches every node (nodeup config + launch template) and the completed spec.
    let changed = try f.manifest("changed.yaml", [f.clusterYAML(proxyPort: 8080)])
    try #require(try f.kops.run(["replace", "-f", changed]).exitCode == 0)
    let modified = try f.kops.run(["update", "cluster", FakeKopsFixture.cluster, "--target=dryrun", "--yes"])
    #expect(modified.exitCode == 0)
    #expect(modified.stdout.hasPrefix("Will modify resources:\n"))
    #expect(modified.stdout.contains("  ManagedFile/nodeupconfig-nodes-a\n  \tContents            \n"))
    #expect(modified.stdout.contains("  LaunchTemplate/nodes-b.c1.k8s.test\n  \tUserData            \n"))
    #expect(modified.stdout.contains("\t-       port: 3128\n"))
    #expect(modified.stdout.contains("\t+       port: 8080\n"))
    #expect(modified.stdout.hasSuffix("Must specify --yes to apply changes\n"))

    // A size change is an autoscaling-group modification with kops's " old -> new" text.
    let bigger = try f.manifest("bigger.yaml", [FakeKopsFixture.instanceGroupYAML("nodes-b", min: 1, max: 5)])
    try #require(try f.kops.run(["replace", "-f", bigger]).exitCode == 0)
    let sized = try f.kops.run(["update", "cluster", FakeKopsFixture.cluster])
    #expect(sized.stdout.contains("  AutoscalingGroup/nodes-b.c1.k8s.test\n  \tMaxSize             \t 3 -> 5\n"))
  }

  @Test func updateYesWritesAKubeconfigUnlessDisabled() throws {
    let f = try FakeKopsFixture()
    try f.create(egress: "External")
    let disabled = try f.kops.run(["update", "cluster", FakeKopsFixture.cluster, "--yes", "--create-kube-config=false"])
    #expect(disabled.exitCode == 0, "\(disabled)")
    #expect(!FileManager.default.fileExists(atPath: f.kops.defaultKubeconfig))
    #expect(!disabled.stdout.contains("kubectl context"))

    let scratch = f.dir.file("scratch.kubeconfig")
    let redirected = try f.kops.run(["update", "cluster", FakeKopsFixture.cluster, "--yes"], env: ["KUBECONFIG": scratch])
    #expect(redirected.exitCode == 0)
    #expect(!FileManager.default.fileExists(atPath: f.kops.defaultKubeconfig))
    #expect(FileManager.default.fileExists(atPath: scratch))

    let written = try f.kops.run(["update", "cluster", FakeKopsFixture.cluster, "--yes"])
    #expect(written.exitCode == 0)
    #expect(written.stdout.contains("kOps has set your kubectl context to c1.k8s.test\n"))
    #expect(written.stdout.contains("Cluster is starting.  It should be ready in a few minutes.\n"))
    let text = try String(contentsOfFile: f.kops.defaultKubeconfig, encoding: .utf8)
    let doc = try #require(try YAMLParser.parse(text, file: "kubeconfig").first)
    #expect(doc["current-context"]?.text == "c1.k8s.test")
    #expect(doc["contexts"]?.items?.first?["name"]?.text == "c1.k8s.test")

    let second = try f.kops.run(["update", "cluster", FakeKopsFixture.cluster, "--yes"])
    #expect(second.stdout.contains("Cluster changes have been applied to the cloud.\n"))
  }

  @Test func rollingUpdateTableFollowsWhatWasPushedAndRolled() throws {
    let f = try FakeKopsFixture()
    try f.create(egress: "External")
    try #require(try f.kops.run(["update", "cluster", FakeKopsFixture.cluster, "--yes", "--create-kube-config=false"]).exitCode == 0)
    let kubeconfig = try f.exportKubeconfig()
    let env = ["KUBECONFIG": kubeconfig]

    let fresh = try f.kops.run(["rolling-update", "cluster", FakeKopsFixture.cluster], env: env)
    #expect(fresh.exitCode == 0, "\(fresh)")
    #expect(fresh.stdout.hasPrefix("Detected single-control-plane cluster; won't detach before draining\n"))
    #expect(FakeKopsFixture.tableRows(fresh.stdout)[1] == ["NAME", "STATUS", "NEEDUPDATE", "READY", "MIN", "TARGET", "MAX", "NODES"])
    #expect(FakeKopsFixture.rollingRows(fresh.stdout)["nodes-a"] == ["nodes-a", "Ready", "0", "2", "2", "2", "4", "2"])
    #expect(fresh.stdout.hasSuffix("\nNo rolling-update required.\n"))

    // IAM-only changes never need a roll (the manifest keeps the excludes kops added at create:
    // sending the original list back would change every node's configuration).
    let excludes = try #require(try f.liveCluster()[path: "spec", "egressProxy", "excludes"]?.text)
    let iam = try f.manifest(
      "iam.yaml",
      [
        f.clusterYAML(
          egress: "External", excludes: excludes,
          extraSpec: "  additionalPolicies:\n    node: '[{\"Effect\":\"Allow\",\"Action\":[\"s3:GetObject\"],\"Resource\":[\"*\"]}]'")
      ])
    try #require(try f.kops.run(["replace", "-f", iam]).exitCode == 0)
    let iamDry = try f.kops.run(["update", "cluster", FakeKopsFixture.cluster])
    #expect(iamDry.stdout.contains("Will create resources:\n  IAMRolePolicy/additional.nodes.c1.k8s.test\n"))
    try #require(try f.kops.run(["update", "cluster", FakeKopsFixture.cluster, "--yes", "--create-kube-config=false"]).exitCode == 0)
    let afterIAM = try f.kops.run(["rolling-update", "cluster", FakeKopsFixture.cluster, "--cloudonly"], env: env)
    #expect(afterIAM.stdout.hasSuffix("\nNo rolling-update required.\n"))
    #expect(!afterIAM.stdout.contains("NODES"))

    // A proxy change: every group needs an update once pushed.
    let proxy = try f.manifest("proxy.yaml", [f.clusterYAML(egress: "External", proxyPort: 8080, excludes: excludes)])
    try #require(try f.kops.run(["replace", "-f", proxy]).exitCode == 0)
    let notPushed = try f.kops.run(["rolling-update", "cluster", FakeKopsFixture.cluster], env: env)
    #expect(notPushed.stdout.hasSuffix("\nNo rolling-update required.\n"), "nothing was pushed yet")
    try #require(try f.kops.run(["update", "cluster", FakeKopsFixture.cluster, "--yes", "--create-kube-config=false"]).exitCode == 0)
    let pending = try f.kops.run(["rolling-update", "cluster", FakeKopsFixture.cluster], env: env)
    let rows = FakeKopsFixture.rollingRows(pending.stdout)
    #expect(rows["control-plane-a"] == ["control-plane-a", "NeedsUpdate", "1", "0", "1", "1", "1", "1"])
    #expect(rows["nodes-a"] == ["nodes-a", "NeedsUpdate", "2", "0", "2", "2", "4", "2"])
    #expect(rows["nodes-b"]?[1] == "NeedsUpdate")
    #expect(pending.stdout.hasSuffix("\nMust specify --yes to rolling-update.\n"))

    let rolled = try f.kops.run(
      ["rolling-update", "cluster", FakeKopsFixture.cluster, "--yes", "--instance-group", "nodes-a"], env: env)
    #expect(rolled.exitCode == 0, "\(rolled)")
    #expect(rolled.stderr.contains("Rolling update completed for cluster \"c1.k8s.test\"!"))
    let after = FakeKopsFixture.rollingRows(try f.kops.run(["rolling-update", "cluster", FakeKopsFixture.cluster], env: env).stdout)
    #expect(after["nodes-a"]?[1] == "Ready")
    #expect(after["nodes-b"]?[1] == "NeedsUpdate")
    #expect(after["control-plane-a"]?[1] == "NeedsUpdate")
    let record = f.kops.cloudState(FakeKopsFixture.cluster)?["rollingUpdates"]?.arrayValue?.last
    #expect(record?["instanceGroups"]?.arrayValue?.compactMap(\.stringValue) == ["nodes-a"])

    let unknown = try f.kops.run(["rolling-update", "cluster", FakeKopsFixture.cluster, "--instance-group", "nodes-z"], env: env)
    #expect(unknown.exitCode == 1)
    #expect(unknown.stderr.hasSuffix("Error: InstanceGroup \"nodes-z\" not found\n"))
  }

  @Test(arguments: [("1.28.4", "control-plane"), ("1.25.4", "master")])
  func validateReportsJSONAndFailsWhenUnhealthy(version: String, controlPlaneRole: String) throws {
    let f = try FakeKopsFixture(version: version)
    try f.create(egress: "External")
    let before = try f.kops.run(["validate", "cluster", FakeKopsFixture.cluster, "-o", "json"])
    #expect(before.exitCode == 1)
    #expect(before.stdout.isEmpty)

    try #require(try f.kops.run(["update", "cluster", FakeKopsFixture.cluster, "--yes"]).exitCode == 0)
    let healthy = try f.kops.run(["validate", "cluster", FakeKopsFixture.cluster, "-o", "json"])
    #expect(healthy.exitCode == 0, "\(healthy)")
    #expect(!healthy.stdout.hasSuffix("\n"))
    let report = try JSONValue.parse(healthy.stdout)
    #expect(report["failures"] == nil)
    let nodes = report["nodes"]?.arrayValue ?? []
    #expect(nodes.count == 4)
    #expect(nodes.filter { $0["role"]?.stringValue == controlPlaneRole }.count == 1)
    #expect(nodes.allSatisfy { $0["status"]?.stringValue == "True" && $0["zone"]?.stringValue == "ap-northeast-1a" })

    let sick = try f.kops.run(["validate", "cluster", FakeKopsFixture.cluster, "-o", "json"], env: ["FAKE_KOPS_UNHEALTHY": "1"])
    #expect(sick.exitCode == 1)
    let failures = try JSONValue.parse(sick.stdout)["failures"]?.arrayValue ?? []
    #expect(!failures.isEmpty)
    #expect(failures.first?["type"]?.stringValue == "Machine")
    let prefix = version == "1.25.4" ? "Validation failed" : "validation failed"
    #expect(sick.stderr.hasSuffix("Error: \(prefix): cluster not yet healthy\n"))
  }

  @Test func validateCanTurnHealthyAfterSomeRounds() throws {
    let f = try FakeKopsFixture()
    try f.create(egress: "External")
    try #require(try f.kops.run(["update", "cluster", FakeKopsFixture.cluster, "--yes"]).exitCode == 0)
    let env = ["FAKE_KOPS_UNHEALTHY": "rounds:2"]
    let codes = try (0..<3).map { _ in try f.kops.run(["validate", "cluster", FakeKopsFixture.cluster, "-o", "json"], env: env).exitCode }
    #expect(codes == [1, 1, 0])
  }

  @Test(arguments: [("1.30.4", true), ("1.31.0", false)])
  func rollingUpdateAndValidateNeedAKubeconfigContextUpTo130(version: String, needed: Bool) throws {
    let f = try FakeKopsFixture(version: version)
    try f.create(egress: "External")
    try #require(try f.kops.run(["update", "cluster", FakeKopsFixture.cluster, "--yes", "--create-kube-config=false"]).exitCode == 0)
    let message = "cannot load kubecfg settings for \"c1.k8s.test\": context \"c1.k8s.test\" does not exist"
    let validate = try f.kops.run(["validate", "cluster", FakeKopsFixture.cluster, "-o", "json"])
    #expect((validate.exitCode == 1) == needed, "\(validate)")
    #expect(validate.stderr.contains(message) == needed)
    let rolling = try f.kops.run(["rolling-update", "cluster", FakeKopsFixture.cluster, "--cloudonly"])
    #expect((rolling.exitCode == 1) == needed, "\(rolling)")
    #expect(rolling.stderr.contains(message) == needed)

    let kubeconfig = try f.exportKubeconfig()
    let text = try String(contentsOfFile: kubeconfig, encoding: .utf8)
    #expect(text.contains("client-certificate-data:"))
    let withContext = try f.kops.run(["validate", "cluster", FakeKopsFixture.cluster, "-o", "json"], env: ["KUBECONFIG": kubeconfig])
    #expect(withContext.exitCode == 0, "\(withContext)")
  }

  @Test func updateNeedsTheAWSAPI() throws {
    let f = try FakeKopsFixture()
    try f.create(egress: "External")
    let result = try f.kops.run(["update", "cluster", FakeKopsFixture.cluster], env: ["AWS_ENDPOINT_URL": ""])
    #expect(result.exitCode == 1)
    #expect(result.stderr.contains("Error: error querying for valid AZs in \"ap-northeast-1\" - verify your AWS credentials."))
  }
}
