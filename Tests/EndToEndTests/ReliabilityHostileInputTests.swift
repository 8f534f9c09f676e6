import Config
import Foundation
import HKTestSupport
import Model
import Store
import Testing

/// Issue 6, hostile inputs: generated cases (seeded, so a failure reproduces) run through the
/// real hk binary — `validate`, then `apply --yes` when validation refuses the input (apply plans
/// first, then would write), else `plan`.
///
/// For every invocation: no crash (no signal, no Swift trap, no hang), an exit code of 0, 1, 2
/// or 64, and on failure a positioned diagnostic (`file:line:col: error: …`) or a clear
/// `Error: …` message. The state database (a real one with a recorded revision) must be
/// byte-for-byte unchanged after every case. No kops and no aws is ever reached: `HK_KOPS` and
/// `HK_AWS` point at files that do not exist.
extension Reliability {
  @Suite(.serialized) struct HostileInputs {
    @Test func yamlSyntaxErrorsAtRandomOffsets() throws {
      try HostileHarness.run("yaml syntax errors at random offsets", HostileCorpus.syntax())
    }

    @Test func aWrongTypeOnEveryTypedField() throws {
      try HostileHarness.run("wrong type on every typed field", HostileCorpus.wrongTypes(), exactPositions: true)
    }

    @Test func aliasBombsDeepNestingAndHugeFiles() throws {
      try HostileHarness.run("alias/anchor bombs", HostileCorpus.bombs())
      try HostileHarness.run("deeply nested documents", HostileCorpus.nesting())
      try HostileHarness.run("50 MB files", HostileCorpus.huge())
      try HostileHarness.run("wide documents (quadratic-time guard)", HostileCorpus.wide())
    }

    @Test func nulBytesInvalidUTF8AndDuplicateKeys() throws {
      try HostileHarness.run("NUL bytes and invalid UTF-8", HostileCorpus.encoding())
      try HostileHarness.run("duplicate keys", HostileCorpus.duplicates())
    }

    @Test func pathTraversalAndShellMetacharactersInNames() throws {
      try HostileHarness.run("../ and shell metacharacters in names", HostileCorpus.names())
    }

    @Test func hostileStateDatabasePaths() throws {
      try HostileHarness.run("hostile state-db paths", HostileCorpus.stateDatabases())
    }

    @Test func theCorpusHasAtLeast500Cases() {
      let count =
        HostileCorpus.syntax().count + HostileCorpus.wrongTypes().count + HostileCorpus.bombs().count
        + HostileCorpus.nesting().count + HostileCorpus.huge().count + HostileCorpus.wide().count + HostileCorpus.encoding().count
        + HostileCorpus.duplicates().count + HostileCorpus.names().count + HostileCorpus.stateDatabases().count
      #expect(count >= 500, "only \(count) generated cases")
    }
  }
}

// MARK: - Cases

/// One hostile input: files written over a copy of the sample repository (or a hostile state
/// database), the commands to run, and what a failure must look like.
struct HostileInput: Sendable {
  enum Commands: Sendable {
    /// `validate ENV`, then `apply ENV --yes` when validate refuses, else `plan ENV`.
    case content(env: String)
    /// Every command that takes an environment name, with `name`.
    case name(String)
    /// `validate` and `plan` over all environments (hostile directory names on disk).
    case allEnvironments
    /// `validate ENV` only (wide documents: loading is what they stress).
    case validateOnly(env: String)
    /// Every command that opens the state database.
    case stateDatabase
  }

  enum Expect: Sendable, Equatable {
    /// A failure must be a diagnostic with a position (in `file`, at `line` when given).
    case positioned(file: String?, line: Int?)
    /// A failure must be a positioned diagnostic or an `Error: …` message.
    case clearError
  }

  /// How the state database is made hostile.
  enum StateDB: Sendable {
    case directory, directoryWithFiles, notSQLite, truncated, corruptedPages, corruptedHeader, empty
    case fifo, devNull, parentIsAFile, symlinkLoop, danglingSymlink
    case readOnlyFile, readOnlyDirectory, unreadableFile
  }

