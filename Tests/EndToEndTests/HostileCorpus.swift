import Config
import Foundation
import HKTestSupport
import Model
import Store
import Testing

/// The generators. Random choices come from a fixed seed, so the corpus is the same every run.
enum HostileCorpus {
  static let clusterFile = "environments/dev/cluster.yaml"
  static let settingsFile = "environments/dev/environment.yaml"
  static let baseFile = "environments/_base/cluster.yaml"

  static func original(_ relative: String) -> [UInt8] {
    Array(FileManager.default.contents(atPath: packageRoot + "/" + relative) ?? Data())
  }

  static func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

  static func input(
    _ category: String, _ label: String, file: String = clusterFile, expect: HostileInput.Expect? = nil,
    _ make: @escaping @Sendable () -> [UInt8]
  ) -> HostileInput {
    HostileInput(category: category, label: label, files: [(file, make)], expect: expect ?? .positioned(file: file, line: nil))
  }

  /// Breakers inserted at random offsets.
  static let breakers = [
    "\"", "'", "[", "{", "]", "}", ": :", "\t", "- [", "&a ", "*nope ", "!!binary ", "\n%YAML 1.1\n", "\n  bad: - x\n", "? ",
    "|\n", ">\n", "@", "`", ",", "\n---\n", "\n...\n", "\n- orphan\n", "key: value: more\n", "\n  \t- x\n", "{a: [}\n", "\u{FEFF}",
    "!<tag:x> ", "&a &b ", "\n\"unterminated\n",
  ]

  static func syntax() -> [HostileInput] {
    var rng = SplitMix64(seed: 0x6b5f_0001)
    var out: [HostileInput] = []
    for (file, count) in [(clusterFile, 150), (settingsFile, 50), (baseFile, 20)] {
      let text = original(file)
      for i in 0..<count {
        let offset = Int(rng.next() % UInt64(text.count + 1))
        let breaker = breakers[Int(rng.next() % UInt64(breakers.count))]
        let cut = i % 5 == 4 ? Int(rng.next() % 40) : 0  // sometimes also delete a span
        let label =
          "\(file.split(separator: "/").suffix(2).joined(separator: "/")) +\(offset) \(breaker.debugDescription)\(cut > 0 ? " -\(cut)" : "")"
        out.append(
          input("syntax", label, file: file) {
            var b = text
            let end = min(b.count, offset + cut)
            b.replaceSubrange(offset..<end, with: Array(breaker.utf8))
            return b
          })
      }
    }
    return out
  }

  // MARK: Wrong types

  enum FieldType { case string, int, bool, mapping, stringList, mappingList, stringMap, optionMap, stringOrMapping, port }

  /// The fields hk reads with a type (Config's TypeRules and settings decoder), by document.
  static let clusterFields: [([String], FieldType)] = [
    (["metadata"], .mapping), (["metadata", "name"], .string), (["spec"], .mapping), (["spec", "cloudProvider"], .stringOrMapping),
    (["spec", "kubernetesVersion"], .string), (["spec", "configBase"], .string), (["spec", "channel"], .string),
    (["spec", "networkID"], .string), (["spec", "networkCIDR"], .string), (["spec", "additionalNetworkCIDRs"], .stringList),
    (["spec", "nonMasqueradeCIDR"], .string), (["spec", "dnsZone"], .string), (["spec", "masterPublicName"], .string),
    (["spec", "containerRuntime"], .string), (["spec", "subnets"], .mappingList), (["spec", "topology"], .mapping),
    (["spec", "topology", "masters"], .string), (["spec", "topology", "nodes"], .string), (["spec", "topology", "dns"], .mapping),
    (["spec", "topology", "dns", "type"], .string), (["spec", "api"], .mapping), (["spec", "api", "loadBalancer"], .mapping),
    (["spec", "api", "loadBalancer", "type"], .string), (["spec", "api", "loadBalancer", "class"], .string),
    (["spec", "networking"], .optionMap), (["spec", "egressProxy"], .mapping), (["spec", "egressProxy", "httpProxy"], .mapping),
    (["spec", "egressProxy", "httpProxy", "host"], .string), (["spec", "egressProxy", "httpProxy", "port"], .port),
    (["spec", "egressProxy", "excludes"], .string), (["spec", "additionalPolicies"], .stringMap), (["spec", "iam"], .mapping),
    (["spec", "iam", "allowContainerRegistry"], .bool), (["spec", "iam", "legacy"], .bool), (["spec", "docker"], .mapping),
    (["spec", "docker", "logDriver"], .string), (["spec", "docker", "logOpt"], .stringList), (["spec", "kubelet"], .mapping),
    (["spec", "kubelet", "containerLogMaxSize"], .string), (["spec", "kubelet", "containerLogMaxFiles"], .int),
    (["spec", "externalDns"], .mapping), (["spec", "externalDns", "watchIngress"], .bool), (["spec", "etcdClusters"], .mappingList),
  ]
  static let subnetFields = ["name", "zone", "cidr", "id", "type", "egress"]
  static let instanceGroupFields: [([String], FieldType)] = [
    (["metadata"], .mapping), (["metadata", "name"], .string), (["metadata", "labels"], .stringMap), (["spec"], .mapping),
    (["spec", "role"], .string), (["spec", "machineType"], .string), (["spec", "image"], .string), (["spec", "minSize"], .int),
    (["spec", "maxSize"], .int), (["spec", "rootVolumeSize"], .int), (["spec", "subnets"], .stringList),
  ]
  static let settingsFields: [([String], FieldType)] = [
    (["cluster"], .string), (["stateStore"], .string), (["kopsVersion"], .string), (["kopsPath"], .string), (["base"], .string),
    (["aws"], .mapping), (["aws", "region"], .string), (["aws", "profile"], .string), (["internetGateway"], .mapping),
    (["internetGateway", "strategy"], .string), (["internetGateway", "id"], .string), (["rollingUpdate"], .string),
    (["ignore"], .mappingList),
  ]

