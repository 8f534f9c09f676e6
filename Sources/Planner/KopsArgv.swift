import Model

/// The exact argv of every kops and aws command a plan contains (kops-contract.md §1, §7).
///
/// Every kops call names the cluster and `--state` explicitly, so kops never falls back to the
/// current kubectl context. Pure functions: the planner renders them, the executor runs them.
public struct KopsArgv: Sendable {
  public var kops: String
  public var cluster: String
  public var stateStore: String

  public init(kops: String = "kops", cluster: String, stateStore: String) {
    self.kops = kops
    self.cluster = cluster
    self.stateStore = stateStore
  }

  public func create(file: String) -> [String] { [kops, "create", "-f", file, "--state", stateStore] }

  public func replace(file: String, force: Bool) -> [String] {
    [kops, "replace", "-f", file, "--state", stateStore] + (force ? ["--force"] : [])
  }

  public func deleteInstanceGroup(_ name: String) -> [String] {
    [kops, "delete", "instancegroup", name, "--name", cluster, "--state", stateStore, "--yes"]
  }

  /// `update cluster --yes` never writes the user's kubeconfig (`--create-kube-config=false`).
  public func update(yes: Bool, lifecycleOverrides: [String] = []) -> [String] {
    var a = [kops, "update", "cluster", cluster, "--state", stateStore]
    if yes { a += ["--yes", "--create-kube-config=false"] }
    if !lifecycleOverrides.isEmpty { a += ["--lifecycle-overrides", lifecycleOverrides.joined(separator: ",")] }
    return a
  }

  public func rollingUpdate(yes: Bool, instanceGroups: [String]) -> [String] {
    var a = [kops, "rolling-update", "cluster", cluster, "--state", stateStore]
    if yes { a.append("--yes") }
    if !instanceGroups.isEmpty { a += ["--instance-group", instanceGroups.joined(separator: ",")] }
    return a
  }

  public func validate() -> [String] { [kops, "validate", "cluster", cluster, "--state", stateStore, "-o", "json"] }

  public func exportKubeconfig(file: String, admin: String = "1h") -> [String] {
    [kops, "export", "kubeconfig", cluster, "--state", stateStore, "--admin=\(admin)", "--kubeconfig", file]
  }

  public func getCluster() -> [String] { [kops, "get", "cluster", cluster, "--state", stateStore, "-o", "yaml"] }

  public func getInstanceGroups() -> [String] {
    [kops, "get", "instancegroups", "--name", cluster, "--state", stateStore, "-o", "yaml"]
  }

  /// `kops get all` exists from 1.26.
  public func getAll() -> [String] { [kops, "get", "all", cluster, "--state", stateStore, "-o", "yaml"] }

  public func version() -> [String] { [kops, "version", "--short"] }
}

/// The exact argv of the aws CLI calls for the internet gateway bracket.
public struct AWSArgv: Sendable {
  public var aws: String
  public var region: String
  public var profile: String?

  public init(aws: String = "aws", region: String, profile: String?) {
    self.aws = aws
    self.region = region
    self.profile = profile
  }

  /// Every value travels in one `--option=value` argument: a value starting with `--` can
  /// never become an option of its own (docs/SECURITY.md).
  var common: [String] {
    ["--region=\(region)"] + (profile.map { ["--profile=\($0)"] } ?? []) + ["--output=json"]
  }

  public func attach(igw: String, vpc: String) -> [String] {
    [aws, "ec2", "attach-internet-gateway", "--internet-gateway-id=\(igw)", "--vpc-id=\(vpc)"] + common
  }

  public func detach(igw: String, vpc: String) -> [String] {
    [aws, "ec2", "detach-internet-gateway", "--internet-gateway-id=\(igw)", "--vpc-id=\(vpc)"] + common
  }

  public func describe(igw: String) -> [String] {
    [aws, "ec2", "describe-internet-gateways", "--internet-gateway-ids=\(igw)"] + common
  }
}
