import Config
import Foundation
import HKTestSupport
import Model
import Testing

/// fake-kops as a state-store client: version, create, get, replace, delete, flag parsing.
@Suite struct FakeKopsObjectTests {
  @Test(arguments: [
    ("1.28.4", "Client version: 1.28.4 (git-v1.28.4)\n"), ("1.23.4", "Version 1.23.4 (git-v1.23.4)\n"),
    ("1.34.1", "Client version: 1.34.1 (git-v1.34.1)\n"),
  ])
  func versionOutputFollowsTheImitatedVersion(version: String, long: String) throws {
    let f = try FakeKopsFixture(version: version, withMoto: false)
    let full = try f.kops.run(["version"])
    #expect(full.exitCode == 0)
    #expect(full.stdout == long)
    let short = try f.kops.run(["version", "--short"])
    #expect(short.stdout == version + "\n")
    #expect(short.stderr.isEmpty)
  }

  @Test(arguments: [
    ("1.28.4", "corp.local,127.0.0.1,localhost,c1.k8s.test,100.64.0.1,100.64.0.0/10,169.254.169.254,10.30.0.0/16", false),
    (
      "1.23.4", "corp.local,127.0.0.1,localhost,api.c1.k8s.test,c1.k8s.test,100.64.0.1,100.64.0.0/10,169.254.169.254,10.30.0.0/16",
      true
    ),
  ])
  func createThenGetAppendsTheDefaultExcludesPerVersion(version: String, excludes: String, publicName: Bool) throws {
    let f = try FakeKopsFixture(version: version)
    let created = try f.create()
    #expect(created.stdout.contains("Created cluster/c1.k8s.test\n"))
    #expect(created.stdout.contains("Created instancegroup/nodes-a\n"))
    #expect(created.stdout.contains("To deploy these resources, run: kops update cluster --name c1.k8s.test --yes"))

    let live = try f.liveCluster()
    #expect(live[path: "spec", "egressProxy", "excludes"]?.text == excludes)
    #expect(live[path: "spec", "nonMasqueradeCIDR"]?.text == "100.64.0.0/10")
    #expect(live[path: "spec", "configBase"]?.text == "s3://hk-test-kops-state/c1.k8s.test")
    #expect((live[path: "spec", "masterPublicName"]?.text == "api.c1.k8s.test") == publicName)
    #expect(live[path: "spec", "iam", "legacy"]?.boolValue == false)
    let stamp = try #require(live[path: "metadata", "creationTimestamp"]?.text)
    #expect(stamp.hasSuffix("Z") && stamp.count == 20)
    #expect(FileManager.default.fileExists(atPath: f.kops.storeFile(FakeKopsFixture.cluster, "config")))
    #expect(FileManager.default.fileExists(atPath: f.kops.storeFile(FakeKopsFixture.cluster, "instancegroup/nodes-b")))
  }

