import Foundation
import Model

/// `kops update cluster [CLUSTER] [--yes] [--target direct|dryrun|terraform] …`.
enum UpdateCommand {
  static func flags(_ rt: Runtime) -> [FlagSpec] {
    var f: [FlagSpec] = [
      FlagSpec("yes", short: "y", .bool, default: "false", help: "Create cloud resources, without --yes update is in dry run mode"),
      FlagSpec("target", .string, default: "direct", help: "Target - direct, terraform"),
      FlagSpec("ssh-public-key", .string, help: "SSH public key to use (deprecated: use kops create secret instead)"),
      FlagSpec("out", .string, help: "Path to write any local output"),
      FlagSpec(
        "create-kube-config", .bool, default: "true",
        help: "Will control automatically creating the kube config file on your local filesystem"),
      FlagSpec(
        "admin", .duration, default: "0s", noOptDefault: "18h0m0s",
        help: "Also export a cluster admin user credential with the specified lifetime and add it to the cluster context"),
      FlagSpec("user", .string, help: "Existing user in kubeconfig file to use.  Implies --create-kube-config"),
      FlagSpec("internal", .bool, default: "false", help: "Use the cluster's internal DNS name. Implies --create-kube-config"),
      FlagSpec(
        "allow-kops-downgrade", .bool, default: "false", help: "Allow an older version of kOps to update the cluster than last used"),
      FlagSpec("phase", .string, help: "Subset of tasks to run: cluster, network, security"),
      FlagSpec(
        "lifecycle-overrides", .stringSlice,
        help: "comma separated list of phase overrides, example: SecurityGroups=Ignore,InternetGateway=ExistsAndWarnIfChanges"),
    ]
    if rt.atLeast(1, 26) {
      f.append(FlagSpec("instance-group", .stringSlice, help: "Instance groups to update (defaults to all if not specified)"))
      f.append(
        FlagSpec("instance-group-roles", .stringSlice, help: "Instance group roles to update (control-plane,apiserver,node,bastion)"))
    }
    if rt.atLeast(1, 29) {
      f.append(
        FlagSpec("prune", .bool, default: "false", help: "Delete old revisions of cloud resources that were needed during an upgrade"))
    }
    return f
  }

  static let lifecycles = ["ExistsAndValidates", "ExistsAndWarnIfChanges", "Ignore", "Sync", "WarnIfInsufficientAccess"]

