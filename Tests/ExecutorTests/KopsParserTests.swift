import Executor
import Model
import Testing

/// KopsOutput parsers against the real kops output shapes quoted in kops-contract.md §1.7–1.9.
struct KopsParserTests {
  // MARK: update cluster

  /// docs/examples/kops-test-route53-subdomain.md: tabs rendered as spaces, a klog line before.
  static let docsModify = """
    I0906 10:16:35.320078   13607 executor.go:91] Tasks: 75 done / 75 total; 0 can run
    Will modify resources:
      AutoscalingGroup/nodes.mycluster01.kopsclustertest.example.org
            MinSize                  2 -> 3
            MaxSize                  2 -> 3

    Must specify --yes to apply changes

    """

  @Test func modifyReportFromTheDocs() throws {
    let report = KopsOutput.parseUpdateDryRun(Self.docsModify)
    #expect(report.marker == .mustSpecifyYes)
    #expect(report.hasChanges)
    #expect(report.created.isEmpty)
    let task = try #require(report.modified.first)
    #expect(report.modified.count == 1)
    #expect(task.type == "AutoscalingGroup")
    #expect(task.name == "nodes.mycluster01.kopsclustertest.example.org")
    #expect(task.fields.map(\.field) == ["MinSize", "MaxSize"])
    #expect(task.fields.map(\.old) == ["2", "2"])
    #expect(task.fields.map(\.new) == ["3", "3"])
    #expect(task.fields.first?.value == "2 -> 3")
  }

  /// kubernetes/kops#1782: two created IAMRolePolicy tasks, kops's real tab layout.
  static let createIAMRolePolicies =
    "Will create resources:\n"
    + "  IAMRolePolicy/additional.nodes.dev.k8s.corp.local\n"
    + "  \tRole                \tname:nodes.dev.k8s.corp.local id:AROAIRLSNRHFQ23MJJMKO\n"
    + "\n"
    + "  IAMRolePolicy/additional.masters.dev.k8s.corp.local\n"
    + "  \tRole                \tname:masters.dev.k8s.corp.local id:AROAJ5QSXIE7BQ53LBFEA\n"
    + "\n"
    + "Must specify --yes to apply changes\n"

