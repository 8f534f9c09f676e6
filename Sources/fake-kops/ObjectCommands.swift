import Foundation
import Model

/// `kops version [--short] [--server]`.
enum VersionCommand {
  static func run(_ inv: Invocation) throws {
    let rt = inv.rt
    if !rt.atLeast(1, 24), let extra = inv.args.first {
      throw KopsError("unknown command \(goQuote(extra)) for \"kops version\"")
    }
    let name = rt.atLeast(1, 24) ? try ClusterName.processArgs(inv) : ""
    let v = rt.versionText
    let server = inv.flags.bool("server")
    if inv.flags.bool("short") {
      Console.out(v + "\n")
      if server { Console.out(serverVersion(inv, name) + "\n") }
      return
    }
    Console.out(rt.atLeast(1, 24) ? "Client version: \(v) (git-v\(v))\n" : "Version \(v) (git-v\(v))\n")
    if server { Console.out("Last applied server version: \(serverVersion(inv, name))\n") }
  }

  static func serverVersion(_ inv: Invocation, _ name: String) -> String {
    if name.isEmpty { return "No cluster selected" }
    guard let store = try? StateStore.resolve(inv), (try? store.readCluster(name, rt: inv.rt)) != nil else {
      return "could not fetch cluster"
    }
    guard let text = readTextFile(store.path(name, "kops-version.txt")) else { return "could get cluster version" }
    return text
  }
}

/// Reading `-f` files (`-` is stdin), as kops's vfsContext.ReadFile does for local files.
enum ManifestFiles {
  static func read(_ file: String, rt: Runtime) throws(KopsError) -> [UInt8] {
    if file == "-" { return [UInt8](FileHandle.standardInput.readDataToEndOfFile()) }
    let path = file.hasPrefix("file://") ? String(file.dropFirst("file://".count)) : file
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: rt.absolute(path), isDirectory: &isDirectory), isDirectory.boolValue {
      throw KopsError("error reading file \(goQuote(file)): read \(path): is a directory")
    }
    guard let data = FileManager.default.contents(atPath: rt.absolute(path)) else {
      throw KopsError("error reading file \(goQuote(file)): open \(path): no such file or directory")
    }
    return [UInt8](data)
  }

  /// `ValidateInstanceGroup` (the checks that do not need the cluster).
  static func validateInstanceGroup(_ ig: YAMLNode, rt: Runtime) -> String? {
    var errs: [String] = []
    let role = ig[path: "spec", "role"]?.text ?? ""
    var roles = ["Master", "Node", "Bastion", "APIServer"]
    if rt.atLeast(1, 26) { roles.insert("ControlPlane", at: 0) }
    if role.isEmpty {
      errs.append("spec.role: Required value: Role must be set")
    } else if !roles.contains(role) {
      errs.append("spec.role: Unsupported value: \(goQuote(role)): supported values: \(roles.map(goQuote).joined(separator: ", "))")
    }
    if let min = ig[path: "spec", "minSize"]?.intValue, let max = ig[path: "spec", "maxSize"]?.intValue, max < min {
      errs.append("spec.maxSize: Forbidden: maxSize must be greater than or equal to minSize.")
    }
    if errs.isEmpty { return nil }
    return errs.count == 1 ? errs[0] : "[" + errs.joined(separator: ", ") + "]"
  }

  /// Stamps `metadata.creationTimestamp` with now when absent (kops's commonvfs create/update).
  static func stampCreation(_ node: inout YAMLNode) {
    let ts = node[path: "metadata", "creationTimestamp"]
    if ts == nil || ts?.isNull == true { node.set(path: ["metadata", "creationTimestamp"], .string(rfc3339Now())) }
  }
}