  static func run(_ inv: Invocation) throws {
    let rt = inv.rt
    let name = try ClusterName.required(inv)
    let yes = inv.flags.bool("yes")
    let target = inv.flags.string("target")
    var createKubeconfig = inv.flags.bool("create-kube-config")
    let admin = inv.flags.duration("admin")
    let user = inv.flags.string("user")
    let useInternal = inv.flags.bool("internal")
    if admin != 0 && !user.isEmpty { throw KopsError("cannot use both --admin and --user") }
    if admin != 0 && !createKubeconfig {
      Klog.info("update_cluster.go:201", "--admin implies --create-kube-config")
      createKubeconfig = true
    }
    if !user.isEmpty && !createKubeconfig {
      Klog.info("update_cluster.go:206", "--user implies --create-kube-config")
      createKubeconfig = true
    }
    if useInternal && !createKubeconfig {
      Klog.info("update_cluster.go:211", "--internal implies --create-kube-config")
      createKubeconfig = true
    }
    var targets = ["direct", "dryrun", "terraform"]
    if !rt.atLeast(1, 26) { targets.append("cloudformation") }
    let isDryRun = (target == "direct" && !yes) || target == "dryrun"
    var outDir = inv.flags.string("out")
    if outDir.isEmpty { outDir = target == "terraform" ? "out/terraform" : "out" }

    let store = try StateStore.resolve(inv)
    let cluster = try store.requireCluster(name, rt: rt)

    let phase = inv.flags.string("phase")
    if !phase.isEmpty && !["network", "security", "iam", "cluster"].contains(phase.lowercased()) {
      throw KopsError("unknown phase \(goQuote(phase)), available phases: cluster,network,security")
    }
    var overrides: [String: String] = [:]
    for o in inv.flags.strings("lifecycle-overrides") {
      let parts = o.components(separatedBy: "=")
      guard parts.count == 2 else {
        throw KopsError(
          "incorrect syntax for lifecyle-overrides, correct syntax is TaskName=lifecycleName, override provided: \(goQuote(o))")
      }
      guard lifecycles.contains(parts[1]) else {
        throw KopsError("unknown lifecycle \(goQuote(parts[1])), available lifecycle: \(lifecycles.joined(separator: ","))")
      }
      overrides[parts[0]] = parts[1]
    }

    let ec2 = try Cloud.build(cluster, rt: rt)

    if !inv.flags.bool("allow-kops-downgrade"), let last = readTextFile(store.path(name, "kops-version.txt"))?.trimmingSpaces() {
      guard let lastVersion = KopsVersion(last) else {
        throw KopsError("error parsing last kops version updated: Invalid character(s) found in major number \(goQuote(last))")
      }
      if lastVersion > rt.version {
        let stars = String(repeating: "*", count: 80)
        Console.out(
          "\n\(stars)\n\nThe cluster was last updated by kops version \(last)\nTo permit updating by the older version \(rt.versionText), run with the --allow-kops-downgrade flag\n\n\(stars)\n\n"
        )
        throw KopsError("kops version older than last used to update the cluster")
      }
    }
    guard targets.contains(target) else { throw KopsError("unsupported target type \(goQuote(target))") }

    let igs = try store.instanceGroups(name, rt: rt)
    if igs.isEmpty { throw KopsError("must configure at least one InstanceGroup") }
    let desired = DesiredCloud(cluster: cluster, groups: igs, rt: rt)
    var cloud = try CloudState.load(store, name)

    // The internet gateway task (awstasks/internetgateway.go): needed unless every subnet has
    // `egress: External`; shared when `networkID` is set; `Ignore` makes it a no-op.
    let networkID = cluster[path: "spec", "networkID"]?.text ?? ""
    let subnets = cluster[path: "spec", "subnets"]?.items ?? []
    let allExternal = !subnets.isEmpty && subnets.allSatisfy { $0["egress"]?.text == "External" }
    let igwTask = "InternetGateway/\(name)"
    let igwIgnored = overrides["InternetGateway"] == "Ignore"
    let igwShared = !networkID.isEmpty && !allExternal && !igwIgnored
    var igwFindError: String? = nil
    var igwFound = true
    if igwShared {
      do {
        igwFound = try !ec2.attachedInternetGateways(vpc: networkID).isEmpty
      } catch {
        igwFindError = "error listing InternetGateways: \(error.message)"
        igwFound = false
      }
    }

    let total = 60 + desired.groups.count * 8
    Klog.info("executor.go:111", "Tasks: 0 done / \(total) total; \(total / 2) can run")

    // A failing `Find` is a task error in every mode: retried until the deadline.
    let findIGW: () -> String? = {
      do {
        return try ec2.attachedInternetGateways(vpc: networkID).isEmpty ? "InternetGateway for shared VPC was not found" : nil
      } catch let error as AWSError {
        return "error listing InternetGateways: \(error.message)"
      } catch {
        return "error listing InternetGateways: \(error)"
      }
    }
    if igwFindError != nil {
      try retryUntilDeadline(task: igwTask, total: total, rt: rt) {
        let problem = findIGW()
        return problem?.hasPrefix("error listing") == true ? problem : nil
      }
      igwFound = findIGW() == nil
    }

    let report = buildReport(
      desired: desired, cloud: cloud, cluster: cluster, igwTask: igwTask, igwShared: igwShared, igwFound: igwFound,
      igwIgnored: igwIgnored || allExternal)
    if isDryRun {
      Klog.info("executor.go:111", "Tasks: \(total) done / \(total) total; 0 can run")
      Console.out(report.render())
      Console.out(report.hasChanges ? "Must specify --yes to apply changes\n" : "No changes need to be applied\n")
      return
    }

    if target == "terraform" {
      if igwShared && !igwFound {
        throw Klog.fatal("internetgateway.go:225", "ID must be set, if InternetGateway is shared: \(igwTask)")
      }
      try writeTextFile(
        rt.absolute(outDir) + "/kubernetes.tf",
        "# fake-kops terraform output for \(name)\n# kops \(rt.versionText)\n"
          + desired.completedSpec.split(separator: "\n").map { "# " + $0 }.joined(separator: "\n") + "\n")
    } else {
      if igwShared && !igwFound {
        try retryUntilDeadline(task: igwTask, total: total, rt: rt, attempt: findIGW)
      }
      try apply(desired: desired, cloud: &cloud, store: store, rt: rt)
    }
    Klog.info("executor.go:111", "Tasks: \(total) done / \(total) total; 0 can run")

    var firstRun = false
    if createKubeconfig {
      firstRun = !Kubeconfig.hasContext(rt, name)
      Klog.info("update_cluster.go:326", "Exporting kubeconfig for cluster")
      let server =
        useInternal ? "https://api.internal.\(name)" : "https://" + (cluster[path: "spec", "masterPublicName"]?.text ?? "api.\(name)")
      try Kubeconfig.write(rt, cluster: name, server: server, adminSeconds: admin, user: user)
      if admin == 0 && user.isEmpty {
        Klog.warning(
          "update_cluster.go:344",
          "Exported kubeconfig with no user authentication; use --admin, --user or --auth-plugin flags with `kops export kubeconfig`")
      }
    }

    var sb = ""
    if target == "terraform" {
      sb += "\nTerraform output has been placed into \(outDir)\n"
      if firstRun { sb += "Run these commands to apply the configuration:\n   cd \(outDir)\n   terraform plan\n   terraform apply\n\n" }
    } else if firstRun {
      sb += "\nCluster is starting.  It should be ready in a few minutes.\n\n"
    } else {
      sb += "\nCluster changes have been applied to the cloud.\n\n"
    }
    if firstRun {
      sb += "Suggestions:\n * validate cluster: kops validate cluster --wait 10m\n * list nodes: kubectl get nodes --show-labels\n"
      if desired.groups.contains(where: { $0.role == "Bastion" }) {
        sb += " * to ssh to the bastion, you probably want to configure a bastionPublicName.\n"
      } else {
        sb += " * ssh to a control-plane node: ssh -i ~/.ssh/id_rsa ubuntu@\(cluster[path: "spec", "masterPublicName"]?.text ?? "")\n"
      }
      sb += " * the ubuntu user is specific to Ubuntu. If not using Ubuntu please use the appropriate user based on your OS.\n"
      sb += " * read about installing addons at: https://kops.sigs.k8s.io/addons.\n\n"
    } else {
      sb += "\nChanges may require instances to restart: kops rolling-update cluster\n\n"
    }
    Console.out(sb)
  }