  var category: String
  var label: String
  /// Repository-relative files to write (a closure, so 50 MB inputs exist only while they run).
  var files: [(path: String, make: @Sendable () -> [UInt8])] = []
  /// Extra environment directories to create (copies of dev), by name.
  var extraEnvironments: [String] = []
  var commands: Commands = .content(env: "dev")
  var expect: Expect = .positioned(file: nil, line: nil)
  var stateDB: StateDB? = nil
}

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
    var rng = SeededRandom(seed: 0x6b5f_0001)
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

  // MARK: Bombs, nesting, size

  static func bombs() -> [HostileInput] {
    @Sendable func laughs(_ key: String, levels: Int, width: Int) -> String {
      var s = "\(key):\n  l0: &l0 [\(Array(repeating: "lol", count: width).joined(separator: ", "))]\n"
      for i in 1...levels {
        s += "  l\(i): &l\(i) [" + Array(repeating: "*l\(i - 1)", count: width).joined(separator: ", ") + "]\n"
      }
      return s
    }
    let cluster = String(decoding: original(clusterFile), as: UTF8.self)
    let settings = String(decoding: original(settingsFile), as: UTF8.self)
    @Sendable func inSpec(_ extra: String) -> [UInt8] { bytes(cluster.replacingOccurrences(of: "\nspec:\n", with: "\nspec:\n" + extra)) }
    return [
      input("bombs", "billion laughs in spec") {
        inSpec(laughs("  lols", levels: 9, width: 10).replacingOccurrences(of: "\n  l", with: "\n    l"))
      },
      input("bombs", "billion laughs at the top of cluster.yaml") { bytes(laughs("lols", levels: 9, width: 10)) + bytes(cluster) },
      input("bombs", "billion laughs in environment.yaml", file: settingsFile) { bytes(settings + laughs("lols", levels: 9, width: 10)) },
      input("bombs", "wide and deep (30 × 6)") { bytes(laughs("lols", levels: 6, width: 30)) + bytes(cluster) },
      input("bombs", "mapping bomb with merge keys") {
        var s = "m0: &m0 {a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8}\n"
        for i in 1...9 { s += "m\(i): &m\(i) {" + (0..<8).map { "k\($0): *m\(i - 1)" }.joined(separator: ", ") + "}\n" }
        return bytes(s) + bytes(cluster)
      },
      input("bombs", "merge key chain") {
        var s = "b0: &b0 {x: 1}\n"
        for i in 1...2000 { s += "b\(i): &b\(i)\n  <<: *b\(i - 1)\n  y\(i): \(i)\n" }
        return bytes(s) + bytes(cluster)
      },
      input("bombs", "an alias to an undefined anchor") { inSpec("  channel: *undefined\n") },
      input("bombs", "an alias used before its anchor") { inSpec("  a: *later\n  b: &later x\n") },
      input("bombs", "3000 anchors") { inSpec((0..<3000).map { "  k\($0): &a\($0) v\n" }.joined()) },
      input("bombs", "alias as a mapping key") { inSpec("  x: &k name\n  *k : y\n") },
    ]
  }

  static func nesting() -> [HostileInput] {
    let cluster = String(decoding: original(clusterFile), as: UTF8.self)
    return [
      input("nesting", "100000 nested flow sequences") {
        bytes("spec: " + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "\n")
      },
      input("nesting", "50000 nested flow mappings") {
        bytes("spec: " + String(repeating: "{a: ", count: 50_000) + "1" + String(repeating: "}", count: 50_000) + "\n")
      },
      input("nesting", "unterminated 200000 [") { bytes("spec: " + String(repeating: "[", count: 200_000)) },
      input("nesting", "block mappings 3000 deep") {
        bytes(
          cluster + "\n---\n" + (0..<3000).map { String(repeating: " ", count: $0) + "k\($0):\n" }.joined()
            + String(repeating: " ", count: 3000) + "v: 1\n")
      },
      input("nesting", "block sequences 5000 deep") { bytes(String(repeating: "- ", count: 5000) + "x\n") },
      input("nesting", "nested in environment.yaml", file: settingsFile) {
        bytes("cluster: " + String(repeating: "[", count: 60_000) + String(repeating: "]", count: 60_000) + "\n")
      },
      input("nesting", "deep spec.subnets") {
        bytes(
          cluster.replacingOccurrences(
            of: "\n  subnets:\n",
            with: "\n  subnets: " + String(repeating: "[", count: 20_000) + String(repeating: "]", count: 20_000) + "\n  x:\n"))
      },
    ]
  }

  /// Documents wide enough that a quadratic step would run for minutes (the base overlay
  /// merge did: 40000 keys took 3.6 s in a release build, an 8 MB file about 25 minutes).
  static func wide() -> [HostileInput] {
    let cluster = String(decoding: original(clusterFile), as: UTF8.self)
    let inputs = [
      input("wide", "60000 keys in spec") {
        bytes(cluster.replacingOccurrences(of: "\nspec:\n", with: "\nspec:\n" + (0..<60000).map { "  k\($0): v\n" }.joined()))
      },
      input("wide", "20000 named subnets") {
        bytes(
          cluster.replacingOccurrences(
            of: "\n  subnets:\n",
            with: "\n  subnets:\n" + (0..<20000).map { "  - {name: s\($0), zone: ap-northeast-1a, type: Private}\n" }.joined()))
      },
      input("wide", "100000 list items") {
        bytes(cluster.replacingOccurrences(of: "\nspec:\n", with: "\nspec:\n  items:\n" + String(repeating: "  - x\n", count: 100_000)))
      },
    ]
    return inputs.map { i in
      var i = i
      i.commands = .validateOnly(env: "dev")
      return i
    }
  }

  static func huge() -> [HostileInput] {
    let fifty = 50 * 1024 * 1024
    let cluster = original(clusterFile)
    return [
      input("huge", "50 MB cluster.yaml (valid YAML, a long comment)") {
        var b = cluster
        b.reserveCapacity(fifty + 10)
        b += bytes("\n#")
        b += [UInt8](repeating: UInt8(ascii: "x"), count: fifty - b.count)
        return b
      },
      input("huge", "50 MB of list items") {
        let unit = bytes("- item\n")
        var b: [UInt8] = bytes("items:\n")
        b.reserveCapacity(fifty + unit.count)
        while b.count < fifty { b += unit }
        return b
      },
      input("huge", "50 MB environment.yaml", file: settingsFile) {
        [UInt8](repeating: UInt8(ascii: "a"), count: fifty)
      },
      input("huge", "50 MB manifest", file: "environments/dev/manifests/huge.yaml", expect: .clearError) {
        bytes("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n  x: \"") + [UInt8](repeating: UInt8(ascii: "z"), count: fifty)
          + bytes("\"\n")
      },
    ]
  }

  // MARK: Encoding, duplicates

  static func encoding() -> [HostileInput] {
    var rng = SeededRandom(seed: 0x6b5f_0002)
    var out: [HostileInput] = []
    let invalid: [[UInt8]] = [
      [0xFF], [0xC3, 0x28], [0xE2, 0x82], [0xF0, 0x28, 0x8C, 0x28], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xFE, 0xFF], [0x80],
    ]
    for file in [clusterFile, settingsFile] {
      let text = original(file)
      let short = file.hasSuffix("environment.yaml") ? "environment.yaml" : "cluster.yaml"
      for _ in 0..<(file == clusterFile ? 25 : 10) {
        let offset = Int(rng.next() % UInt64(text.count))
        out.append(
          input("encoding", "\(short): NUL at +\(offset)", file: file) {
            var b = text
            b.insert(0, at: offset)
            return b
          })
      }
      for _ in 0..<(file == clusterFile ? 25 : 10) {
        let offset = Int(rng.next() % UInt64(text.count))
        let seq = invalid[Int(rng.next() % UInt64(invalid.count))]
        out.append(
          input("encoding", "\(short): bytes \(seq.map { String($0, radix: 16) }.joined(separator: " ")) at +\(offset)", file: file) {
            var b = text
            b.insert(contentsOf: seq, at: offset)
            return b
          })
      }
    }
    let cluster = String(decoding: original(clusterFile), as: UTF8.self)
    @Sendable func utf16(_ bigEndian: Bool) -> [UInt8] {
      var b: [UInt8] = bigEndian ? [0xFE, 0xFF] : [0xFF, 0xFE]
      for unit in cluster.utf16 { b += bigEndian ? [UInt8(unit >> 8), UInt8(unit & 0xFF)] : [UInt8(unit & 0xFF), UInt8(unit >> 8)] }
      return b
    }
    out.append(input("encoding", "UTF-16 LE with BOM") { utf16(false) })
    out.append(input("encoding", "UTF-16 BE with BOM") { utf16(true) })
    out.append(input("encoding", "UTF-32 LE BOM prefix") { [0xFF, 0xFE, 0, 0] + bytes(cluster) })
    out.append(input("encoding", "a NUL-only file") { [UInt8](repeating: 0, count: 4096) })
    out.append(
      input("encoding", "random binary") {
        var r = SeededRandom(seed: 0x6b5f_0003)
        return (0..<8192).map { _ in UInt8(truncatingIfNeeded: r.next()) }
      })
    out.append(input("encoding", "CR-only line ends") { bytes(cluster.replacingOccurrences(of: "\n", with: "\r")) })
    out.append(
      input("encoding", "NUL in a quoted scalar") {
        bytes(cluster.replacingOccurrences(of: "name: dev.k8s.corp.local", with: "name: \"dev\\0.k8s.corp.local\""))
      })
    return out
  }

  static func duplicates() -> [HostileInput] {
    let cluster = String(decoding: original(clusterFile), as: UTF8.self)
    let settings = String(decoding: original(settingsFile), as: UTF8.self)
    func c(_ label: String, _ a: String, _ b: String) -> HostileInput {
      input("duplicates", label) { bytes(cluster.replacingOccurrences(of: a, with: b)) }
    }
    func s(_ label: String, _ a: String, _ b: String) -> HostileInput {
      input("duplicates", label, file: settingsFile) { bytes(settings.replacingOccurrences(of: a, with: b)) }
    }
    return [
      c("kind twice", "kind: Cluster\n", "kind: Cluster\nkind: Cluster\n"),
      c("spec twice", "\nspec:\n  configBase", "\nspec: {}\nspec:\n  configBase"),
      c("metadata.name twice", "  name: dev.k8s.corp.local\n", "  name: dev.k8s.corp.local\n  name: prod.k8s.corp.local\n"),
      c("spec.networkID twice", "  networkID:", "  networkID: vpc-1\n  networkID:"),
      c("egressProxy.excludes twice", "    excludes:", "    excludes: a\n    excludes:"),
      c("subnet name twice", "  - name: private-ap-northeast-1a\n", "  - name: private-ap-northeast-1a\n    name: x\n"),
      c("instance group minSize twice", "  minSize: 2\n", "  minSize: 2\n  minSize: 3\n"),
      c("instance group labels twice", "  labels:\n", "  labels: {}\n  labels:\n"),
      c("flow mapping duplicate", "  topology:\n", "  x: {a: 1, a: 2}\n  topology:\n"),
      c("quoted and plain duplicate", "  dnsZone:", "  \"dnsZone\": x\n  dnsZone:"),
      s("cluster twice", "cluster: dev", "cluster: prod.k8s.corp.local\ncluster: dev"),
      s("aws.region twice", "aws: {region: ap-northeast-1,", "aws: {region: us-east-1, region: ap-northeast-1,"),
      s("internetGateway.strategy twice", "  strategy: temporary\n", "  strategy: temporary\n  strategy: none\n"),
      s("rollingUpdate twice", "rollingUpdate: auto", "rollingUpdate: manual\nrollingUpdate: auto"),
    ]
  }

  // MARK: Names

  /// Hostile names: path traversal and shell metacharacters.
  static let hostileNames = [
    "../dev", "../../etc/passwd", "dev/../staging", "./dev", "/etc", "dev;touch canary", "$(touch canary)", "`touch canary`",
    "dev|cat", "dev&&touch canary", "dev>canary", "dev canary", "*", "dev\ntouch canary", "DEV", "dev.", "dév", "", "-dev",
    String(repeating: "a", count: 300), "dev'\"", "..", "~",
  ]

  static func names() -> [HostileInput] {
    var out: [HostileInput] = []
    for n in hostileNames {
      out.append(
        HostileInput(category: "names", label: "environment argument \(n.debugDescription)", commands: .name(n), expect: .clearError))
    }
    // Directories with hostile names next to the samples.
    for d in ["$(touch canary)", "a b", "-x", "UPPER", ".hidden", "dev;id", "x`id`"] {
      out.append(
        HostileInput(
          category: "names", label: "environment directory \(d.debugDescription)", extraEnvironments: [d], commands: .allEnvironments,
          expect: .clearError))
    }
    // Cluster and instance group names, and file names, in the YAML.
    let cluster = String(decoding: original(clusterFile), as: UTF8.self)
    let settings = String(decoding: original(settingsFile), as: UTF8.self)
    for n in ["../../etc", "dev;touch canary", "$(touch canary).k8s", "`touch canary`", "a|b&c>d", "dev\\ntouch", "../x/../y"] {
      let renamed = n.replacingOccurrences(of: "\"", with: "")
      out.append(
        HostileInput(
          category: "names", label: "cluster name \(n.debugDescription)",
          files: [
            (clusterFile, { @Sendable in bytes(cluster.replacingOccurrences(of: "dev.k8s.corp.local", with: "'\(renamed)'")) }),
            (
              settingsFile,
              { @Sendable in bytes(settings.replacingOccurrences(of: "cluster: dev.k8s.corp.local", with: "cluster: '\(renamed)'")) }
            ),
          ], expect: .clearError))
      out.append(
        input("names", "instance group name \(n.debugDescription)", expect: .clearError) {
          bytes(cluster.replacingOccurrences(of: "name: nodes-ap-northeast-1c", with: "name: '\(renamed)'"))
        })
    }
    for b in [
      "../../../../etc/passwd", "../dev/environment.yaml", "/dev/zero", "$(touch canary)", "../_base", "../../../../proc/self/environ",
    ] {
      out.append(
        input("names", "base \(b.debugDescription)", file: settingsFile, expect: .clearError) {
          bytes(settings.replacingOccurrences(of: "base: ../_base/cluster.yaml", with: "base: '\(b)'"))
        })
    }
    return out
  }

  // MARK: State databases

  static func stateDatabases() -> [HostileInput] {
    let kinds: [HostileInput.StateDB] = [
      .directory, .directoryWithFiles, .notSQLite, .truncated, .corruptedPages, .corruptedHeader, .empty, .fifo, .devNull,
      .parentIsAFile, .symlinkLoop, .danglingSymlink, .readOnlyFile, .readOnlyDirectory, .unreadableFile,
    ]
    return kinds.map {
      HostileInput(category: "state-db", label: "state-db \($0)", commands: .stateDatabase, expect: .clearError, stateDB: $0)
    }
  }
}

