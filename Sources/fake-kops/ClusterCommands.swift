import Foundation
import Model

/// The Kubernetes API of the simulated cluster: reachable once `update --yes` created it.
enum KubeAPI {
  /// Up to 1.30 kops loads a kubeconfig context named after the cluster (kubecfg settings).
  static func requireContext(_ rt: Runtime, _ name: String, explicit: String? = nil) throws(KopsError) {
    guard rt.release.needsKubeconfigContext else { return }
    if !Kubeconfig.hasContext(rt, name, explicit: explicit) {
      throw KopsError("cannot load kubecfg settings for \(goQuote(name)): context \(goQuote(name)) does not exist")
    }
  }

  static func unreachable(_ name: String) -> String {
    "Get \"https://api.\(name)/api/v1/nodes\": dial tcp: lookup api.\(name): no such host"
  }

  /// The zone of the instance group's first subnet.
  static func zone(_ cluster: YAMLNode, _ group: CloudGroup, _ igs: [YAMLNode]) -> String {
    let subnet = igs.first { $0[path: "metadata", "name"]?.text == group.name }?[path: "spec", "subnets"]?.items?.first?.text
    return (cluster[path: "spec", "subnets"]?.items ?? []).first { $0["name"]?.text == subnet }?["zone"]?.text ?? ""
  }

  /// A role as kops's `ToLowerString` prints it.
  static func roleName(_ role: String, rt: Runtime) -> String {
    switch role {
    case "Master", "ControlPlane": rt.atLeast(1, 26) ? "control-plane" : "master"
    case "APIServer": "apiserver"
    case "Bastion": "bastion"
    default: "node"
    }
  }
}

/// `kops rolling-update cluster [CLUSTER] [--yes] [--instance-group a,b] [--cloudonly] …`.
enum RollingUpdateCommand {
  static func flags(_ rt: Runtime) -> [FlagSpec] {
    var f: [FlagSpec] = [
      FlagSpec(
        "yes", short: "y", .bool, default: "false",
        help: "Perform rolling update immediately; without --yes rolling-update executes a dry-run"),
      FlagSpec("force", .bool, default: "false", help: "Force rolling update, even if no changes"),
      FlagSpec("cloudonly", .bool, default: "false", help: "Perform rolling update without confirming progress with Kubernetes"),
      FlagSpec("validation-timeout", .duration, default: "15m0s", help: "Maximum time to wait for a cluster to validate"),
      FlagSpec("drain-timeout", .duration, default: "15m0s", help: "Maximum time to wait for a node to drain"),
      FlagSpec("validate-count", .int, default: "2", help: "Number of times that a cluster needs to be validated after single node update"),
      FlagSpec("master-interval", .duration, default: "15s", help: "Time to wait between restarting control plane nodes"),
      FlagSpec("node-interval", .duration, default: "15s", help: "Time to wait between restarting worker nodes"),
      FlagSpec("bastion-interval", .duration, default: "15s", help: "Time to wait between restarting bastions"),
      FlagSpec("post-drain-delay", .duration, default: "5s", help: "Time to wait after draining each node"),
      FlagSpec("interactive", short: "i", .bool, default: "false", help: "Prompt to continue after each instance is updated"),
      FlagSpec("instance-group", .stringSlice, help: "Instance groups to update (defaults to all if not specified)"),
      FlagSpec("instance-group-roles", .stringSlice, help: "Instance group roles to update (control-plane,apiserver,node,bastion)"),
      FlagSpec("fail-on-drain-error", .bool, default: "true", help: "Fail if draining a node fails"),
      FlagSpec("fail-on-validate-error", .bool, default: "true", help: "Fail if the cluster fails to validate"),
    ]
    if rt.atLeast(1, 26) {
      f.append(FlagSpec("control-plane-interval", .duration, default: "15s", help: "Time to wait between restarting control plane nodes"))
    }
    f += ClusterAccessFlags.flags(rt)
    return f
  }

  static func parseRole(_ text: String) -> String? {
    switch text.lowercased() {
    case "control-plane", "controlplane", "master", "masters": "Master"
    case "node", "nodes": "Node"
    case "bastion", "bastions": "Bastion"
    case "apiserver", "apiservers": "APIServer"
    default: nil
    }
  }