  /// kops's task executor for one failing task: retried until the per-task deadline, then
  /// `error running tasks: deadline exceeded executing task …`.
  static func retryUntilDeadline(task: String, total: Int, rt: Runtime, attempt: () -> String?) throws(KopsError) {
    let deadlineSeconds = rt.seconds("FAKE_KOPS_TASK_DEADLINE", default: 2)
    let retry = rt.seconds("FAKE_KOPS_TASK_RETRY", default: max(0.05, deadlineSeconds / 4))
    let deadline = Date().addingTimeInterval(deadlineSeconds)
    var lastError = ""
    var round = 0
    while true {
      if round > 0 {
        if Date() > deadline {
          throw KopsError("error running tasks: deadline exceeded executing task \(task). Example error: \(lastError)")
        }
        Klog.info("executor.go:111", "Tasks: \(total - 1) done / \(total) total; 1 can run")
      }
      round += 1
      guard let error = attempt() else { return }
      lastError = error
      let remaining = Double(Int(deadline.timeIntervalSinceNow.rounded(.towardZero)))
      Klog.warning(
        "executor.go:155", "error running task \(goQuote(task)) (\(GoDuration.format(max(0, remaining))) remaining to succeed): \(error)")
      Klog.info("executor.go:171", "No progress made, sleeping before retrying 1 task(s)")
      sleepSeconds(retry)
    }
  }

