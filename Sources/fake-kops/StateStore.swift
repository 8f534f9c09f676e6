import Foundation
import Model

/// The kops state store, as a local directory laid out like kops's vfs store.
///
/// `file:///abs/path` and plain paths are used as they are; `s3://bucket/prefix` maps to
/// `$FAKE_KOPS_S3_ROOT/bucket/prefix` (the bucket directory must exist, as an S3 bucket must).
/// Layout under `<store>/<cluster>/`: `config`, `instancegroup/<ig>`, `clusteraddons/default`,
/// after `update --yes` `cluster-completed.spec`, `kops-version.txt`,
/// `igconfig/<role>/<ig>/nodeupconfig.yaml`, `pki/private/kubernetes-ca/keyset.yaml`, and the
/// double's private simulated cloud `.fake-cloud.json`.
struct StateStore {
  /// The store location as given (trailing `/` trimmed): what `configBase` is built from.
  var location: String
  /// The local directory standing in for the store.
  var root: String

  /// kops's `KopsClient()`: the store from `--state`, `KOPS_STATE_STORE` or the kops config file.
  static func resolve(_ inv: Invocation) throws(KopsError) -> StateStore {
    let rt = inv.rt
    var location = inv.flags.string("state")
    if location.isEmpty { location = rt.env["KOPS_STATE_STORE"] ?? "" }
    if location.isEmpty { location = configFileStore(rt, explicit: inv.flags.string("config")) ?? "" }
    while location.hasSuffix("/") && location.count > 1 { location.removeLast() }
    if location.isEmpty {
      throw KopsError(
        "State Store: Required value: Please set the --state flag or export KOPS_STATE_STORE.\n"
          + "For example, a valid value follows the format s3://<bucket>.\n"
          + "You can find the supported stores in https://kops.sigs.k8s.io/state.")
    }
    let root: String
    if !location.contains("://") {
      root = rt.absolute(location)
    } else if location.hasPrefix("file://") {
      root = rt.absolute(String(location.dropFirst("file://".count)))
    } else if location.hasPrefix("s3://") {
      let rest = String(location.dropFirst("s3://".count))
      let bucket = String(rest.split(separator: "/", maxSplits: 1).first ?? "")
      guard let s3Root = rt.env["FAKE_KOPS_S3_ROOT"], !s3Root.isEmpty else {
        throw KopsError(
          "error reading state store \(location): NoCredentialProviders: no valid providers in chain. Deprecated.\n"
            + "\tFor verbose messaging see aws.Config.CredentialsChainVerboseErrors\n"
            + "(fake-kops: set FAKE_KOPS_S3_ROOT to a directory holding one directory per S3 bucket)")
      }
      let bucketDir = rt.absolute(s3Root) + "/" + bucket
      var isDir: ObjCBool = false
      guard !bucket.isEmpty, FileManager.default.fileExists(atPath: bucketDir, isDirectory: &isDir), isDir.boolValue else {
        throw KopsError(
          "error reading state store \(location): NoSuchBucket: The specified bucket does not exist\n"
            + "\tstatus code: 404, request id: FAKEKOPS0000000, host id: fake-kops\n"
            + "(fake-kops: create the directory \(bucketDir))")
      }
      root = rt.absolute(s3Root) + "/" + rest
    } else if location.hasPrefix("memfs://") || location.hasPrefix("ssh://") {
      throw KopsError(
        "State Store: Invalid value: \(goQuote(location)): Unable to read state store.\n"
          + "Please use a valid state store when setting --state or KOPS_STATE_STORE env var.\n"
          + "For example, a valid value follows the format s3://<bucket>.\n"
          + "Trailing slash will be trimmed.")
    } else {
      throw KopsError("error building path for \(goQuote(location)): unknown / unhandled path type: \(goQuote(location))")
    }
    if location.hasPrefix("file://") {
      Klog.warning("factory.go:173", "The local filesystem state store is not functional for running clusters")
    }
    return StateStore(location: location, root: root)
  }

