import Executor
import Model
import Planner
import Testing

/// The argv of every kops command hk runs: ``KopsArgv`` (Planner) is the single source (the plan's
/// steps carry it, the engine runs it), and ``LiveReader`` picks the live reads by release.
struct KopsArgvTests {
  /// The single source of kops argv (the planner renders it, the executor runs it).
  static let kops = KopsArgv(kops: "/opt/kops-1.28", cluster: "dev.k8s.corp.local", stateStore: "s3://corp-kops-state")

  /// The arguments after the executable, which must be the kops binary given.
  static func args(_ argv: [String]) -> [String] {
    #expect(argv.first == "/opt/kops-1.28", "\(argv)")
    return Array(argv.dropFirst())
  }

  // MARK: kops argv

  @Test func kopsArgvBuildersAreExact() {
    let k = Self.kops
    #expect(Self.args(k.version()) == ["version", "--short"])
    #expect(
      Self.args(k.create(file: "/tmp/s/cluster.yaml")) == [
        "create", "-f", "/tmp/s/cluster.yaml", "--state", "s3://corp-kops-state",
      ])
    #expect(
      Self.args(k.replace(file: "/tmp/s/nodes-a.yaml", force: false))
        == ["replace", "-f", "/tmp/s/nodes-a.yaml", "--state", "s3://corp-kops-state"])
    #expect(
      Self.args(k.replace(file: "/tmp/s/nodes-a.yaml", force: true))
        == ["replace", "-f", "/tmp/s/nodes-a.yaml", "--state", "s3://corp-kops-state", "--force"])
    #expect(
      Self.args(k.deleteInstanceGroup("nodes-old"))
        == [
          "delete", "instancegroup", "nodes-old", "--name", "dev.k8s.corp.local", "--state", "s3://corp-kops-state",
          "--yes",
        ])
    #expect(
      Self.args(k.update(yes: false, lifecycleOverrides: []))
        == ["update", "cluster", "dev.k8s.corp.local", "--state", "s3://corp-kops-state"])
    #expect(
      Self.args(k.update(yes: true, lifecycleOverrides: ["InternetGateway=ExistsAndWarnIfChanges", "IAMRole=Ignore"]))
        == [
          "update", "cluster", "dev.k8s.corp.local", "--state", "s3://corp-kops-state", "--yes",
          "--create-kube-config=false", "--lifecycle-overrides",
          "InternetGateway=ExistsAndWarnIfChanges,IAMRole=Ignore",
        ])
    #expect(
      Self.args(k.rollingUpdate(yes: false, instanceGroups: []))
        == ["rolling-update", "cluster", "dev.k8s.corp.local", "--state", "s3://corp-kops-state"])
    #expect(
      Self.args(k.rollingUpdate(yes: true, instanceGroups: ["nodes-a", "nodes-b"]))
        == [
          "rolling-update", "cluster", "dev.k8s.corp.local", "--state", "s3://corp-kops-state", "--yes",
          "--instance-group", "nodes-a,nodes-b",
        ])
    #expect(
      Self.args(k.validate()) == [
        "validate", "cluster", "dev.k8s.corp.local", "--state", "s3://corp-kops-state", "-o", "json",
      ])
    #expect(
      Self.args(k.exportKubeconfig(file: "/tmp/s/kubeconfig", admin: "1h"))
        == [
          "export", "kubeconfig", "dev.k8s.corp.local", "--state", "s3://corp-kops-state", "--admin=1h", "--kubeconfig",
          "/tmp/s/kubeconfig",
        ])
    #expect(
      Self.args(k.getCluster()) == ["get", "cluster", "dev.k8s.corp.local", "--state", "s3://corp-kops-state", "-o", "yaml"])
    #expect(
      Self.args(k.getInstanceGroups())
        == ["get", "instancegroups", "--name", "dev.k8s.corp.local", "--state", "s3://corp-kops-state", "-o", "yaml"])
    #expect(
      LiveReader(argv: k, version: KopsVersion(1, 26, 0)).calls.map(Self.args)
        == [["get", "all", "dev.k8s.corp.local", "--state", "s3://corp-kops-state", "-o", "yaml"]])
    #expect(LiveReader(argv: k, version: KopsVersion(1, 25, 4)).calls == [k.getCluster(), k.getInstanceGroups()])
  }

  @Test func everyClusterCommandNamesTheClusterAndTheStateStore() {
    let k = Self.kops
    let commands =
      [
        k.deleteInstanceGroup("x"), k.update(yes: true), k.rollingUpdate(yes: true, instanceGroups: []), k.validate(),
        k.exportKubeconfig(file: "f"), k.getCluster(), k.getInstanceGroups(),
      ] + LiveReader(argv: k, version: KopsVersion(1, 30, 0)).calls
    for argv in commands {
      #expect(argv.contains("dev.k8s.corp.local"), "\(argv)")
      let state = argv.firstIndex(of: "--state")
      #expect(state.map { argv[$0 + 1] } == "s3://corp-kops-state", "\(argv)")
    }
  }
}