  /// What `update --yes` changes: the state store's rendered files and the simulated cloud.
  static func apply(desired: DesiredCloud, cloud: inout CloudState, store: StateStore, rt: Runtime) throws(KopsError) {
    let name = desired.cluster
    try writeTextFile(store.path(name, "cluster-completed.spec"), desired.completedSpec)
    try writeTextFile(store.path(name, "kops-version.txt"), rt.versionText)
    let ca = store.path(name, "pki/private/kubernetes-ca/keyset.yaml")
    if !fileExists(ca) {
      try writeTextFile(
        ca,
        "apiVersion: kops.k8s.io/v1alpha2\nkind: Keyset\nmetadata:\n  creationTimestamp: null\n  name: kubernetes-ca\nspec:\n  keys:\n  - id: \"\(Int(Date().timeIntervalSince1970))\"\n    privateMaterial: ZmFrZS1rb3Bz\n    publicMaterial: ZmFrZS1rb3Bz\n  primaryID: \"\(Int(Date().timeIntervalSince1970))\"\n  type: Keypair\n"
      )
    }
    for g in desired.groups {
      try writeTextFile(store.path(name, "igconfig/\(g.igconfigRole)/\(g.name)/nodeupconfig.yaml"), g.nodeConfig)
      if let i = cloud.groups.firstIndex(where: { $0.name == g.name }) {
        var group = cloud.groups[i]
        group.role = g.role
        group.minSize = g.minSize
        group.maxSize = g.maxSize
        group.machineType = g.machineType
        group.image = g.image
        group.nodeConfig = g.nodeConfig
        group.hash = g.hash
        let target = min(max(group.instances.count, g.minSize), g.maxSize)
        while group.instances.count > target {
          // The autoscaling group terminates outdated instances first.
          if let stale = group.instances.lastIndex(where: { $0.hash != g.hash }) {
            group.instances.remove(at: stale)
          } else {
            group.instances.removeLast()
          }
        }
        while group.instances.count < target {
          group.instances.append(cloud.newInstance(cluster: name, group: g.name, hash: g.hash))
        }
        cloud.groups[i] = group
      } else {
        var instances: [CloudInstance] = []
        for _ in 0..<g.minSize { instances.append(cloud.newInstance(cluster: name, group: g.name, hash: g.hash)) }
        cloud.groups.append(
          CloudGroup(
            name: g.name, role: g.role, minSize: g.minSize, maxSize: g.maxSize, machineType: g.machineType, image: g.image,
            nodeConfig: g.nodeConfig, hash: g.hash, instances: instances))
      }
    }
    cloud.applied = true
    cloud.kopsVersion = rt.versionText
    cloud.clusterSpec = desired.completedSpec
    cloud.iamPolicies = desired.iamPolicies
    cloud.updates += 1
    try cloud.save(store, name)
  }