/// SplitMix64: a small deterministic generator for the corpus.
struct SeededRandom {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

// MARK: - Running the cases

/// What one invocation of hk did with a hostile input.
struct HostileInvocation {
  var args: [String]
  var result: ProcessResult
  var crashed: Bool
  var positioned: [(file: String, line: Int)]
  var clear: Bool
}

/// What one hostile input did across its invocations.
struct HostileOutcome {
  var input: HostileInput
  var invocations: [HostileInvocation] = []
  var databaseWritten = false
  var canary = false
  var skipped: String? = nil

  var crashed: Bool { invocations.contains(where: \.crashed) }
  var refused: Bool { invocations.contains { $0.result.exitCode != 0 } }
  /// Failing invocations that lack the message form the input requires.
  var unclear: [HostileInvocation] {
    invocations.filter { inv in
      guard inv.result.exitCode != 0, !inv.crashed else { return false }
      switch input.expect {
      case .positioned: return inv.positioned.isEmpty
      case .clearError: return inv.positioned.isEmpty && !inv.clear
      }
    }
  }
  /// A diagnostic names the expected file and line (types only).
  var exactHit: Bool? {
    guard case .positioned(let file?, let line?) = input.expect else { return nil }
    return invocations.contains { $0.positioned.contains { $0.file.hasSuffix(file) && $0.line == line } }
  }
  /// A diagnostic names the expected file (types only).
  var fileHit: Bool? {
    guard case .positioned(let file?, _?) = input.expect else { return nil }
    return invocations.contains { $0.positioned.contains { $0.file.hasSuffix(file) } }
  }
}

/// Runs hostile inputs through hk, two at a time, each worker in its own copy of the sample
/// repository with its own copy of a real state database.
enum HostileHarness {
  static let crashMarkers = [
    "Fatal error", "fatal error:", "Illegal instruction", "Segmentation fault", "Current stack trace", "Program crashed",
    "Trace/breakpoint", "Aborted", "Stack dump",
  ]