  static let aMap = YAMLNode.mapping([YAMLPair(key: "wrong", value: .string("type"))])
  static let aList = YAMLNode.sequence([.string("wrong"), .string("type")])

  static func wrongValues(_ t: FieldType) -> [(String, YAMLNode)] {
    switch t {
    case .string: [("a mapping", aMap), ("a list", aList)]
    case .int:
      [("a word", .string("twelve")), ("a fraction", YAMLNode(.scalar(YAMLScalar("1.5")))), ("a mapping", aMap), ("a list", aList)]
    case .bool: [("a word", .string("maybe")), ("a number", .int(2)), ("a list", aList)]
    case .mapping, .optionMap: [("a string", .string("scalar")), ("a list", aList)]
    case .stringList: [("a string", .string("scalar")), ("a mapping", aMap), ("a list of mappings", .sequence([aMap]))]
    case .mappingList: [("a string", .string("scalar")), ("a mapping", aMap), ("a list of strings", aList)]
    case .stringMap:
      [("a string", .string("scalar")), ("a list", aList), ("a nested mapping", .mapping([YAMLPair(key: "node", value: aMap)]))]
    case .stringOrMapping:
      [("a list", aList), ("a two-key mapping", .mapping([YAMLPair(key: "aws", value: aMap), YAMLPair(key: "gce", value: aMap)]))]
    case .port: [("a word", .string("http")), ("out of range", .int(70000)), ("a mapping", aMap)]
    }
  }

  /// One step of a path into a YAML tree.
  enum Step: CustomStringConvertible {
    case key(String)
    case index(Int)
    var description: String {
      switch self {
      case .key(let k): k
      case .index(let i): "[\(i)]"
      }
    }
  }

  /// `node` with `value` at `path` (intermediate mappings created).
  static func setting(_ node: YAMLNode, _ path: ArraySlice<Step>, _ value: YAMLNode) -> YAMLNode {
    guard let first = path.first else { return value }
    switch first {
    case .key(let k):
      var n = node.isMapping ? node : YAMLNode.mapping([])
      n.set(k, setting(n[k] ?? .mapping([]), path.dropFirst(), value))
      return n
    case .index(let i):
      var items = node.items ?? []
      while items.count <= i { items.append(.mapping([])) }
      items[i] = setting(items[i], path.dropFirst(), value)
      return .sequence(items)
    }
  }

  /// The node at `path`, if any.
  static func node(_ root: YAMLNode, _ path: [Step]) -> YAMLNode? {
    var n: YAMLNode? = root
    for s in path {
      switch s {
      case .key(let k): n = n?[k]
      case .index(let i): n = n?.items.flatMap { i < $0.count ? $0[i] : nil }
      }
    }
    return n
  }

  /// Every typed field, set to each wrong type in turn; the diagnostic must point at it.
  static func wrongTypes() -> [HostileInput] {
    var out: [HostileInput] = []
    let clusterText = String(decoding: original(clusterFile), as: UTF8.self)
    let settingsText = String(decoding: original(settingsFile), as: UTF8.self)
    guard let docs = try? YAMLParser.parse(clusterText, file: clusterFile), docs.count >= 3,
      let settings = try? YAMLParser.parse(settingsText, file: settingsFile).first
    else { return [] }
    var targets: [(file: String, doc: Int, path: [Step], type: FieldType)] = []
    for (p, t) in clusterFields { targets.append((clusterFile, 0, p.map { .key($0) }, t)) }
    for k in subnetFields { targets.append((clusterFile, 0, [.key("spec"), .key("subnets"), .index(0), .key(k)], .string)) }
    for (p, t) in instanceGroupFields { targets.append((clusterFile, 2, p.map { .key($0) }, t)) }
    for (p, t) in settingsFields { targets.append((settingsFile, 0, p.map { .key($0) }, t)) }
    for k in ["path", "reason", "until"] {
      targets.append((settingsFile, 0, [.key("ignore"), .index(0), .key(k)], .string))
    }
    for target in targets {
      for (what, value) in wrongValues(target.type) {
        var documents = target.file == clusterFile ? docs : [settings]
        var root = documents[target.doc]
        if target.file == settingsFile, case .key("ignore") = target.path.first, target.path.count > 1 {
          root.set(
            "ignore",
            .sequence([
              .mapping([
                YAMLPair(key: "path", value: .string("spec.kubernetesVersion")),
                YAMLPair(key: "reason", value: .string("platform team")),
                YAMLPair(key: "until", value: .string("2027-01-31")),
              ])
            ]))
        }
        root = setting(root, target.path[...], value)
        documents[target.doc] = root
        let text = YAMLEmitter.emit(documents: documents)
        // Where the wrong node landed in the emitted text.
        let reparsed = try? YAMLParser.parse(text, file: target.file)
        let line = reparsed.flatMap { $0.count > target.doc ? node($0[target.doc], target.path).map { Int($0.mark.line) } : nil }
        let label =
          "\(target.file.hasSuffix("environment.yaml") ? "environment" : target.doc == 0 ? "cluster" : "instancegroup").\(target.path.map(\.description).joined(separator: ".")) = \(what)"
        let make: @Sendable () -> [UInt8] = { bytes(text) }
        out.append(
          HostileInput(
            category: "types", label: label, files: [(target.file, make)],
            expect: .positioned(file: target.file, line: line)))
      }
    }
    return out
  }
}