  /// The dry-run report: desired (store) versus the simulated cloud.
  static func buildReport(
    desired: DesiredCloud, cloud: CloudState, cluster: YAMLNode, igwTask: String, igwShared: Bool, igwFound: Bool,
    igwIgnored: Bool
  ) -> DryRunReport {
    let name = desired.cluster
    var report = DryRunReport()
    let spec = cluster["spec"] ?? .mapping([])
    let networkID = spec["networkID"]?.text ?? ""

    if igwShared && !igwFound {
      report.creates.append(TaskChange(key: igwTask, fields: [("Shared", "true"), ("VPC", "id:\(networkID)")]))
    }
    if !cloud.applied {
      report.creates.append(TaskChange(key: "ManagedFile/cluster-completed.spec", fields: [("Location", "cluster-completed.spec")]))
      report.creates.append(TaskChange(key: "ManagedFile/kops-version.txt", fields: [("Location", "kops-version.txt")]))
      report.creates.append(TaskChange(key: "Keypair/kubernetes-ca", fields: [("Subject", "cn=kubernetes-ca"), ("Type", "ca")]))
      var roles = Set(desired.groups.map(\.iamRole))
      roles.insert("nodes")
      for role in roles.sorted() {
        report.creates.append(TaskChange(key: "IAMRole/\(role).\(name)", fields: []))
        report.creates.append(TaskChange(key: "IAMInstanceProfile/\(role).\(name)", fields: []))
        report.creates.append(TaskChange(key: "IAMRolePolicy/\(role).\(name)", fields: [("Role", "name:\(role).\(name)")]))
        report.creates.append(TaskChange(key: "SecurityGroup/\(role).\(name)", fields: [("Description", "Security group for \(role)")]))
      }
      if networkID.isEmpty {
        report.creates.append(TaskChange(key: "VPC/\(name)", fields: [("CIDR", spec["networkCIDR"]?.text ?? "")]))
        if !igwIgnored {
          report.creates.append(TaskChange(key: igwTask, fields: [("VPC", "name:\(name)"), ("Shared", "false")]))
        }
      }
      for s in spec["subnets"]?.items ?? [] where s["id"]?.text == nil {
        report.creates.append(
          TaskChange(
            key: "Subnet/\(s["name"]?.text ?? "").\(name)",
            fields: [("CIDR", s["cidr"]?.text ?? ""), ("AvailabilityZone", s["zone"]?.text ?? ""), ("Shared", "false")]))
      }
      if let lb = spec[path: "api", "loadBalancer"], lb.isMapping {
        let scheme = lb["type"]?.text == "Internal" ? "internal" : "internet-facing"
        let type = (lb["class"]?.text ?? "Classic") == "Network" ? "NetworkLoadBalancer" : "ClassicLoadBalancer"
        report.creates.append(TaskChange(key: "\(type)/api.\(name)", fields: [("Scheme", scheme)]))
      }
    } else if let old = cloud.clusterSpec, old != desired.completedSpec {
      report.modifies.append(
        TaskChange(key: "ManagedFile/cluster-completed.spec", fields: [("Contents", TextDiff.format(old, desired.completedSpec))]))
    }
    if cloud.applied, let old = cloud.kopsVersion, old != desired.kopsVersion {
      report.modifies.append(
        TaskChange(key: "ManagedFile/kops-version.txt", fields: [("Contents", TextDiff.format(old, desired.kopsVersion))]))
    }

    for (task, policy) in desired.iamPolicies {
      if let old = cloud.iamPolicies[task] {
        if old != policy {
          report.modifies.append(TaskChange(key: "IAMRolePolicy/\(task)", fields: [("PolicyDocument", TextDiff.format(old, policy))]))
        }
      } else {
        let role = task.split(separator: ".").dropFirst().first.map(String.init) ?? "nodes"
        report.creates.append(TaskChange(key: "IAMRolePolicy/\(task)", fields: [("Role", "name:\(role).\(name)")]))
      }
    }
    for (task, old) in cloud.iamPolicies where desired.iamPolicies[task] == nil {
      report.modifies.append(TaskChange(key: "IAMRolePolicy/\(task)", fields: [("PolicyDocument", TextDiff.format(old, ""))]))
    }

    for g in desired.groups {
      let asg = "AutoscalingGroup/\(g.name).\(name)"
      let lt = "LaunchTemplate/\(g.name).\(name)"
      let nodeup = "ManagedFile/nodeupconfig-\(g.name)"
      guard let c = cloud.group(g.name) else {
        report.creates.append(
          TaskChange(
            key: asg,
            fields: [
              ("MinSize", "\(g.minSize)"), ("MaxSize", "\(g.maxSize)"),
              ("Subnets", "[" + g.subnets.map { "name:\($0).\(name)" }.joined(separator: ", ") + "]"),
              ("LaunchTemplate", "name:\(g.name).\(name)"),
            ]))
        var ltFields = [("ImageID", g.image), ("InstanceType", g.machineType)]
        if let size = g.rootVolumeSize { ltFields.append(("RootVolumeSize", "\(size)")) }
        report.creates.append(TaskChange(key: lt, fields: ltFields))
        report.creates.append(
          TaskChange(key: nodeup, fields: [("Location", "igconfig/\(g.igconfigRole)/\(g.name)/nodeupconfig.yaml")]))
        continue
      }
      var asgFields: [(String, String)] = []
      if c.minSize != g.minSize { asgFields.append(("MinSize", " \(c.minSize) -> \(g.minSize)")) }
      if c.maxSize != g.maxSize { asgFields.append(("MaxSize", " \(c.maxSize) -> \(g.maxSize)")) }
      if !asgFields.isEmpty { report.modifies.append(TaskChange(key: asg, fields: asgFields)) }
      if c.hash != g.hash {
        report.modifies.append(TaskChange(key: nodeup, fields: [("Contents", TextDiff.format(c.nodeConfig, g.nodeConfig))]))
        var ltFields: [(String, String)] = []
        if c.image != g.image { ltFields.append(("ImageID", " \(c.image) -> \(g.image)")) }
        if c.machineType != g.machineType { ltFields.append(("InstanceType", " \(c.machineType) -> \(g.machineType)")) }
        ltFields.append(
          ("UserData", TextDiff.format(DesiredCloud.userData(g.name, hash: c.hash), DesiredCloud.userData(g.name, hash: g.hash))))
        report.modifies.append(TaskChange(key: lt, fields: ltFields))
      }
    }
    return report
  }
}