  static func run(_ inv: Invocation) throws {
    let rt = inv.rt
    let name = try ClusterName.required(inv)
    let store = try StateStore.resolve(inv)
    let cluster = try store.requireCluster(name, rt: rt)
    let cloudOnly = inv.flags.bool("cloudonly")
    let force = inv.flags.bool("force")
    try KubeAPI.requireContext(rt, name)
    var cloud = try CloudState.load(store, name)
    if !cloudOnly && !cloud.applied {
      Console.err(
        "Unable to reach the kubernetes API.\nUse --cloudonly to do a rolling-update without confirming progress with the k8s API\n\n")
      throw KopsError("error listing nodes in cluster: \(KubeAPI.unreachable(name))")
    }
    let all = try store.instanceGroups(name, rt: rt)
    let controlPlane = all.filter { ["Master", "ControlPlane", "APIServer"].contains($0[path: "spec", "role"]?.text ?? "") }
      .reduce(0) { $0 + Int($1[path: "spec", "minSize"]?.intValue ?? 1) }
    if controlPlane <= 1 {
      let notice = "Detected single-control-plane cluster; won't detach before draining"
      if rt.atLeast(1, 33) {
        Klog.info("rolling-update_cluster.go:296", notice)
      } else if rt.atLeast(1, 26) {
        Console.out(notice + "\n")
      }
    }
    var selected = all
    let names = inv.flags.strings("instance-group")
    if !names.isEmpty {
      selected = []
      for n in names {
        guard let ig = all.first(where: { $0[path: "metadata", "name"]?.text == n }) else {
          throw KopsError("InstanceGroup \(goQuote(n)) not found")
        }
        selected.append(ig)
      }
    }
    let roles = inv.flags.strings("instance-group-roles")
    if !roles.isEmpty {
      var filtered: [YAMLNode] = []
      for r in roles {
        guard let role = parseRole(r) else { throw KopsError("invalid instance group role \(goQuote(r))") }
        filtered += selected.filter {
          ($0[path: "spec", "role"]?.text ?? "") == role || (role == "Master" && $0[path: "spec", "role"]?.text == "ControlPlane")
        }
      }
      selected = filtered
    }
    _ = try Cloud.build(cluster, rt: rt)

    let selectedNames = selected.compactMap { $0[path: "metadata", "name"]?.text }
    let groups = cloud.groups.filter { selectedNames.contains($0.name) }
    var header = ["NAME", "STATUS", "NEEDUPDATE", "READY", "MIN", "TARGET", "MAX"]
    if !cloudOnly { header.append("NODES") }
    let rows = groups.map { g -> [String] in
      let need = g.instances.filter { $0.hash != g.hash }.count
      var row = [
        g.name, need > 0 ? "NeedsUpdate" : "Ready", "\(need)", "\(g.instances.count - need)", "\(g.minSize)",
        "\(g.instances.count)", "\(g.maxSize)",
      ]
      if !cloudOnly { row.append("\(g.instances.count)") }
      return row
    }
    Console.out(Table.render(header, rows))
    let needUpdate = groups.contains { g in g.instances.contains { $0.hash != g.hash } }
    if !needUpdate && !force {
      Console.out("\nNo rolling-update required.\n")
      return
    }
    if !inv.flags.bool("yes") {
      Console.out("\nMust specify --yes to rolling-update.\n")
      return
    }
    if cloudOnly {
      Klog.warning("instancegroups.go:502", "Not validating cluster as cloudonly flag is set.")
    } else if ValidateCommand.unhealthy(rt, consume: false) && inv.flags.bool("fail-on-validate-error") {
      let timeout = GoDuration.format(inv.flags.duration("validation-timeout"))
      Klog.info("instancegroups.go:560", "Cluster did not pass validation within deadline: fake-kops was told the cluster is unhealthy.")
      throw KopsError("error validating cluster: cluster did not validate within a duration of \(goQuote(timeout))")
    }
    var rolled: [String] = []
    for g in groups.sorted(by: { $0.name < $1.name }) {
      guard let index = cloud.groups.firstIndex(where: { $0.name == g.name }) else { continue }
      let stale = g.instances.filter { force || $0.hash != g.hash }
      if stale.isEmpty { continue }
      let noun = stale.count == 1 ? "node" : "nodes"
      if !cloudOnly { Klog.info("instancegroups.go:342", "Tainting \(stale.count) \(noun) in \(goQuote(g.name)) instancegroup.") }
      var group = cloud.groups[index]
      for instance in stale {
        if !cloudOnly { Klog.info("instancegroups.go:431", "Draining the node: \(goQuote(instance.id)).") }
        Klog.info(
          "instancegroups.go:628",
          "Stopping instance \(goQuote(instance.id)), node \(goQuote(instance.id)), in group \(goQuote(g.name + "." + name)) (this may take a while)."
        )
        if let i = group.instances.firstIndex(of: instance) {
          group.instances[i] = cloud.newInstance(cluster: name, group: g.name, hash: g.hash)
        }
      }
      cloud.groups[index] = group
      rolled.append(g.name)
    }
    cloud.rollingUpdates.append(RollingUpdateRecord(time: rfc3339Now(), instanceGroups: rolled, cloudOnly: cloudOnly, force: force))
    try cloud.save(store, name)
    Klog.info("rollingupdate.go:234", "Rolling update completed for cluster \(goQuote(name))!")
  }
}