  /// Positions of `file:line:col: error:` diagnostics in `text`.
  static func positions(_ text: String) -> [(file: String, line: Int)] {
    var out: [(String, Int)] = []
    for line in text.split(separator: "\n") {
      guard let r = line.range(of: ": error: ") else { continue }
      let parts = line[..<r.lowerBound].split(separator: ":", omittingEmptySubsequences: false)
      guard parts.count >= 3, let l = Int(parts[parts.count - 2]), Int(parts[parts.count - 1]) != nil, l >= 1 else { continue }
      out.append((parts.dropLast(2).joined(separator: ":"), l))
    }
    return out
  }

  static func classify(_ args: [String], _ r: ProcessResult) -> HostileInvocation {
    let all = r.stdout + "\n" + r.stderr
    let crashed = r.timedOut || r.exitCode >= 128 || ![0, 1, 2, 64].contains(r.exitCode) || crashMarkers.contains { r.stderr.contains($0) }
    // `Error: …` (argument-parser) or `error: …` (a diagnostic without a position), on either
    // stream, saying more than a word.
    let clear = [r.stderr, r.stdout].contains { text in
      guard let start = text.range(of: "Error: ") ?? text.range(of: "error: ") else { return false }
      let rest = text[start.upperBound...]
      return rest.count >= 20 && (start.lowerBound == text.startIndex || text[text.index(before: start.lowerBound)] == "\n")
    }
    return HostileInvocation(args: args, result: r, crashed: crashed, positioned: positions(all), clear: clear)
  }

