import Config
import Model
import Testing

/// One hostile input: files written over the valid sample environment `t`, and the file the
/// error must name.
struct HostileCase: Sendable, CustomTestStringConvertible {
  var name: String
  var file: String
  var make: @Sendable () -> [UInt8]

  var testDescription: String { name }

  init(_ name: String, file: String = Sample.clusterFile, _ make: @escaping @Sendable () -> [UInt8]) {
    self.name = name
    self.file = file
    self.make = make
  }

  init(_ name: String, file: String = Sample.clusterFile, text: String) {
    self.init(name, file: file) { Array(text.utf8) }
  }
}

/// The generated corpus: each case must give a positioned error diagnostic, never a crash.
enum HostileCorpus {
  static let valid = Sample.cluster()
  static let settings = Sample.settings(strategy: "lifecycle-ignore")
  static let manifest = "environments/t/manifests/app.yaml"

  static func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

  /// The valid cluster text with `bytes` spliced in place of the first `marker`.
  static func splice(_ marker: String, _ replacement: [UInt8]) -> [UInt8] {
    let text = valid
    guard let r = text.range(of: marker) else { return bytes(text) }
    return bytes(String(text[..<r.lowerBound])) + replacement + bytes(String(text[r.upperBound...]))
  }

  static func replacing(_ a: String, _ b: String) -> String { valid.replacing(a, with: b) }

  static func cluster(_ overrides: [String: String], igs: [String]? = nil) -> String {
    Sample.cluster(overrides, instanceGroups: igs)
  }