/// Flags added to rolling-update and validate when kops learnt to build its own credential.
enum ClusterAccessFlags {
  static func flags(_ rt: Runtime) -> [FlagSpec] {
    var f: [FlagSpec] = []
    if rt.atLeast(1, 32) {
      f.append(
        FlagSpec(
          "admin", .duration, default: "0s", noOptDefault: "18h0m0s",
          help: "a cluster admin user credential with the specified lifetime"))
    }
    if rt.atLeast(1, 33) {
      f.append(FlagSpec("api-server", .string, help: "Override the API server used when communicating with the cluster kube-apiserver"))
    }
    if rt.atLeast(1, 34) {
      f.append(
        FlagSpec(
          "use-kubeconfig", .bool, default: "false",
          help: "Use the server endpoint from the local kubeconfig instead of inferring from cluster name"))
    }
    return f
  }
}

/// `kops validate cluster [CLUSTER] [-o json] [--wait D]`.
enum ValidateCommand {
  static func flags(_ rt: Runtime) -> [FlagSpec] {
    var f: [FlagSpec] = [
      FlagSpec("output", short: "o", .string, default: "table", help: "Output format. One of json|yaml|table."),
      FlagSpec("wait", .duration, default: "0s", help: "Amount of time to wait for the cluster to become ready"),
      FlagSpec("count", .int, default: "0", help: "Number of consecutive successful validations required"),
      FlagSpec("kubeconfig", .string, help: "Path to the kubeconfig file"),
    ]
    if rt.atLeast(1, 29) {
      f.append(FlagSpec("interval", .duration, default: "10s", help: "Time in duration to wait between validation attempts"))
    }
    f += ClusterAccessFlags.flags(rt)
    return f
  }

  /// `FAKE_KOPS_UNHEALTHY`: `1`/`true`/`always` → unhealthy; `rounds:N` → the first N rounds.
  static func unhealthy(_ rt: Runtime, consume: Bool) -> Bool {
    guard let v = rt.env["FAKE_KOPS_UNHEALTHY"]?.trimmingSpaces(), !v.isEmpty else { return false }
    if ["1", "true", "always", "yes"].contains(v.lowercased()) { return true }
    if v.hasPrefix("rounds:"), let n = Int(v.dropFirst("rounds:".count)) {
      let counters = Counters(env: rt.env)
      guard consume else { return (counters.value("validate-rounds") ?? 0) < n }
      guard let round = counters.increment("validate-rounds") else { return true }
      return round <= n
    }
    return false
  }

  static func run(_ inv: Invocation) throws {
    let rt = inv.rt
    do {
      try validate(inv)
    } catch let e as KopsError {
      throw KopsError((rt.atLeast(1, 26) ? "validation failed: " : "Validation failed: ") + e.message)
    }
  }

