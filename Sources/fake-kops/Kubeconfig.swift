import Foundation
import Model

/// The kubeconfig as client-go merges it: `$KUBECONFIG` (a `:`-separated list, first file wins
/// for every key) or `~/.kube/config`.
struct MergedKubeconfig {
  struct Context {
    var cluster: String?
    var user: String?
  }
  var currentContext: String?
  var contexts: [String: Context] = [:]
  var clusters: [String: String] = [:]

  func context(named name: String) -> Context? { contexts[name] }
}

/// Reading and writing kubeconfig files the way kops (client-go) does.
enum Kubeconfig {
  /// The files client-go would load, in precedence order.
  static func paths(_ rt: Runtime, explicit: String? = nil) -> [String] {
    if let explicit, !explicit.isEmpty { return [rt.absolute(explicit)] }
    if let env = rt.env["KUBECONFIG"], !env.isEmpty {
      return env.split(separator: ":").map { rt.absolute(String($0)) }.filter { !$0.isEmpty }
    }
    return [rt.home + "/.kube/config"]
  }

  /// The file client-go writes to (`GetDefaultFilename`): the only file, else the first that
  /// exists, else the last one named.
  static func writePath(_ rt: Runtime, explicit: String? = nil) -> String {
    let all = paths(rt, explicit: explicit)
    if all.count == 1 { return all[0] }
    return all.first(where: fileExists) ?? all.last ?? (rt.home + "/.kube/config")
  }

  static func load(_ path: String) -> YAMLNode? {
    guard let text = readTextFile(path), let doc = try? ManifestReader.documents(text, file: path).first, doc.isMapping else {
      return nil
    }
    return doc
  }

  static func loadMerged(_ rt: Runtime, explicit: String? = nil) -> MergedKubeconfig {
    var merged = MergedKubeconfig()
    for path in paths(rt, explicit: explicit) {
      guard let doc = load(path) else { continue }
      if merged.currentContext == nil, let c = doc["current-context"]?.text, !c.isEmpty { merged.currentContext = c }
      for item in doc["contexts"]?.items ?? [] {
        guard let name = item["name"]?.text, merged.contexts[name] == nil else { continue }
        merged.contexts[name] = .init(cluster: item[path: "context", "cluster"]?.text, user: item[path: "context", "user"]?.text)
      }
      for item in doc["clusters"]?.items ?? [] {
        guard let name = item["name"]?.text, merged.clusters[name] == nil else { continue }
        merged.clusters[name] = item[path: "cluster", "server"]?.text ?? ""
      }
    }
    return merged
  }

  /// Whether a context of that name exists (what kops ≤ 1.30 needs for rolling-update/validate).
  static func hasContext(_ rt: Runtime, _ name: String, explicit: String? = nil) -> Bool {
    loadMerged(rt, explicit: explicit).contexts[name] != nil
  }

  /// kops's `WriteKubecfg`: sets cluster, (admin) user and context named after the cluster and
  /// makes it current. Prints kops's notice on stdout.
  static func write(
    _ rt: Runtime, cluster: String, server: String, adminSeconds: Double, user: String, explicit: String? = nil
  ) throws(KopsError) {
    let path = writePath(rt, explicit: explicit)
    var doc = load(path) ?? .mapping([])
    doc.set("apiVersion", .string("v1"))
    doc.set("kind", .string("Config"))
    if doc["preferences"] == nil { doc.set("preferences", .mapping([])) }

    let ca = Data("fake-kops CA for \(cluster)".utf8).base64EncodedString()
    var clusterBody = existing(doc, "clusters", cluster, "cluster") ?? .mapping([])
    clusterBody.set("certificate-authority-data", .string(ca))
    clusterBody.set("server", .string(server))
    upsert(&doc, "clusters", cluster, "cluster", clusterBody)

    var haveUser = false
    if adminSeconds > 0 {
      let expires = formatRFC3339(Date().addingTimeInterval(adminSeconds))
      var userBody = existing(doc, "users", cluster, "user") ?? .mapping([])
      userBody.set(
        "client-certificate-data",
        .string(Data("fake-kops admin certificate for \(cluster), expires \(expires)".utf8).base64EncodedString()))
      userBody.set("client-key-data", .string(Data("fake-kops admin key for \(cluster)".utf8).base64EncodedString()))
      upsert(&doc, "users", cluster, "user", userBody)
      haveUser = true
    } else if !user.isEmpty {
      guard existing(doc, "users", user, "user") != nil else { throw KopsError("could not find user \(goQuote(user))") }
      haveUser = true
    }

    var contextBody = existing(doc, "contexts", cluster, "context") ?? .mapping([])
    contextBody.set("cluster", .string(cluster))
    if haveUser { contextBody.set("user", .string(user.isEmpty ? cluster : user)) }
    upsert(&doc, "contexts", cluster, "context", contextBody)
    doc.set("current-context", .string(cluster))
    try writeTextFile(path, YAMLEmitter.emit(KopsCodec.canonical(doc)))
    Console.out("kOps has set your kubectl context to \(cluster)\n")
  }

  static func existing(_ doc: YAMLNode, _ list: String, _ name: String, _ field: String) -> YAMLNode? {
    doc[list]?.items?.first { $0["name"]?.text == name }?[field]
  }

  static func upsert(_ doc: inout YAMLNode, _ list: String, _ name: String, _ field: String, _ body: YAMLNode) {
    var items = doc[list]?.items ?? []
    let entry = YAMLNode.mapping([YAMLPair(key: field, value: body), YAMLPair(key: "name", value: .string(name))])
    if let i = items.firstIndex(where: { $0["name"]?.text == name }) {
      items[i] = entry
    } else {
      items.append(entry)
    }
    doc.set(list, .sequence(items))
  }
}