/// `kops create -f FILE...`.
enum CreateCommand {
  static func run(_ inv: Invocation) throws {
    let rt = inv.rt
    if let extra = inv.args.first { throw KopsError("unknown command \(goQuote(extra)) for \"kops create\"") }
    let files = inv.flags.strings("filename")
    if !inv.flags.isSet("filename") {
      throw KopsError("required flag(s) \"filename\" not set", showUsage: true)
    }
    let store = try StateStore.resolve(inv)
    var sb = "\n"
    var clusterName = ""
    var addons: [YAMLNode] = []
    var clusters: [String] = []
    for file in files {
      let bytes = try ManifestFiles.read(file, rt: rt)
      for section in KopsCodec.sections(bytes) {
        for object in try KopsCodec.decodeSection(section, file: file, rt: rt) {
          var node = object.node
          switch object.kind {
          case .cluster:
            let ec2 = try Cloud.build(node, rt: rt)
            try Assignments.perform(&node, ec2: ec2, rt: rt)
            let name = node[path: "metadata", "name"]?.text ?? ""
            if let problem = Assignments.validate(node, rt: rt) { throw KopsError("error creating cluster: \(problem)") }
            if name.isEmpty { throw KopsError("error creating cluster: clusterName is required") }
            if fileExists(store.path(name, "config")) {
              Klog.warning("commonvfs.go:166", "failed to create file as already exists: \(store.path(name, "config"))")
              throw KopsError("cluster \(goQuote(name)) already exists")
            }
            ManifestFiles.stampCreation(&node)
            try store.writeCluster(node)
            sb += "Created cluster/\(name)\n"
            clusters.append(name)
          case .instanceGroup:
            let label = node[path: "metadata", "labels", "kops.k8s.io/cluster"]?.text ?? ""
            guard !label.isEmpty else {
              throw KopsError("must specify \"kops.k8s.io/cluster\" label with cluster name to create instanceGroup")
            }
            clusterName = label
            guard try store.readCluster(label, rt: rt) != nil else {
              throw KopsError("error querying cluster \(goQuote(label)): Cluster.kops.k8s.io \(goQuote(label)) not found")
            }
            let igName = node[path: "metadata", "name"]?.text ?? ""
            if let problem = ManifestFiles.validateInstanceGroup(node, rt: rt) {
              throw KopsError("error creating instanceGroup: \(problem)")
            }
            if fileExists(store.path(label, "instancegroup/" + igName)) {
              throw KopsError("instanceGroup \(goQuote(igName)) already exists")
            }
            ManifestFiles.stampCreation(&node)
            try store.writeInstanceGroup(label, node)
            sb += "Created instancegroup/\(igName)\n"
          case .sshCredential:
            clusterName = node[path: "metadata", "labels", "kops.k8s.io/cluster"]?.text ?? ""
            if clusterName.isEmpty {
              throw KopsError("must specify \"kops.k8s.io/cluster\" label with cluster name to create SSHCredential")
            }
            guard let key = node[path: "spec", "publicKey"]?.text, !key.isEmpty else {
              throw KopsError("spec.PublicKey is required")
            }
            try writeTextFile(store.path(clusterName, "pki/ssh/public/admin/fake-kops"), key + "\n")
            sb += "Added ssh credential\n"
          case .addon:
            addons.append(node)
          }
        }
      }
    }
    if !addons.isEmpty {
      if clusters.count > 1 { throw KopsError("cannot specify additional objects when multiple clusters are created") }
      guard let cluster = clusters.first else { throw KopsError("must specify a cluster when creating additional objects") }
      try writeTextFile(store.path(cluster, "clusteraddons/default"), YAMLEmitter.emit(documents: addons))
    }
    sb += "\nTo deploy these resources, run: kops update cluster --name \(clusterName) --yes\n\n"
    Console.out(sb)
  }
}