  /// `kops_state_store` from `--config`, `$HOME/.kops.yaml` or `$HOME/.kops/config`.
  static func configFileStore(_ rt: Runtime, explicit: String) -> String? {
    let candidates = explicit.isEmpty ? [rt.home + "/.kops.yaml", rt.home + "/.kops/config"] : [rt.absolute(explicit)]
    for path in candidates {
      guard let text = readTextFile(path) else { continue }
      guard let doc = try? ManifestReader.documents(text, file: path).first else { return nil }
      return doc["kops_state_store"]?.text ?? doc["KOPS_STATE_STORE"]?.text
    }
    return nil
  }

  func clusterDir(_ cluster: String) -> String { root + "/" + cluster }

  /// The cluster's `configBase` as kops computes it when the spec has none (`<store>/<name>`;
  /// for a local store the plain path, as kops's `FSPath.Path()` prints it).
  func configBase(_ cluster: String) -> String {
    if location.hasPrefix("s3://") { return location + "/" + cluster }
    return clusterDir(cluster)
  }

  func path(_ cluster: String, _ relative: String) -> String { clusterDir(cluster) + "/" + relative }

  /// The names of the clusters in the store (directories holding a `config`), sorted.
  func clusterNames() -> [String] {
    guard let entries = try? FileManager.default.contentsOfDirectory(atPath: root) else { return [] }
    return entries.filter { fileExists(root + "/" + $0 + "/config") }.sorted()
  }

  /// The cluster, decoded with kops's defaults and `configBase` filled in; nil when absent.
  func readCluster(_ name: String, rt: Runtime) throws(KopsError) -> YAMLNode? {
    let file = path(name, "config")
    guard let text = readTextFile(file) else { return nil }
    var node = try KopsCodec.decodeStored(text, path: file, rt: rt)
    if node[path: "metadata", "name"]?.text == nil { node.set(path: ["metadata", "name"], .string(name)) }
    if node[path: "spec", "configBase"]?.text == nil {
      node.set(path: ["spec", "configBase"], .string(configBase(name)))
    }
    return KopsCodec.canonical(node)
  }

  /// kops's `GetCluster` from `root.go` (the one update/rolling-update/validate use).
  func requireCluster(_ name: String, rt: Runtime) throws(KopsError) -> YAMLNode {
    if name.isEmpty { throw KopsError("clusterName: Required value: Cluster name is required") }
    guard let c = try readCluster(name, rt: rt) else {
      throw KopsError("error reading cluster configuration: Cluster.kops.k8s.io \(goQuote(name)) not found")
    }
    return c
  }

  func instanceGroupNames(_ cluster: String) -> [String] {
    let dir = path(cluster, "instancegroup")
    guard let entries = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return [] }
    return entries.filter { !$0.hasPrefix(".") }.sorted()
  }

  func readInstanceGroup(_ cluster: String, _ name: String, rt: Runtime) throws(KopsError) -> YAMLNode? {
    let file = path(cluster, "instancegroup/" + name)
    guard let text = readTextFile(file) else { return nil }
    return KopsCodec.canonical(try KopsCodec.decodeStored(text, path: file, rt: rt))
  }

  /// Every instance group of the cluster, sorted by name.
  func instanceGroups(_ cluster: String, rt: Runtime) throws(KopsError) -> [YAMLNode] {
    var out: [YAMLNode] = []
    for name in instanceGroupNames(cluster) {
      if let ig = try readInstanceGroup(cluster, name, rt: rt) { out.append(ig) }
    }
    return out
  }

  func writeCluster(_ node: YAMLNode) throws(KopsError) {
    let name = node[path: "metadata", "name"]?.text ?? ""
    try writeTextFile(path(name, "config"), KopsCodec.yaml(node))
  }

  func writeInstanceGroup(_ cluster: String, _ node: YAMLNode) throws(KopsError) {
    let name = node[path: "metadata", "name"]?.text ?? ""
    try writeTextFile(path(cluster, "instancegroup/" + name), KopsCodec.yaml(node))
  }

  func deleteInstanceGroup(_ cluster: String, _ name: String) {
    try? FileManager.default.removeItem(atPath: path(cluster, "instancegroup/" + name))
  }

  /// Addon objects stored by `create -f` (`clusteraddons/default`), as YAML documents.
  func addons(_ cluster: String) -> [YAMLNode] {
    let file = path(cluster, "clusteraddons/default")
    guard let text = readTextFile(file), let docs = try? ManifestReader.documents(text, file: file) else { return [] }
    return docs.filter { !$0.isNull }
  }
}