  /// Whether this process can run hk as `nobody` (needed for the permission cases as root).
  static var asNobody: [String]? {
    guard getuid() == 0 else { return [] }
    guard let setpriv = findExecutable("setpriv") else { return nil }
    return [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
  }

  /// A prepared scratch area: a golden state database and one repository copy per worker.
  final class Fixture: @unchecked Sendable {
    let dir: TemporaryDirectory
    let hk: String
    let workers: Int
    let golden: String

    init(workers: Int) throws {
      dir = try TemporaryDirectory(prefix: "hk-hostile")
      chmod(dir.path, 0o755)
      hk = try TestProducts.executable("hk")
      self.workers = workers
      golden = dir.file("golden.sqlite")
      // A real state database with a recorded revision of dev and a finished run.
      let store = try SQLiteStateStore(path: golden)
      let actor = StoreActor(user: "ci", host: "runner", pid: 1, command: "hk apply dev")
      let text = String(decoding: HostileCorpus.original(HostileCorpus.clusterFile), as: UTF8.self)
      try store.record(
        RecordedStateDraft(
          environment: "dev", clusterYAML: text, instanceGroupsYAML: [], cloudUpdated: true, pendingRolls: [], igwAttached: false),
        expectedPrior: nil, actor: actor, note: "fixture", planID: nil, newLineage: true)
      let run = try store.beginRun(environment: "dev", command: "hk apply dev", planID: nil, actor: actor)
      try store.finishRun(runID: run, result: .succeeded, message: "")
      try store.close()
      let fm = FileManager.default
      for i in 0..<workers {
        try fm.createDirectory(atPath: dir.file("w\(i)/repo"), withIntermediateDirectories: true)
        try fm.copyItem(atPath: packageRoot + "/environments", toPath: dir.file("w\(i)/repo/environments"))
        try fm.createDirectory(atPath: dir.file("w\(i)/repo/state"), withIntermediateDirectories: true)
        try fm.copyItem(atPath: golden, toPath: dir.file("w\(i)/repo/state/hk.sqlite"))
        try fm.createDirectory(atPath: dir.file("w\(i)/home"), withIntermediateDirectories: true)
        try fm.createDirectory(atPath: dir.file("w\(i)/hostile"), withIntermediateDirectories: true)
        for d in ["w\(i)", "w\(i)/repo", "w\(i)/repo/state", "w\(i)/home", "w\(i)/hostile"] { chmod(dir.file(d), 0o777) }
        chmod(dir.file("w\(i)/repo/state/hk.sqlite"), 0o666)
      }
    }
  }

  static let shared = Locked<Fixture?>(nil)

  static func fixture() throws -> Fixture {
    try shared.withLock { f in
      if let f { return f }
      let made = try Fixture(workers: 2)
      ReliabilityCleanup.add(path: made.dir.path)
      f = made
      return made
    }
  }

  /// Runs the inputs; records the figures; fails the test on a crash, a hang, a write to the
  /// state database, a canary file or a failure without a clear message.
  static func run(_ category: String, _ inputs: [HostileInput], exactPositions: Bool = false) throws {
    let fixture = try fixture()
    let results = Locked<[HostileOutcome]>([])
    let next = Locked(0)
    DispatchQueue.concurrentPerform(iterations: fixture.workers) { worker in
      while true {
        let i = next.withLock { n -> Int in
          defer { n += 1 }
          return n
        }
        guard i < inputs.count else { return }
        let outcome = runOne(inputs[i], worker: worker, fixture: fixture)
        results.withLock { $0.append(outcome) }
      }
    }
    let outcomes = results.withLock { $0 }
    let ran = outcomes.filter { $0.skipped == nil }
    let crashed = ran.filter(\.crashed)
    let written = ran.filter(\.databaseWritten)
    let canaries = ran.filter(\.canary)
    let unclear = ran.filter { !$0.unclear.isEmpty }
    let refused = ran.filter(\.refused)
    let exact = ran.compactMap(\.exactHit)
    let hangs = ran.filter { $0.invocations.contains { $0.result.timedOut } }
    func sample(_ list: [HostileOutcome], _ detail: (HostileOutcome) -> String) -> JSONValue {
      .array(list.prefix(5).map { .string($0.input.label + ": " + String(detail($0).prefix(400))) })
    }
    ReliabilityReport.append(
      "hostile",
      [
        ("category", .string(category)), ("cases", .int(Int64(ran.count))),
        ("invocations", .int(Int64(ran.reduce(0) { $0 + $1.invocations.count }))),
        ("crashes", .int(Int64(crashed.count))), ("hangs", .int(Int64(hangs.count))), ("refused", .int(Int64(refused.count))),
        ("accepted", .int(Int64(ran.count - refused.count))),
        ("positioned", .int(Int64(refused.filter { $0.invocations.contains { !$0.positioned.isEmpty } }.count))),
        ("unclear", .int(Int64(unclear.count))), ("dbWrites", .int(Int64(written.count))), ("canaries", .int(Int64(canaries.count))),
        ("exactPosition", exact.isEmpty ? .null : .string("\(exact.filter { $0 }.count)/\(exact.count)")),
        ("notExact", .array(ran.filter { $0.exactHit == false }.map { .string($0.input.label) })),
        ("skipped", .array(outcomes.compactMap { o in o.skipped.map { .string(o.input.label + ": " + $0) } })),
        ("crashSamples", sample(crashed) { o in o.invocations.first(where: \.crashed).map { "\($0.args) \($0.result)" } ?? "" }),
        ("unclearSamples", sample(unclear) { o in o.unclear.first.map { "\($0.args) \($0.result)" } ?? "" }),
      ])
    #expect(
      crashed.count == 0,
      "\(category): \(crashed.count) crashed: \(crashed.prefix(3).map { o in "\(o.input.label): \(o.invocations.first(where: \.crashed).map { "\($0.args) \($0.result)" } ?? "")" })"
    )
    #expect(written.count == 0, "\(category): the state database was written by \(written.prefix(5).map(\.input.label))")
    #expect(canaries.count == 0, "\(category): a canary file appeared: \(canaries.prefix(5).map(\.input.label))")
    #expect(
      unclear.count == 0,
      "\(category): \(unclear.count) failed without a positioned diagnostic or clear error: \(unclear.prefix(3).map { o in "\(o.input.label): \(o.unclear.first.map { "\($0.args) \($0.result)" } ?? "")" })"
    )
    if exactPositions {
      // Every refusal points into the file that holds the wrong value (most at its very line;
      // the rest at the offending child or the enclosing document: see the figures).
      let misses = ran.filter { $0.fileHit == false && $0.refused }
      #expect(
        misses.count == 0,
        "\(category): \(misses.count) diagnostics do not point into the changed file: \(misses.prefix(5).map { o in "\(o.input.label) (expected \(o.input.expect)): \(o.invocations.first.map { ($0.result.stdout + $0.result.stderr).prefix(400) } ?? "")" })"
      )
      let accepted = ran.filter { !$0.refused }
      #expect(accepted.count == 0, "\(category): wrong types accepted: \(accepted.map(\.input.label))")
    }
  }

  static func runOne(_ input: HostileInput, worker: Int, fixture: Fixture) -> HostileOutcome {
    var outcome = HostileOutcome(input: input)
    let fm = FileManager.default
    let base = fixture.dir.file("w\(worker)")
    let repo = base + "/repo"
    let db = repo + "/state/hk.sqlite"
    // Write the input.
    var restore: [(String, Data?)] = []
    for (path, make) in input.files {
      let full = repo + "/" + path
      restore.append((full, fm.contents(atPath: full)))
      _ = fm.createFile(atPath: full, contents: Data(make()))
    }
    var extraDirs: [String] = []
    for name in input.extraEnvironments {
      let d = repo + "/environments/" + name
      if (try? fm.copyItem(atPath: repo + "/environments/dev", toPath: d)) != nil { extraDirs.append(d) }
    }
    defer {
      for (path, data) in restore {
        if let data { _ = fm.createFile(atPath: path, contents: data) } else { try? fm.removeItem(atPath: path) }
      }
      for d in extraDirs { try? fm.removeItem(atPath: d) }
      let hostile = base + "/hostile"
      for item in (try? fm.contentsOfDirectory(atPath: hostile)) ?? [] {
        chmod(hostile + "/" + item, 0o777)
        try? fm.removeItem(atPath: hostile + "/" + item)
      }
    }

    // The state database the commands use.
    var statePath = db
    var prefix: [String] = []
    var writers = true
    if let kind = input.stateDB {
      guard let p = makeHostileDatabase(kind, in: base + "/hostile", golden: fixture.golden) else {
        outcome.skipped = "cannot build this state database here"
        return outcome
      }
      statePath = p
      if [.readOnlyFile, .readOnlyDirectory, .unreadableFile].contains(kind) {
        guard let nobody = asNobody else {
          outcome.skipped = "running as root without setpriv: permissions cannot be tested"
          return outcome
        }
        prefix = nobody
      }
      if kind == .empty || kind == .danglingSymlink { writers = false }  // a usable (new) database: apply would create it
    }
    let before = snapshot(statePath)
    let dbBefore = snapshot(db)

    var env: [String: String] = [
      "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": base + "/home", "NO_COLOR": "1",
      "HK_KOPS": "/nonexistent/kops", "HK_AWS": "/nonexistent/aws", "LANG": "C.UTF-8",
    ]
    env["HK_STATE_DB"] = nil
    func hk(_ args: [String]) {
      let full = args + ["--root", repo, "--state-db", statePath]
      let result: ProcessResult
      do {
        if prefix.isEmpty {
          result = try runProcess(fixture.hk, full, env: env, cwd: repo, timeout: 60)
        } else {
          result = try runProcess(prefix[0], Array(prefix.dropFirst()) + [fixture.hk] + full, env: env, cwd: repo, timeout: 60)
        }
      } catch {
        result = ProcessResult(exitCode: -1, stdout: "", stderr: "could not start hk: \(error)", timedOut: false)
      }
      outcome.invocations.append(classify(args, result))
    }
    switch input.commands {
    case .content(let name):
      // validate, then the writer (apply, which plans first) when validate refuses, else plan.
      hk(["validate", name])
      if outcome.invocations.first?.result.exitCode != 0 { hk(["apply", name, "--yes"]) } else { hk(["plan", name]) }
    case .name(let n):
      for args in [
        ["validate", n], ["plan", n], ["apply", n, "--yes"], ["drift", n], ["import", n], ["state", "show", n],
        ["state", "history", n], ["lock", "unlock", n, "--force", "x"],
      ] {
        hk(args)
      }
    case .allEnvironments:
      hk(["validate"])
      hk(["plan"])
    case .validateOnly(let name):
      hk(["validate", name])
    case .stateDatabase:
      hk(["plan", "dev"])
      hk(["state", "list"])
      hk(["state", "history", "dev"])
      hk(["state", "show", "dev"])
      hk(["lock", "list"])
      if writers {
        hk(["apply", "dev", "--yes"])
        hk(["lock", "unlock", "dev", "--force", "x"])
        hk(["drift", "dev"])
      }
    }
    outcome.databaseWritten = snapshot(statePath) != before || snapshot(db) != dbBefore
    outcome.canary = containsCanary(base)
    return outcome
  }

  /// Bytes (regular files), entries (directories) or link target: what "unchanged" means.
  static func snapshot(_ path: String) -> String {
    var info = stat()
    guard lstat(path, &info) == 0 else { return "absent" }
    switch info.st_mode & S_IFMT {
    case S_IFREG:
      let data = FileManager.default.contents(atPath: path) ?? Data()
      let wal = FileManager.default.contents(atPath: path + "-wal") ?? Data()
      var h = SHA256()
      h.update(data)
      return "file " + SHA256.hex(h.finalize()) + " wal \(wal.count)"
    case S_IFDIR:
      return "dir " + ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted().joined(separator: ",")
    case S_IFLNK:
      return "link " + ((try? FileManager.default.destinationOfSymbolicLink(atPath: path)) ?? "")
    default:
      return "special \(info.st_mode & S_IFMT)"
    }
  }

  static func containsCanary(_ dir: String) -> Bool {
    guard let e = FileManager.default.enumerator(atPath: dir) else { return false }
    while let item = e.nextObject() as? String {
      if (item as NSString).lastPathComponent.hasPrefix("canary") { return true }
    }
    return FileManager.default.fileExists(atPath: FileManager.default.currentDirectoryPath + "/canary")
  }

  /// Builds a hostile state database under `dir`; returns the path to pass as `--state-db`.
  static func makeHostileDatabase(_ kind: HostileInput.StateDB, in dir: String, golden: String) -> String? {
    let fm = FileManager.default
    let path = dir + "/hk.sqlite"
    let good = fm.contents(atPath: golden) ?? Data()
    func write(_ data: Data, mode: mode_t = 0o666) -> String? {
      guard fm.createFile(atPath: path, contents: data) else { return nil }
      chmod(path, mode)
      return path
    }
    switch kind {
    case .directory:
      return (try? fm.createDirectory(atPath: path, withIntermediateDirectories: true)) != nil ? path : nil
    case .directoryWithFiles:
      guard (try? fm.createDirectory(atPath: path + "/state", withIntermediateDirectories: true)) != nil else { return nil }
      _ = fm.createFile(atPath: path + "/readme.txt", contents: Data("not a database".utf8))
      return path
    case .notSQLite: return write(Data("apiVersion: v1\nkind: Config\n".utf8))
    case .truncated: return write(good.prefix(1000))
    case .corruptedPages:
      var d = good
      var r = SeededRandom(seed: 0x6b5f_0004)
      for i in 4096..<min(d.count, 4096 * 6) { d[i] = UInt8(truncatingIfNeeded: r.next()) }
      return write(d)
    case .corruptedHeader:
      var d = good
      for i in 16..<min(d.count, 100) { d[i] = 0xFF }
      return write(d)
    case .empty: return write(Data())
    case .fifo: return mkfifo(path, 0o666) == 0 ? path : nil
    case .devNull: return "/dev/null"
    case .parentIsAFile:
      _ = fm.createFile(atPath: dir + "/file", contents: Data("x".utf8))
      return dir + "/file/hk.sqlite"
    case .symlinkLoop:
      guard symlink(dir + "/b", dir + "/a") == 0, symlink(dir + "/a", dir + "/b") == 0 else { return nil }
      return dir + "/a"
    case .danglingSymlink:
      return symlink(dir + "/missing/target.sqlite", path) == 0 ? path : nil
    case .readOnlyFile: return write(good, mode: 0o444)
    case .readOnlyDirectory:
      let sub = dir + "/ro"
      guard (try? fm.createDirectory(atPath: sub, withIntermediateDirectories: true)) != nil,
        fm.createFile(atPath: sub + "/hk.sqlite", contents: good)
      else { return nil }
      chmod(sub + "/hk.sqlite", 0o666)
      chmod(sub, 0o555)
      return sub + "/hk.sqlite"
    case .unreadableFile: return write(good, mode: 0o000)
    }
  }
}

/// A value behind a lock, for the workers.
final class Locked<Value>: @unchecked Sendable {
  private let lock = NSLock()
  private var value: Value
  init(_ value: Value) { self.value = value }
  func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
    lock.lock()
    defer { lock.unlock() }
    return try body(&value)
  }
}