  static func validate(_ inv: Invocation) throws {
    let rt = inv.rt
    let name = try ClusterName.required(inv)
    let store = try StateStore.resolve(inv)
    let cluster = try store.requireCluster(name, rt: rt)
    _ = try Cloud.build(cluster, rt: rt)
    let igs = try store.instanceGroups(name, rt: rt)
    let output = inv.flags.string("output")
    if output == "table" { Console.out("Validating cluster \(name)\n\n") }
    if igs.isEmpty { throw KopsError("no InstanceGroup objects found") }
    let explicit = inv.flags.string("kubeconfig")
    try KubeAPI.requireContext(rt, name, explicit: explicit.isEmpty ? nil : explicit)

    let wait = inv.flags.duration("wait")
    let interval = inv.flags.isSet("interval") ? inv.flags.duration("interval") : rt.seconds("FAKE_KOPS_VALIDATE_INTERVAL", default: 10)
    let timeout = Date().addingTimeInterval(wait)
    let count = inv.flags.int("count")
    var consecutive = 0
    while true {
      if wait > 0 && Date() > timeout { throw KopsError("wait time exceeded during validation") }
      let cloud = try CloudState.load(store, name)
      guard cloud.applied else {
        consecutive = 0
        let message = "unexpected error during validation: error listing nodes: \(KubeAPI.unreachable(name))"
        if wait > 0 {
          Klog.warning("validate_cluster.go:194", "(will retry): \(message)")
          sleepSeconds(interval)
          continue
        }
        throw KopsError(message)
      }
      let result = evaluate(cluster: cluster, igs: igs, cloud: cloud, rt: rt)
      switch output {
      case "table": Console.out(table(result, cluster: cluster, igs: igs, rt: rt))
      case "yaml": Console.out(YAMLEmitter.emit(YAMLNode(json: result.json)))
      case "json": Console.out(result.json.serialized())
      default: throw KopsError("unknown output format: \(goQuote(output))")
      }
      if result.failures.isEmpty {
        consecutive += 1
        if consecutive < count {
          Klog.info("validate_cluster.go:224", "(will retry): cluster passed validation \(consecutive) consecutive times")
          if wait > 0 {
            sleepSeconds(interval)
            continue
          }
          throw KopsError("cluster passed validation \(consecutive) consecutive times")
        }
        return
      }
      if wait > 0 {
        Klog.warning("validate_cluster.go:235", "(will retry): cluster not yet healthy")
        consecutive = 0
        sleepSeconds(interval)
        continue
      }
      throw KopsError("cluster not yet healthy")
    }
  }

  struct Result {
    var failures: [JSONValue] = []
    var nodes: [JSONValue] = []
    /// Rows for the table: kind, name, message.
    var failureRows: [[String]] = []
    var nodeRows: [[String]] = []

    var json: JSONValue {
      var members: [(String, JSONValue)] = []
      if !failures.isEmpty { members.append(("failures", .array(failures))) }
      if !nodes.isEmpty { members.append(("nodes", .array(nodes))) }
      return .obj(members)
    }
  }

  static func evaluate(cluster: YAMLNode, igs: [YAMLNode], cloud: CloudState, rt: Runtime) -> Result {
    var result = Result()
    let sick = unhealthy(rt, consume: true)
    func igJSON(_ name: String) -> JSONValue {
      guard var ig = igs.first(where: { $0[path: "metadata", "name"]?.text == name }) else { return .null }
      ig.remove("apiVersion")
      ig.remove("kind")
      if rt.atLeast(1, 26), ig[path: "spec", "role"]?.text == "Master" { ig.set(path: ["spec", "role"], .string("ControlPlane")) }
      return KopsCodec.jsonValue(ig)
    }
    func fail(_ kind: String, _ name: String, _ message: String, ig: String) {
      result.failures.append(
        .obj([("type", .string(kind)), ("name", .string(name)), ("message", .string(message)), ("instanceGroup", igJSON(ig))]))
      result.failureRows.append([kind, name, message])
    }
    for ig in igs {
      let igName = ig[path: "metadata", "name"]?.text ?? ""
      let role = ig[path: "spec", "role"]?.text ?? "Node"
      guard let group = cloud.group(igName) else {
        fail("InstanceGroup", igName, "InstanceGroup \(goQuote(igName)) is missing from the cloud provider", ig: igName)
        continue
      }
      if role == "Bastion" { continue }
      for (i, instance) in group.instances.enumerated() {
        if sick && i == 0 {
          fail("Machine", instance.id, "machine \(goQuote(instance.id)) has not yet joined cluster", ig: igName)
          continue
        }
        let roleName = KubeAPI.roleName(role, rt: rt)
        result.nodes.append(
          .obj([
            ("name", .string(instance.id)), ("zone", .string(KubeAPI.zone(cluster, group, igs))), ("role", .string(roleName)),
            ("hostname", .string(instance.id)), ("status", .string("True")),
          ]))
        result.nodeRows.append([instance.id, roleName, "True"])
      }
    }
    return result
  }