  static let cases: [HostileCase] = {
    var c: [HostileCase] = []
    // Alias and anchor bombs.
    c.append(
      HostileCase("billion-laughs") {
        var s = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for i in 1...9 { s += "a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ") + "]\n" }
        return bytes(s)
      })
    c.append(
      HostileCase("mapping-bomb") {
        var s = "m0: &m0 {a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8}\n"
        for i in 1...9 {
          s += "m\(i): &m\(i) {" + (0..<8).map { "k\($0): *m\(i - 1)" }.joined(separator: ", ") + "}\n"
        }
        return bytes(s)
      })
    // Deep nesting.
    c.append(HostileCase("deep-flow-sequences") { bytes(String(repeating: "[", count: 10_000)) })
    c.append(HostileCase("deep-flow-mappings") { bytes(String(repeating: "{a: ", count: 5_000)) })
    c.append(
      HostileCase("deep-block-mappings") {
        bytes((0..<200).map { String(repeating: "  ", count: $0) + "k\($0):" }.joined(separator: "\n") + " x\n")
      })
    c.append(HostileCase("deep-block-sequences") { bytes(String(repeating: "- ", count: 300) + "x\n") })
    // Size.
    c.append(
      HostileCase("over-size-limit") {
        bytes(valid) + [UInt8](repeating: UInt8(ascii: "#"), count: YAMLLimits.default.maxBytes)
      })
    // Encoding.
    c.append(HostileCase("invalid-utf8-ff") { splice("t.k8s.local", [0x74, 0xFF, 0x6B]) })
    c.append(HostileCase("invalid-utf8-truncated-at-end") { bytes(valid) + [0xE3, 0x81] })
    c.append(HostileCase("invalid-utf8-overlong") { splice("eu-west-1a", [0xC0, 0xAF]) })
    c.append(HostileCase("invalid-utf8-surrogate") { splice("m5.large", [0xED, 0xA0, 0x80]) })
    c.append(HostileCase("invalid-utf8-lone-continuation") { splice("cilium", [0x80, 0x80]) })
    c.append(HostileCase("nul-in-value") { splice("t.k8s.local", [0x74, 0x00, 0x6B]) })
    c.append(HostileCase("nul-at-start") { [0x00] + bytes(valid) })
    c.append(HostileCase("bell-control-character") { splice("aws", [0x61, 0x07, 0x73]) })
    c.append(HostileCase("utf16-bom") { [0xFF, 0xFE] + bytes(valid) })
    // Duplicate keys.
    c.append(HostileCase("duplicate-top-level-key", text: replacing("kind: Cluster\n", "kind: Cluster\nkind: Cluster\n")))
    c.append(
      HostileCase(
        "duplicate-spec-key", text: replacing("  networkCIDR: 10.0.0.0/16\n", "  networkCIDR: 10.0.0.0/16\n  networkCIDR: 10.1.0.0/16\n")))
    c.append(HostileCase("duplicate-instancegroup-key", text: replacing("  minSize: 1\n", "  minSize: 1\n  minSize: 2\n")))
    c.append(HostileCase("duplicate-key-in-flow", text: replacing("cilium: {}", "{cilium: {}, cilium: {}}")))
    // Syntax errors at various offsets.
    c.append(HostileCase("unclosed-flow-mapping-line-1", text: "{apiVersion: kops.k8s.io/v1alpha2\n" + valid))
    c.append(HostileCase("unclosed-flow-sequence-middle", text: replacing("  networking:\n", "  zones: [a, b\n  networking:\n")))
    c.append(
      HostileCase("bad-indentation", text: replacing("  cloudProvider: aws\n", "  cloudProvider: aws\n kubernetesVersion: 1.28.9\n")))
    c.append(HostileCase("value-after-value", text: replacing("kind: Cluster\n", "kind: Cluster: Other\n")))
    c.append(HostileCase("stray-closing-bracket", text: "]\n" + valid))
    c.append(HostileCase("syntax-error-at-end", text: valid + "  broken: [\n"))
    c.append(HostileCase("sequence-then-mapping", text: "- a\nb: c\n"))
    c.append(HostileCase("mapping-in-plain-scalar", text: replacing("type: Private", "type: Private: yes: no")))
    c.append(HostileCase("anchor-without-node", text: "kind: &\n"))
    c.append(HostileCase("tab-indentation", text: replacing("  cloudProvider: aws\n", "\tcloudProvider: aws\n")))
    c.append(HostileCase("bom-then-tab") { [0xEF, 0xBB, 0xBF] + bytes("\tkind: Cluster\n") })
    c.append(HostileCase("unterminated-double-quote", text: replacing("name: t.k8s.local", "name: \"t.k8s.local")))
    c.append(HostileCase("unterminated-single-quote-at-end", text: valid + "extra: 'never closed\n"))
    c.append(HostileCase("bad-escape-in-double-quote", text: replacing("cloudProvider: aws", "cloudProvider: \"a\\qws\"")))
    // Keys, aliases, tags, directives.
    c.append(HostileCase("complex-key-mapping", text: "? {a: b}\n: c\n" + valid))
    c.append(HostileCase("complex-key-flow-sequence", text: replacing("  networkCIDR: 10.0.0.0/16\n", "  [a, b]: c\n")))
    c.append(HostileCase("complex-key-through-alias", text: "x: &m {a: 1}\n*m : 2\n"))
    c.append(HostileCase("undefined-alias", text: replacing("cloudProvider: aws", "cloudProvider: *cloud")))
    c.append(HostileCase("alias-before-anchor", text: "a: *x\nb: &x 1\n"))
    c.append(HostileCase("incompatible-yaml-directive", text: "%YAML 2.0\n---\n" + valid))
    c.append(HostileCase("undefined-tag-handle", text: replacing("kind: Cluster", "kind: !e!Cluster Cluster")))
    c.append(HostileCase("over-long-plain-key", text: String(repeating: "k", count: 2_000) + ": v\n" + valid))
    // YAML 1.1 booleans and wrong types.
    c.append(HostileCase("yes-where-bool-expected", text: cluster(["iam": "  iam:\n    allowContainerRegistry: yes\n"])))
    c.append(HostileCase("off-where-bool-expected", text: cluster(["iam": "  iam:\n    legacy: Off\n"])))
    c.append(HostileCase("y-in-instancegroup", text: replacing("  role: Node\n", "  role: Node\n  associatePublicIp: y\n")))
    c.append(HostileCase("min-size-word", text: replacing("minSize: 1", "minSize: one")))
    c.append(HostileCase("max-size-mapping", text: replacing("maxSize: 2", "maxSize: {n: 2}")))
    c.append(HostileCase("subnets-not-a-list", text: cluster(["subnets": "  subnets: private-a\n"], igs: [])))
    c.append(HostileCase("subnet-item-scalar", text: cluster(["subnets": "  subnets:\n  - private-a\n"], igs: [])))
    c.append(HostileCase("instancegroup-subnets-scalar", text: replacing("  subnets:\n  - a\n", "  subnets: a\n")))
    c.append(
      HostileCase(
        "proxy-port-word",
        text: cluster(["egressProxy": "  egressProxy:\n    httpProxy:\n      host: proxy\n      port: squid\n"])))
    c.append(HostileCase("kubernetes-version-float", text: cluster(["kubernetesVersion": "  kubernetesVersion: 1.30\n"])))
    c.append(HostileCase("metadata-list", text: replacing("metadata:\n  name: t.k8s.local\n", "metadata:\n- name: t.k8s.local\n")))
    c.append(
      HostileCase("spec-scalar", text: "apiVersion: kops.k8s.io/v1alpha2\nkind: Cluster\nmetadata:\n  name: t.k8s.local\nspec: aws\n"))
    c.append(HostileCase("spec-empty", text: "apiVersion: kops.k8s.io/v1alpha2\nkind: Cluster\nmetadata:\n  name: t.k8s.local\nspec:\n"))
    c.append(HostileCase("networking-list", text: cluster(["networking": "  networking:\n  - cilium\n"])))
    c.append(HostileCase("policy-not-json", text: cluster(["additionalPolicies": "  additionalPolicies:\n    node: '[{]'\n"])))
    c.append(
      HostileCase(
        "policy-deeply-nested-json",
        text: cluster(["additionalPolicies": "  additionalPolicies:\n    node: '\(String(repeating: "[", count: 600))'\n"])))
    c.append(HostileCase("cidr-garbage", text: cluster(["networkCIDR": "  networkCIDR: 10.0.0.0/99\n"])))
    c.append(HostileCase("non-aws-cloud", text: cluster(["cloudProvider": "  cloudProvider: azure\n"])))
    // Document shapes.
    c.append(HostileCase("scalar-document", text: "hello\n"))
    c.append(HostileCase("list-document", text: "- apiVersion: kops.k8s.io/v1alpha2\n  kind: Cluster\n"))
    c.append(HostileCase("null-document", text: valid + "---\n~\n"))
    c.append(HostileCase("missing-kind", text: replacing("kind: Cluster\n", "")))
    c.append(HostileCase("kind-is-a-mapping", text: replacing("kind: Cluster\n", "kind: {name: Cluster}\n")))
    c.append(HostileCase("two-clusters", text: valid + "---\n" + valid))
    c.append(HostileCase("unknown-kind", text: valid + "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\n"))
    c.append(HostileCase("instancegroup-without-name", text: replacing("  name: nodes\n", "")))
    c.append(HostileCase("duplicate-instancegroup", text: valid + "---\n" + Sample.instanceGroup))
    c.append(HostileCase("instancegroups-only", text: Sample.instanceGroup))
    c.append(HostileCase("empty-file", text: ""))
    c.append(HostileCase("comments-only", text: "# nothing here\n# at all\n"))
    c.append(HostileCase("separators-only", text: "---\n---\n...\n"))
    // environment.yaml.
    let s = Sample.settingsFile
    c.append(HostileCase("settings-list", file: s, text: "- cluster: t.k8s.local\n"))
    c.append(HostileCase("settings-missing-cluster", file: s, text: settings.replacing("cluster: t.k8s.local\n", with: "")))
    c.append(HostileCase("settings-unknown-key", file: s, text: settings + "kopsVerison: 1.28.4\n"))
    c.append(HostileCase("settings-duplicate-key", file: s, text: settings + "cluster: u.k8s.local\n"))
    c.append(HostileCase("settings-bad-strategy", file: s, text: settings.replacing("lifecycle-ignore", with: "sometimes")))
    c.append(HostileCase("settings-bad-version", file: s, text: settings.replacing("1.28.4", with: "latest")))
    c.append(HostileCase("settings-two-documents", file: s, text: settings + "---\n" + settings))
    c.append(HostileCase("settings-syntax", file: s, text: settings + "rollingUpdate: [auto\n"))
    // (with a reason for its lack of egressProxy: only the missing id is wrong)
    c.append(
      HostileCase(
        "settings-temporary-without-id", file: s,
        text: settings.replacing("lifecycle-ignore", with: "temporary") + "egress: {withoutProxy: \"VPC endpoints\"}\n"))
    c.append(HostileCase("settings-base-outside-repo", file: s, text: settings + "base: ../../../../etc/passwd\n"))
    c.append(
      HostileCase("settings-base-missing", file: "environments/_base/missing.yaml", text: settings + "base: ../_base/missing.yaml\n"))
    // manifests/.
    c.append(HostileCase("manifest-syntax", file: manifest, text: "apiVersion: v1\nkind: Service\nmetadata: {name: x\n"))
    c.append(HostileCase("manifest-invalid-utf8", file: manifest) { bytes("kind: Service\nmetadata:\n  name: ") + [0xFE] })
    c.append(
      HostileCase(
        "manifest-public-service", file: manifest,
        text: "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  type: LoadBalancer\n"))
    return c
  }()
}