  @Test func excludesAlreadyPresentAsSubstringsAreNotAppended() throws {
    let f = try FakeKopsFixture()
    let file = try f.manifest(
      "cluster.yaml",
      [f.clusterYAML(excludes: "localhost,127.0.0.1,169.254.169.254,10.30.0.0/16,c1.k8s.test")] + FakeKopsFixture.defaultGroups)
    let created = try f.kops.run(["create", "-f", file])
    try #require(created.exitCode == 0, "\(created)")
    let live = try f.liveCluster()
    #expect(
      live[path: "spec", "egressProxy", "excludes"]?.text
        == "localhost,127.0.0.1,169.254.169.254,10.30.0.0/16,c1.k8s.test,100.64.0.1,100.64.0.0/10")
  }

  @Test func createOfAnExistingClusterFails() throws {
    let f = try FakeKopsFixture()
    try f.create()
    let again = try f.kops.run(["create", "-f", f.dir.file("cluster.yaml")])
    #expect(again.exitCode == 1)
    #expect(again.stderr.contains("Error: cluster \"c1.k8s.test\" already exists\n"))
  }

  @Test func replaceNeverDeletesInstanceGroups() throws {
    let f = try FakeKopsFixture()
    try f.create()
    let file = try f.manifest(
      "partial.yaml", [f.clusterYAML(), FakeKopsFixture.instanceGroupYAML("nodes-a", min: 3, max: 5)])
    let replaced = try f.kops.run(["replace", "-f", file])
    #expect(replaced.exitCode == 0, "\(replaced)")
    #expect(replaced.stdout.isEmpty)
    #expect(try f.liveGroupNames() == ["control-plane-a", "nodes-a", "nodes-b"])
  }

  @Test func replaceOfAMissingInstanceGroupNeedsForce() throws {
    let f = try FakeKopsFixture()
    try f.create()
    let file = try f.manifest("new-ig.yaml", [FakeKopsFixture.instanceGroupYAML("nodes-c")])
    let refused = try f.kops.run(["replace", "-f", file])
    #expect(refused.exitCode == 1)
    #expect(refused.stderr == "Error: instanceGroup: nodes-c does not exist (try adding --force flag)\n")
    #expect(try !f.liveGroupNames().contains("nodes-c"))

    let forced = try f.kops.run(["replace", "-f", file, "--force"])
    #expect(forced.exitCode == 0, "\(forced)")
    #expect(forced.stderr.contains("instanceGroup: nodes-c was not found, creating resource now"))
    #expect(try f.liveGroupNames().contains("nodes-c"))
  }

  @Test func replaceOfAMissingClusterNeedsForce() throws {
    let f = try FakeKopsFixture()
    let file = try f.manifest("cluster.yaml", [f.clusterYAML()])
    let refused = try f.kops.run(["replace", "-f", file])
    #expect(refused.exitCode == 1)
    #expect(refused.stderr.hasSuffix("Error: cluster c1.k8s.test does not exist (try adding --force flag)\n"))
    let forced = try f.kops.run(["replace", "--force", "-f", file])
    #expect(forced.exitCode == 0, "\(forced)")
    // 1.27+ runs the create-time assignments for a forced replace.
    let live = try f.liveCluster()
    #expect(live[path: "spec", "egressProxy", "excludes"]?.text?.hasPrefix("corp.local,127.0.0.1,localhost,") == true)
  }

  @Test func generationAndCreationTimestampFollowKopsRules() throws {
    let f = try FakeKopsFixture()
    try f.create()
    let created = try f.liveCluster()
    #expect(created[path: "metadata", "generation"] == nil)
    #expect(created[path: "metadata", "creationTimestamp"]?.text != nil)

    // The manifest has no configBase and no creationTimestamp: generation bumps, the stamp is null.
    let plain = try f.manifest("plain.yaml", [f.clusterYAML()])
    try #require(try f.kops.run(["replace", "-f", plain]).exitCode == 0)
    let afterPlain = try f.liveCluster()
    #expect(afterPlain[path: "metadata", "generation"]?.intValue == 1)
    #expect(afterPlain[path: "metadata", "creationTimestamp"]?.isNull == true)
    let stored = try #require(FileManager.default.contents(atPath: f.kops.storeFile(FakeKopsFixture.cluster, "config")))
    #expect(String(decoding: stored, as: UTF8.self).contains("  creationTimestamp: null\n"))

    // Sending back exactly what kops prints (configBase included) does not bump it.
    let echoed = try f.kops.run(["get", "cluster", FakeKopsFixture.cluster, "-o", "yaml"]).stdout
    let echoFile = try f.dir.write("echo.yaml", echoed)
    try #require(try f.kops.run(["replace", "-f", echoFile]).exitCode == 0)
    #expect(try f.liveCluster()[path: "metadata", "generation"]?.intValue == 1)

    // A real spec change bumps it again.
    let changed = try f.dir.write("changed.yaml", echoed.replacingOccurrences(of: "port: 3128", with: "port: 8080"))
    try #require(try f.kops.run(["replace", "-f", changed]).exitCode == 0)
    #expect(try f.liveCluster()[path: "metadata", "generation"]?.intValue == 2)

    // An instance group replaced without a creationTimestamp is stamped with "now".
    let ig = try f.manifest("ig.yaml", [FakeKopsFixture.instanceGroupYAML("nodes-a", min: 2, max: 6)])
    try #require(try f.kops.run(["replace", "-f", ig]).exitCode == 0)
    let igs = try f.kops.run(["get", "ig", "nodes-a", "--name", FakeKopsFixture.cluster, "-o", "yaml"]).stdout
    let node = try #require(try YAMLParser.parse(igs, file: "ig.yaml").first)
    #expect(node[path: "metadata", "creationTimestamp"]?.text?.hasSuffix("Z") == true)
    #expect(node[path: "spec", "maxSize"]?.intValue == 6)
  }

  @Test func unknownFlagIsACobraErrorWithUsage() throws {
    let f = try FakeKopsFixture(withMoto: false)
    let result = try f.kops.run(["update", "cluster", FakeKopsFixture.cluster, "--bogus"])
    #expect(result.exitCode == 1)
    #expect(result.stdout.isEmpty)
    #expect(result.stderr.hasPrefix("Error: unknown flag: --bogus\nUsage:\n  kops update cluster [CLUSTER] [flags]\n"))
    let short = try f.kops.run(["get", "clusters", "-x"])
    #expect(short.exitCode == 1)
    #expect(short.stderr.hasPrefix("Error: unknown shorthand flag: 'x' in -x\n"))
    let badBool = try f.kops.run(["update", "cluster", FakeKopsFixture.cluster, "--yes=maybe"])
    #expect(badBool.stderr.hasPrefix("Error: invalid argument \"maybe\" for \"-y, --yes\" flag: strconv.ParseBool"))
  }

  @Test func clusterNameFromFlagAndArgumentIsRefused() throws {
    let f = try FakeKopsFixture(withMoto: false)
    let result = try f.kops.run(["update", "cluster", "--name", "a.example", "b.example"])
    #expect(result.exitCode == 1)
    #expect(result.stderr.hasSuffix("Error: cannot specify cluster via --name and positional argument\n"))
    #expect(result.stdout.contains("Found multiple arguments which look like a cluster name"))
  }

  @Test func missingStateStoreIsKopsError() throws {
    let f = try FakeKopsFixture(withMoto: false)
    let result = try f.kops.run(["get", "clusters"], env: ["KOPS_STATE_STORE": ""])
    #expect(result.exitCode == 1)
    #expect(result.stderr.hasPrefix("Error: State Store: Required value: Please set the --state flag or export KOPS_STATE_STORE."))
  }

  @Test func unparsableManifestIsAParseErrorNotACrash() throws {
    let f = try FakeKopsFixture(withMoto: false)
    let bad = try f.dir.write("bad.yaml", "apiVersion: kops.k8s.io/v1alpha2\nkind: Cluster\nmetadata: {name: x\n  spec: [\n")
    let result = try f.kops.run(["create", "-f", bad])
    #expect(result.exitCode == 1)
    #expect(result.stderr.hasPrefix("Error: error parsing file \"\(bad)\": error converting YAML to JSON: yaml: line "))
    let wrongType = try f.dir.write(
      "port.yaml",
      "apiVersion: kops.k8s.io/v1alpha2\nkind: Cluster\nmetadata: {name: x}\nspec:\n  egressProxy:\n    httpProxy: {port: \"3128\"}\n")
    let typed = try f.kops.run(["create", "-f", wrongType])
    #expect(typed.exitCode == 1)
    #expect(
      typed.stderr.contains("json: cannot unmarshal string into Go struct field HTTPProxy.spec.egressProxy.httpProxy.port of type int32"))
  }

  @Test func instanceGroupsJSONIsAnObjectForOneMatchAndAnArrayOtherwise() throws {
    let f = try FakeKopsFixture()
    try f.create()
    let all = try f.kops.run(["get", "instancegroups", "--name", FakeKopsFixture.cluster, "-o", "json"])
    #expect(all.exitCode == 0)
    #expect(try JSONValue.parse(all.stdout).arrayValue?.count == 3)
    let one = try f.kops.run(["get", "ig", "nodes-b", "--name", FakeKopsFixture.cluster, "-o", "json"])
    let object = try JSONValue.parse(one.stdout)
    #expect(object["kind"]?.stringValue == "InstanceGroup")
    #expect(object["metadata"]?["name"]?.stringValue == "nodes-b")
  }

  @Test(arguments: [("1.28.4", true), ("1.25.4", false)])
  func getAllExistsFrom126(version: String, exists: Bool) throws {
    let f = try FakeKopsFixture(version: version)
    try f.create()
    let all = try f.kops.run(["get", "all", FakeKopsFixture.cluster, "-o", "yaml"])
    #expect((all.exitCode == 0) == exists, "\(all)")
    if exists {
      let kinds = try YAMLParser.parse(all.stdout, file: "all.yaml").compactMap { $0["kind"]?.text }
      #expect(kinds == ["Cluster", "InstanceGroup", "InstanceGroup", "InstanceGroup"])
    } else {
      #expect(all.stderr.hasSuffix("Error: expected a single <clustername> to be passed as an argument\n"))
    }
    let old = try f.kops.run(["get", FakeKopsFixture.cluster, "-o", "yaml"])
    #expect(old.exitCode == 0)
    #expect(old.stderr.contains("`kops get [CLUSTER]` is deprecated") == exists)
  }

  @Test func deleteInstanceGroupAsksWithoutYesAndDeletesWithIt() throws {
    let f = try FakeKopsFixture()
    try f.create()
    let asked = try f.kops.run(["delete", "instancegroup", "nodes-b", "--name", FakeKopsFixture.cluster])
    #expect(asked.exitCode == 1)
    #expect(asked.stdout.contains("Do you really want to delete instance group \"nodes-b\"? This action cannot be undone. (y/N)"))
    #expect(try f.liveGroupNames().contains("nodes-b"))
    let refused = try f.kops.run(["delete", "ig", "nodes-b", "--name", FakeKopsFixture.cluster], stdin: "n\n")
    #expect(refused.exitCode == 1)
    #expect(refused.stderr.isEmpty)
    let deleted = try f.kops.run(["delete", "ig", "nodes-b", "--name", FakeKopsFixture.cluster, "--yes"])
    #expect(deleted.exitCode == 0, "\(deleted)")
    #expect(deleted.stdout.hasSuffix("\nDeleted InstanceGroup: \"nodes-b\"\n"))
    #expect(try f.liveGroupNames() == ["control-plane-a", "nodes-a"])
  }

  @Test func clusterNameFallsBackToTheKubectlContext() throws {
    let f = try FakeKopsFixture()
    try f.create()
    let kubeconfig = try f.dir.write(
      "kubeconfig",
      """
      apiVersion: v1
      kind: Config
      clusters:
      - name: c1.k8s.test
        cluster: {server: https://api.c1.k8s.test}
      contexts:
      - name: admin@c1
        context: {cluster: c1.k8s.test, user: admin}
      current-context: admin@c1
      users:
      - name: admin
        user: {token: x}
      """)
    let result = try f.kops.run(["get", "instancegroups", "-o", "table"], env: ["KUBECONFIG": kubeconfig])
    #expect(result.exitCode == 0, "\(result)")
    #expect(result.stderr.contains("Using cluster from kubectl context: c1.k8s.test\n"))
    #expect(FakeKopsFixture.tableRows(result.stdout).first == ["NAME", "ROLE", "MACHINETYPE", "MIN", "MAX", "ZONES"])
  }
}