  static func table(_ result: Result, cluster: YAMLNode, igs: [YAMLNode], rt: Runtime) -> String {
    var out = "INSTANCE GROUPS\n"
    out += Table.render(
      ["NAME", "ROLE", "MACHINETYPE", "MIN", "MAX", "SUBNETS"],
      igs.map { ig in
        var role = ig[path: "spec", "role"]?.text ?? ""
        if rt.atLeast(1, 26) && role == "Master" { role = "ControlPlane" }
        return [
          ig[path: "metadata", "name"]?.text ?? "", role, ig[path: "spec", "machineType"]?.text ?? "",
          ig[path: "spec", "minSize"]?.text ?? "-", ig[path: "spec", "maxSize"]?.text ?? "-",
          (ig[path: "spec", "subnets"]?.items ?? []).compactMap(\.text).joined(separator: ","),
        ]
      })
    out += "\nNODE STATUS\n" + Table.render(["NAME", "ROLE", "READY"], result.nodeRows)
    let name = cluster[path: "metadata", "name"]?.text ?? ""
    if !result.failureRows.isEmpty {
      out += "\nVALIDATION ERRORS\n" + Table.render(["KIND", "NAME", "MESSAGE"], result.failureRows)
      out += "\nValidation Failed\n"
    } else {
      out += "\nYour cluster \(name) is ready\n"
    }
    return out
  }
}

/// `kops export kubeconfig [CLUSTER | --all] [--admin[=D]] [--kubeconfig FILE] …`.
enum ExportKubeconfigCommand {
  static func flags(_ rt: Runtime) -> [FlagSpec] {
    [
      FlagSpec("kubeconfig", .string, help: "Filename of the kubeconfig to create"),
      FlagSpec("all", .bool, default: "false", help: "Export all clusters from the kOps state store"),
      FlagSpec(
        "admin", .duration, default: "0s", noOptDefault: "18h0m0s",
        help: "Also export a cluster admin user credential with the specified lifetime and add it to the cluster context"),
      FlagSpec("user", .string, help: "Existing user in kubeconfig file to use"),
      FlagSpec("internal", .bool, default: "false", help: "Use the cluster's internal DNS name"),
      FlagSpec("auth-plugin", .bool, default: "false", help: "Use the kOps authentication plugin"),
    ]
  }

  static func run(_ inv: Invocation) throws {
    let rt = inv.rt
    let admin = inv.flags.duration("admin")
    let user = inv.flags.string("user")
    if admin != 0 && !user.isEmpty { throw KopsError("cannot use both --admin and --user") }
    var names: [String]
    let store: StateStore
    if inv.flags.bool("all") {
      if !inv.args.isEmpty { throw KopsError("cannot use both --all flag and positional arguments") }
      store = try StateStore.resolve(inv)
      names = store.clusterNames()
    } else {
      let name = try ClusterName.required(inv)
      store = try StateStore.resolve(inv)
      names = [name]
    }
    let explicit = inv.flags.string("kubeconfig")
    for name in names {
      let cluster = try store.requireCluster(name, rt: rt)
      let ec2 = try Cloud.build(cluster, rt: rt)
      guard fileExists(store.path(name, "pki/private/kubernetes-ca/keyset.yaml")) else {
        throw KopsError("cannot find CA certificate")
      }
      var server: String
      if inv.flags.bool("internal") {
        server = "https://api.internal.\(name)"
      } else {
        server = "https://" + (cluster[path: "spec", "masterPublicName"]?.text ?? "api.\(name)")
        if cluster[path: "spec", "api", "loadBalancer"]?.isMapping == true {
          let cloud = try CloudState.load(store, name)
          if cloud.applied {
            let label = String(name.replacingOccurrences(of: ".", with: "-").prefix(24))
            server = "https://api-\(label)-fakekops.elb.\(ec2.region).amazonaws.com"
          } else {
            Klog.warning("create_kubecfg.go:69", "Did not find API endpoint; may not be able to reach cluster")
          }
        }
      }
      try Kubeconfig.write(rt, cluster: name, server: server, adminSeconds: admin, user: user, explicit: explicit.isEmpty ? nil : explicit)
    }
  }
}