@Suite struct HostileCorpusTests {
  @Test func corpusIsLargeEnough() {
    #expect(HostileCorpus.cases.count >= 50)
    #expect(Set(HostileCorpus.cases.map(\.name)).count == HostileCorpus.cases.count)
  }

  /// Loads and validates; returns the error diagnostics, whichever stage found them.
  static func errors(for c: HostileCase) throws -> [Diagnostic] {
    let repo = try TestRepository([
      Sample.clusterFile: HostileCorpus.valid, Sample.settingsFile: HostileCorpus.settings,
    ])
    let target = c.file.hasPrefix("environments/_base/") ? Sample.settingsFile : c.file
    try repo.write(target, bytes: c.make())
    do {
      let env = try repo.load()
      return Validator.validate(env).filter { $0.severity == .error }
    } catch {
      return error.diagnostics.filter { $0.severity == .error }
    }
  }

  @Test(arguments: HostileCorpus.cases)
  func givesPositionedError(_ c: HostileCase) throws {
    let errors = try Self.errors(for: c)
    try #require(!errors.isEmpty, "no error for \(c.name)")
    for e in errors {
      let l = try #require(e.location, "\(e)")
      #expect(l.line >= 1 && l.column >= 1, "\(e)")
      #expect(e.rule != nil, "\(e)")
    }
    let first = errors[0]
    #expect(first.location?.file == c.file, "\(first)")
  }