  @Test func createReportWithTabs() {
    let report = KopsOutput.parseUpdateDryRun(Self.createIAMRolePolicies)
    #expect(report.hasChanges)
    #expect(
      report.taskKeys == [
        "IAMRolePolicy/additional.nodes.dev.k8s.corp.local", "IAMRolePolicy/additional.masters.dev.k8s.corp.local",
      ])
    #expect(report.created.map { $0.fields.map(\.field) } == [["Role"], ["Role"]])
    #expect(report.created.first?.fields.first?.value == "name:nodes.dev.k8s.corp.local id:AROAIRLSNRHFQ23MJJMKO")
    #expect(report.created.first?.fields.first?.old == nil)
  }

  /// kubernetes/kops#5522 shape: a multi-line PolicyDocument diff, plus a single-line change and
  /// a LaunchTemplate UserData diff, the way `dryrun_target.go` prints them.
  static let multiLineModify =
    "I0101 00:00:00.000000   1 executor.go:111] Tasks: 90 done / 90 total; 0 can run\n"
    + "Will modify resources:\n"
    + "  IAMRolePolicy/additional.nodes.dev.k8s.corp.local\n"
    + "  \tPolicyDocument      \n"
    + "  \t                    \t  {\n"
    + "  \t                    \t    \"Statement\": [\n"
    + "  \t                    \t      {\n"
    + "  \t                    \t-       \"Action\": \"s3:GetObject\",\n"
    + "  \t                    \t+       \"Action\": \"s3:*\",\n"
    + "  \t                    \t        \"Effect\": \"Allow\",\n"
    + "  \t                    \t\n"
    + "  \t                    \t      }\n"
    + "  \t                    \t    ]\n"
    + "  \t                    \t  }\n"
    + "\n"
    + "  LaunchTemplate/nodes-a.dev.k8s.corp.local\n"
    + "  \tSecurityGroups      \t [id:sg-0123] -> [name:nodes.dev.k8s.corp.local]\n"
    + "  \tUserData            \n"
    + "  \t                    \t  NODEUP_URL_AMD64=https://artifacts.k8s.io/binaries/kops/1.28.4/linux/amd64/nodeup\n"
    + "  \t                    \t- export HTTPS_PROXY=http://proxy.corp.local:3128\n"
    + "  \t                    \t+ export HTTPS_PROXY=http://proxy2.corp.local:3128\n"
    + "\n"
    + "Must specify --yes to apply changes\n"

  @Test func multiLineDiffsKeepEveryLine() throws {
    let report = KopsOutput.parseUpdateDryRun(Self.multiLineModify)
    #expect(report.marker == .mustSpecifyYes)
    #expect(
      report.modified.map(\.key) == [
        "IAMRolePolicy/additional.nodes.dev.k8s.corp.local", "LaunchTemplate/nodes-a.dev.k8s.corp.local",
      ])
    let policy = try #require(report.modified.first?.fields.first)
    #expect(policy.field == "PolicyDocument")
    #expect(policy.value == "")
    #expect(policy.old == nil)
    #expect(policy.diff.count == 10)
    #expect(policy.diff.first == "  {")
    #expect(policy.diff.contains("-       \"Action\": \"s3:GetObject\","))
    #expect(policy.diff.contains("+       \"Action\": \"s3:*\","))
    #expect(policy.diff.contains(""))
    let template = try #require(report.modified.last)
    #expect(template.fields.map(\.field) == ["SecurityGroups", "UserData"])
    #expect(template.fields[0].old == "[id:sg-0123]")
    #expect(template.fields[0].new == "[name:nodes.dev.k8s.corp.local]")
    #expect(template.fields[1].diff.count == 3)
    #expect(template.fields[1].diff.last == "+ export HTTPS_PROXY=http://proxy2.corp.local:3128")
  }

  @Test func noChangesMarkerMeansNoChanges() {
    let stdout =
      "I0101 00:00:00.000000   1 executor.go:111] Tasks: 90 done / 90 total; 0 can run\nNo changes need to be applied\n"
    let report = KopsOutput.parseUpdateDryRun(stdout)
    #expect(report.marker == .noChanges)
    #expect(!report.hasChanges)
    #expect(report.modified.isEmpty && report.created.isEmpty && report.deleted.isEmpty)
  }

  @Test func markerWinsOverListedTasks() {
    // kops decides the marker; a report that lists nothing but says "Must specify --yes" has changes.
    #expect(KopsOutput.parseUpdateDryRun("Must specify --yes to apply changes\n").hasChanges)
    #expect(!KopsOutput.parseUpdateDryRun("").hasChanges)
    #expect(KopsOutput.parseUpdateDryRun("").marker == nil)
  }

  @Test func deletionSectionsOfEveryKopsVersion() {
    let stdout =
      "Will create resources:\n"
      + "  ManagedFile/nodeupconfig-nodes-b\n"
      + "  \tLocation            \tigconfig/node/nodes-b/nodeupconfig.yaml\n"
      + "\n"
      + "Items will be deleted only when the --prune flag is specified:\n"
      + "  LaunchTemplate       nodes-old.dev.k8s.corp.local\n"
      + "Items will be deleted during update:\n"
      + "  ManagedFile          nodeupconfig-nodes-old\n"
      + "Will delete items:\n"
      + "  AutoscalingGroup     nodes-older.dev.k8s.corp.local\n"
      + "Must specify --yes to apply changes\n"
    let report = KopsOutput.parseUpdateDryRun(stdout)
    #expect(report.created.map(\.key) == ["ManagedFile/nodeupconfig-nodes-b"])
    #expect(
      report.deleted == [
        DeletionReport(task: "LaunchTemplate", item: "nodes-old.dev.k8s.corp.local", requiresPrune: true),
        DeletionReport(task: "ManagedFile", item: "nodeupconfig-nodes-old"),
        DeletionReport(task: "AutoscalingGroup", item: "nodes-older.dev.k8s.corp.local"),
      ])
  }

  @Test func appliedRunIsRecognised() {
    let stdout =
      "\nCluster changes have been applied to the cloud.\n\n\nChanges may require instances to restart: kops rolling-update cluster\n"
    let report = KopsOutput.parseUpdateDryRun(stdout)
    #expect(report.applied)
    #expect(report.marker == nil)
    #expect(!report.hasChanges)
  }

  @Test func bannersAroundTheReportAreIgnored() {
    let stdout =
      "*********************************************************************************\n\n"
      + "A new kops version is available: 1.28.5\n"
      + "  Upgrading is recommended\n\n"
      + "*********************************************************************************\n\n"
      + Self.createIAMRolePolicies
    let report = KopsOutput.parseUpdateDryRun(stdout)
    #expect(report.created.count == 2)
    #expect(report.modified.isEmpty)
  }

  // MARK: rolling-update

  /// kubernetes/kops#14195 (kops v1.24.0): TARGET and NODES, tabs mixed with spaces.
  static let rollingWithTarget =
    "NAME                STATUS      NEEDUPDATE  READY  MIN  TARGET  MAX  NODES\n"
    + "bastion             NeedsUpdate\t1           0      1    1       1    0\n"
    + "master-us-east-1b   NeedsUpdate\t1           0      1    1       1    1\n"
    + "master-us-east-1c   Ready       0           1      1    1       1    1\n"
    + "\n"
    + "Must specify --yes to rolling-update.\n"

  @Test func rollingUpdateTableWithTarget() throws {
    let report = KopsOutput.parseRollingUpdate(Self.rollingWithTarget)
    #expect(report.marker == .mustSpecifyYes)
    #expect(report.required)
    #expect(report.needsUpdate == ["bastion", "master-us-east-1b"])
    #expect(report.rows.count == 3)
    let ready = try #require(report.rows.last)
    #expect(
      ready
        == RollingUpdateReport.Row(
          name: "master-us-east-1c", status: "Ready", needUpdate: 0, ready: 1, min: 1, target: 1, max: 1, nodes: 1))
  }

  /// kops ≤ 1.17 (no TARGET), tab separated, and the old marker without a period.
  @Test func rollingUpdateTableWithoutTarget() {
    let stdout =
      "NAME\t\t\tSTATUS\t\tNEEDUPDATE\tREADY\tMIN\tMAX\tNODES\n"
      + "master-eu-west-1a\tNeedsUpdate\t1\t\t0\t1\t1\t1\n"
      + "nodes\t\t\tNeedsUpdate\t2\t\t0\t2\t2\t2\n"
      + "\nMust specify --yes to rolling-update\n"
    let report = KopsOutput.parseRollingUpdate(stdout)
    #expect(report.needsUpdate == ["master-eu-west-1a", "nodes"])
    #expect(report.rows.map(\.target) == [nil, nil])
    #expect(report.rows.map(\.nodes) == [1, 2])
    #expect(report.rows.last?.min == 2)
    #expect(report.required)
  }

  @Test func rollingUpdateCloudOnlyHasNoNodesColumn() {
    let stdout =
      "NAME\tSTATUS\tNEEDUPDATE\tREADY\tMIN\tTARGET\tMAX\n"
      + "nodes-a\tReady\t0\t3\t3\t3\t5\n"
      + "\nNo rolling-update required.\n"
    let report = KopsOutput.parseRollingUpdate(stdout)
    #expect(report.marker == .notRequired)
    #expect(!report.required)
    #expect(report.needsUpdate.isEmpty)
    #expect(
      report.rows == [.init(name: "nodes-a", status: "Ready", needUpdate: 0, ready: 3, min: 3, target: 3, max: 5)])
  }

  @Test func rollingUpdateWithYesHasNoMarker() {
    let stdout =
      "NAME\tSTATUS\tNEEDUPDATE\tREADY\tMIN\tTARGET\tMAX\tNODES\n"
      + "nodes-a\tNeedsUpdate\t2\t0\t2\t2\t2\t2\n"
    let report = KopsOutput.parseRollingUpdate(stdout)
    #expect(report.marker == nil)
    #expect(report.required)
    #expect(report.needsUpdate == ["nodes-a"])
    #expect(KopsOutput.parseRollingUpdate("").rows.isEmpty)
    #expect(!KopsOutput.parseRollingUpdate("").required)
  }

  // MARK: validate

  static let unhealthyRound =
    #"{"failures":[{"type":"Machine","name":"i-0f1e2d3c4b5a69788","message":"machine \"i-0f1e2d3c4b5a69788\" has not yet joined cluster","instanceGroup":{"metadata":{"name":"nodes-a","creationTimestamp":null,"labels":{"kops.k8s.io/cluster":"dev.k8s.corp.local"}},"spec":{"role":"Node","minSize":2,"maxSize":2}}},{"type":"Pod","name":"kube-system/coredns-5d78c9869d-abcde","message":"system-cluster-critical pod \"coredns-5d78c9869d-abcde\" is pending"}],"nodes":[{"name":"i-0a1b2c3d4e5f60718","zone":"ap-northeast-1a","role":"control-plane","hostname":"i-0a1b2c3d4e5f60718","status":"True"}]}"#
  static let healthyRound =
    #"{"nodes":[{"name":"i-0a1b2c3d4e5f60718","zone":"ap-northeast-1a","role":"control-plane","hostname":"i-0a1b2c3d4e5f60718","status":"True"},{"name":"i-0f1e2d3c4b5a69788","zone":"ap-northeast-1c","role":"node","hostname":"i-0f1e2d3c4b5a69788","status":"True"}]}"#

  @Test func validateWithFailures() throws {
    let report = try #require(KopsOutput.parseValidate(Self.unhealthyRound))
    #expect(!report.healthy)
    #expect(report.failures.map(\.type) == ["Machine", "Pod"])
    #expect(report.failures.first?.instanceGroup == "nodes-a")
    #expect(report.failures.first?.message == "machine \"i-0f1e2d3c4b5a69788\" has not yet joined cluster")
    #expect(report.failures.last?.instanceGroup == nil)
    #expect(report.nodes.map(\.role) == ["control-plane"])
  }

  @Test func validateConcatenatedRoundsTakesTheLast() throws {
    let report = try #require(KopsOutput.parseValidate(Self.unhealthyRound + Self.unhealthyRound + Self.healthyRound))
    #expect(report.healthy)
    #expect(report.nodes.count == 2)
    #expect(report.nodes.last?.zone == "ap-northeast-1c")
    // The other order: still unhealthy at the end.
    let stillFailing = try #require(KopsOutput.parseValidate(Self.healthyRound + Self.unhealthyRound))
    #expect(!stillFailing.healthy)
  }

  @Test func validateIgnoresATruncatedLastRound() throws {
    let cut = String(Self.healthyRound.prefix(40))
    let report = try #require(KopsOutput.parseValidate(Self.unhealthyRound + cut))
    #expect(!report.healthy)
  }

  @Test func validateWithoutJSONIsNil() {
    #expect(KopsOutput.parseValidate("") == nil)
    #expect(KopsOutput.parseValidate("Validating cluster dev\n\nINSTANCE GROUPS\n") == nil)
    // kops omits empty lists: `{}` is a healthy report.
    #expect(KopsOutput.parseValidate("{}")?.healthy == true)
  }

  @Test func validateBracesInsideStringsDoNotSplitObjects() throws {
    let stdout = #"{"failures":[{"type":"Pod","name":"x","message":"odd } { message \" }"}]}"#
    let report = try #require(KopsOutput.parseValidate(stdout))
    #expect(report.failures.first?.message == "odd } { message \" }")
  }

  // MARK: documents, errors, versions

  @Test func splitsKopsMultiDocumentYAML() throws {
    let yaml = """
      apiVersion: kops.k8s.io/v1alpha2
      kind: Cluster
      metadata:
        name: dev.k8s.corp.local

      ---

      apiVersion: kops.k8s.io/v1alpha2
      kind: InstanceGroup
      metadata:
        name: nodes-a

      ---

      apiVersion: kops.k8s.io/v1alpha2
      kind: InstanceGroup
      metadata:
        name: nodes-b
        annotations:
          note: "--- not a separator"

      """
    let documents = KopsOutput.splitDocuments(yaml)
    #expect(documents.count == 3)
    #expect(documents[0].hasPrefix("apiVersion: kops.k8s.io/v1alpha2\nkind: Cluster\n"))
    #expect(documents[1].hasPrefix("apiVersion: kops.k8s.io/v1alpha2\nkind: InstanceGroup\n"))
    #expect(documents[2].contains("note: \"--- not a separator\""))
    #expect(KopsOutput.splitDocuments("").isEmpty)
    #expect(KopsOutput.splitDocuments("---\na: 1\n") == ["a: 1\n"])
  }

  @Test func lastErrorLine() {
    let stderr = """
      I0101 00:00:00.000000   1 executor.go:111] Tasks: 1 done / 9 total; 2 can run
      Error: first
      W0101 00:00:01.000000   1 executor.go:139] error running task "LaunchTemplate/x" (9m50s remaining to succeed)
      Error: error running tasks: deadline exceeded executing task LaunchTemplate/nodes-a. Example error: boom

      """
    #expect(
      KopsOutput.errorLine(stderr)
        == "Error: error running tasks: deadline exceeded executing task LaunchTemplate/nodes-a. Example error: boom")
    #expect(KopsOutput.errorLine("I0101 fine\n") == nil)
    #expect(
      KopsOutput.failureSummary(stderr: "F0101 00:00:00.000000   1 main.go:1] fatal thing\nexit\n")
        == "F0101 00:00:00.000000   1 main.go:1] fatal thing")
    #expect(KopsOutput.failureSummary(stderr: "", stdout: "only stdout\n") == "only stdout")
  }

  @Test(arguments: [
    ("1.28.4\n", KopsVersion(1, 28, 4)),
    ("v1.30.0\n", KopsVersion(1, 30, 0)),
    ("Client version: 1.28.4 (git-v1.28.4)\n", KopsVersion(1, 28, 4)),
    ("Version 1.23.4 (git-a1b2c3d4)\n", KopsVersion(1, 23, 4)),
    ("1.29.0-beta.1\n", KopsVersion(1, 29, 0)),
  ])
  func parsesKopsVersionOutput(output: String, expected: KopsVersion) {
    #expect(KopsCLI.parseVersion(output) == expected)
  }

  @Test func unparseableVersionIsNil() {
    #expect(KopsCLI.parseVersion("") == nil)
    #expect(KopsCLI.parseVersion("version: unknown\n") == nil)
  }
}