/// `kops replace -f FILE [--force]`. Never deletes instance groups.
enum ReplaceCommand {
  static func run(_ inv: Invocation) throws {
    let rt = inv.rt
    let force = inv.flags.bool("force")
    let store = try StateStore.resolve(inv)
    for file in inv.flags.strings("filename") {
      let bytes = try ManifestFiles.read(file, rt: rt)
      for section in KopsCodec.sections(bytes) {
        for object in try KopsCodec.decodeSection(section, file: file, rt: rt) {
          var node = object.node
          switch object.kind {
          case .cluster:
            let ec2 = try Cloud.build(node, rt: rt)
            let name = node[path: "metadata", "name"]?.text ?? ""
            if let old = try store.readCluster(name, rt: rt) {
              if let problem = Assignments.validate(node, rt: rt) { throw KopsError("error replacing cluster: \(problem)") }
              let oldSpec = KopsCodec.canonical(old["spec"] ?? .mapping([]))
              let newSpec = KopsCodec.canonical(node["spec"] ?? .mapping([]))
              if oldSpec != newSpec {
                let generation = old[path: "metadata", "generation"]?.intValue ?? 0
                node.set(path: ["metadata", "generation"], .int(generation + 1))
              }
              try store.writeCluster(node)
            } else {
              if !force { throw KopsError("cluster \(name) does not exist (try adding --force flag)") }
              if rt.atLeast(1, 27) { try Assignments.perform(&node, ec2: ec2, rt: rt) }
              if let problem = Assignments.validate(node, rt: rt) { throw KopsError("error creating cluster: \(problem)") }
              ManifestFiles.stampCreation(&node)
              try store.writeCluster(node)
            }
          case .instanceGroup:
            let label = node[path: "metadata", "labels", "kops.k8s.io/cluster"]?.text ?? ""
            guard !label.isEmpty else {
              throw KopsError("must specify \"kops.k8s.io/cluster\" label with cluster name to replace instanceGroup")
            }
            guard try store.readCluster(label, rt: rt) != nil else { throw KopsError("cluster \(goQuote(label)) not found") }
            let igName = node[path: "metadata", "name"]?.text ?? ""
            let exists = fileExists(store.path(label, "instancegroup/" + igName))
            if !exists {
              if !force { throw KopsError("instanceGroup: \(igName) does not exist (try adding --force flag)") }
              Klog.info("replace.go:184", "instanceGroup: \(igName) was not found, creating resource now")
            }
            if let problem = ManifestFiles.validateInstanceGroup(node, rt: rt) {
              throw KopsError("error \(exists ? "replacing" : "creating") instanceGroup: \(problem)")
            }
            ManifestFiles.stampCreation(&node)
            try store.writeInstanceGroup(label, node)
          case .sshCredential:
            let label = node[path: "metadata", "labels", "kops.k8s.io/cluster"]?.text ?? ""
            if label.isEmpty {
              throw KopsError("must specify \"kops.k8s.io/cluster\" label with cluster name to replace SSHCredential")
            }
            guard let key = node[path: "spec", "publicKey"]?.text, !key.isEmpty else {
              throw KopsError("spec.PublicKey is required")
            }
            try writeTextFile(store.path(label, "pki/ssh/public/admin/fake-kops"), key + "\n")
          case .addon:
            throw KopsError("unhandled kind \(goQuote(object.gvk)) in \(goQuote(file))")
          }
        }
      }
    }
  }
}

/// `kops delete instancegroup NAME --name C [--yes]`.
enum DeleteInstanceGroupCommand {
  static func run(_ inv: Invocation) throws {
    let rt = inv.rt
    let cluster: String
    if !inv.nameFlag.isEmpty {
      cluster = inv.nameFlag
    } else if let fromContext = ClusterName.fromKubeconfig(rt) {
      cluster = fromContext
    } else {
      throw KopsError("--name is required")
    }
    guard let group = inv.args.first else { throw KopsError("must specify the name of the instance group to delete") }
    if inv.args.count != 1 { throw KopsError("can only delete one instance group at a time") }
    var yes = inv.flags.bool("yes")
    if !yes {
      var retries = 2
      while true {
        Console.out("Do you really want to delete instance group \(goQuote(group))? This action cannot be undone. (y/N)\n")
        guard let line = readLine() else { throw KopsError("EOF") }
        let answer = line.trimmingSpaces().lowercased()
        if answer == "y" || answer == "yes" {
          yes = true
          break
        }
        if answer.isEmpty || answer == "n" || answer == "no" { throw KopsExit(code: 1) }
        if retries == 0 { throw KopsExit(code: 1) }
        retries -= 1
      }
    }
    let store = try StateStore.resolve(inv)
    let clusterNode = try store.requireCluster(cluster, rt: rt)
    guard let ig = try store.readInstanceGroup(cluster, group, rt: rt) else {
      throw KopsError("error reading InstanceGroup \(goQuote(group)): InstanceGroup.kops.k8s.io \(goQuote(group)) not found")
    }
    Console.out("InstanceGroup \(goQuote(group)) found for deletion\n")
    let controlPlane = ["Master", "ControlPlane"]
    if controlPlane.contains(ig[path: "spec", "role"]?.text ?? "") {
      let others = try store.instanceGroups(cluster, rt: rt).filter {
        $0[path: "metadata", "name"]?.text != group && controlPlane.contains($0[path: "spec", "role"]?.text ?? "")
      }
      if others.isEmpty { throw KopsError("cannot delete the only control plane instance group") }
    }
    _ = try Cloud.build(clusterNode, rt: rt)
    var cloud = try CloudState.load(store, cluster)
    if let g = cloud.group(group) {
      for instance in g.instances {
        Klog.info("delete.go:54", "Deleting instance \(goQuote(instance.id)) in group \(goQuote(group + "." + cluster))")
      }
      cloud.groups.removeAll { $0.name == group }
      try cloud.save(store, cluster)
    }
    store.deleteInstanceGroup(cluster, group)
    Console.out("\nDeleted InstanceGroup: \(goQuote(group))\n")
  }
}