  @Test func corpusBaseIsValid() throws {
    let repo = try TestRepository([Sample.clusterFile: HostileCorpus.valid, Sample.settingsFile: HostileCorpus.settings])
    #expect(Validator.validate(try repo.load()).isEmpty)
  }

  @Test func aliasBombIsRefusedByTheNodeLimit() throws {
    let c = try #require(HostileCorpus.cases.first { $0.name == "billion-laughs" })
    let errors = try Self.errors(for: c)
    #expect(errors.first?.rule == "yaml-alias-bomb")
  }

  @Test func deepNestingIsRefusedByTheDepthLimit() throws {
    let c = try #require(HostileCorpus.cases.first { $0.name == "deep-flow-sequences" })
    let errors = try Self.errors(for: c)
    #expect(errors.first?.rule == "yaml-depth")
    #expect(errors.first?.position == "\(Sample.clusterFile):1:129")
  }

  @Test func duplicateKeyPointsAtTheSecondKey() throws {
    let c = try #require(HostileCorpus.cases.first { $0.name == "duplicate-top-level-key" })
    let errors = try Self.errors(for: c)
    #expect(errors.first?.rule == "yaml-duplicate-key")
    #expect(errors.first?.position == "\(Sample.clusterFile):3:1")
    #expect(errors.first?.message.contains("first at line 2, column 1") == true)
  }

  @Test func nulBytePosition() throws {
    let c = try #require(HostileCorpus.cases.first { $0.name == "nul-in-value" })
    let errors = try Self.errors(for: c)
    #expect(errors.first?.rule == "yaml-encoding")
    #expect(errors.first?.position == "\(Sample.clusterFile):4:10")
  }
}
