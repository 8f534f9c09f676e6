import Foundation
import Model
import Testing

@testable import Config

/// Validation walks each document once for the kops schema and the YAML 1.1 booleans, with the
/// schema compiled per release (``CompiledSchema``) and keys looked up by their bytes
/// (``KeyTable``); `Reference/ValidationReference.swift` keeps the former rules. These tests
/// compare the two, diagnostic for diagnostic (rule, severity, position, message, order), on the
/// sample environments, kops's fixtures, the hostile corpus, the faulty shared base of
/// ``SharedSubtreeMemoTests`` and thousands of randomly mutated documents, with the memo of
/// shared subtrees cold and warm.
@Suite struct ValidationReferenceTests {
  static func text(_ d: Diagnostic) -> String { "\(d.rule ?? "-") \(d.severity) \(d.description)" }

  @discardableResult
  static func agree(_ env: Environment, _ what: String) -> [String] {
    let reference = ReferenceValidator.validate(env).map(Self.text)
    #expect(Validator.validate(env, remembersSharedSubtrees: false).map(Self.text) == reference, "\(what), no memo")
    #expect(Validator.validate(env).map(Self.text) == reference, "\(what), memo")
    #expect(Validator.validate(env).map(Self.text) == reference, "\(what), memo again")
    return reference
  }

  @Test func theSampleEnvironmentsAndTheFixtures() throws {
    let repository = Repository(root: packageRoot())
    for name in try repository.environmentNames() {
      Self.agree(try repository.load(name), name)
    }
    guard let fixtures = try KopsFixtureTests.fixtures() else { return }
    for f in fixtures {
      Self.agree(KopsFixtureTests.environment(f), f.path)
    }
  }

  @Test func theHostileCorpus() throws {
    for c in HostileCorpus.cases {
      let repo = try TestRepository([Sample.clusterFile: HostileCorpus.valid, Sample.settingsFile: HostileCorpus.settings])
      let target = c.file.hasPrefix("environments/_base/") ? Sample.settingsFile : c.file
      try repo.write(target, bytes: c.make())
      guard let env = try? repo.load() else { continue }
      Self.agree(env, c.name)
    }
  }

  @Test func theFaultySharedBase() throws {
    let (repo, names) = try SharedSubtreeMemoTests.repository()
    let repository = Repository(root: repo.root)
    for name in names { Self.agree(try repository.load(name), name) }
  }

  /// Environments over a shared base, base and overlays mutated at random (fixed seeds): known,
  /// misspelt, other releases' and odd keys (dots, quotes, spaces, empty), every kind of scalar
  /// (YAML 1.1 booleans plain, quoted and tagged, numbers, quoted numbers, nulls), lists and
  /// mappings where the schema wants something else, at several kops releases.
  @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8] as [UInt64])
  func randomlyMutatedEnvironments(seed: UInt64) throws {
    var rng = SplitMix(seed: seed)
    let root = packageRoot() + "/environments"
    func parse(_ rel: String) throws -> [YAMLNode] {
      try YAMLParser.parse(try String(contentsOfFile: root + "/" + rel, encoding: .utf8), file: rel)
    }
    let keys = Self.keyPool()
    var base = try parse("_base/cluster.yaml")
    for _ in 0..<6 { Mutator.mutateSpec(&base[0], &rng, keys: keys) }
    // The emitter quotes what YAML 1.1 would read as a boolean: such scalars are written plain.
    func text(_ docs: [YAMLNode]) -> String {
      YAMLEmitter.emit(documents: docs).replacingOccurrences(
        of: #""(y|Y|n|N|yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF)""#, with: "$1", options: .regularExpression)
    }
    var files = ["environments/_base/cluster.yaml": text(base)]
    let samples = ["dev", "staging", "prod"]
    var names: [String] = []
    for i in 0..<12 {
      let sample = samples[i % samples.count]
      var docs = try parse("\(sample)/cluster.yaml")
      let count = Int(rng.next() % 5)
      for _ in 0..<count {
        let d = Int(rng.next() % UInt64(docs.count))
        Mutator.mutateSpec(&docs[d], &rng, keys: keys)
      }
      let name = "r\(i)"
      names.append(name)
      var settings = try String(contentsOfFile: root + "/\(sample)/environment.yaml", encoding: .utf8)
      let kops = ["1.19.0", "1.23.4", "1.28.4", "1.30.0", "1.34.1", "1.37.0"][Int(rng.next() % 6)]
      settings = settings.replacingOccurrences(
        of: #"kopsVersion: [0-9.]+"#, with: "kopsVersion: \(kops)", options: .regularExpression)
      files["environments/\(name)/environment.yaml"] = settings
      files["environments/\(name)/cluster.yaml"] = text(docs)
    }
    let repo = try TestRepository(files)
    let repository = Repository(root: repo.root)
    var loaded = 0
    var rules = Set<String>()
    for round in 0..<2 {
      for name in names {
        guard let env = try? repository.load(name) else { continue }
        loaded += 1
        for d in Self.agree(env, "seed \(seed), \(name), round \(round)") { rules.insert(String(d.prefix { $0 != " " })) }
      }
    }
    #expect(loaded > 0)
    #expect(rules.contains("unknown-field") && rules.contains("yaml11-bool") && rules.contains("field-type"), "\(rules.sorted())")
  }

  /// Keys to write: the schema's own field names, misspellings of them and odd ones.
  static func keyPool() -> [String] {
    let schema = KopsSchema.shared
    var keys = Set<String>()
    for (_, fields) in schema.types { keys.formUnion(fields.keys) }
    var pool = keys.sorted()
    pool += pool.prefix(40).map { String($0.dropLast()) }
    pool += ["", "a.b", "x[0]", "with space", "\"q\"", "kubeProxy", "enabeld", "Enabled", "yes", "🐳", "spec", "metadata"]
    return pool
  }
}

/// A small deterministic generator (SplitMix64).
struct SplitMix {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
  mutating func pick<T>(_ a: [T]) -> T { a[Int(next() % UInt64(a.count))] }
}

/// Random changes to a YAML tree: a value replaced, a key added or removed somewhere.
enum Mutator {
  static let scalars: [YAMLScalar] = [
    YAMLScalar("yes"), YAMLScalar("No"), YAMLScalar("on"), YAMLScalar("OFF"), YAMLScalar("y"), YAMLScalar("N"),
    YAMLScalar("yes", style: .doubleQuoted), YAMLScalar("on", tag: "tag:yaml.org,2002:str"), YAMLScalar("true"),
    YAMLScalar("false"), YAMLScalar("true", style: .singleQuoted), YAMLScalar("3128"), YAMLScalar("3128", style: .doubleQuoted),
    YAMLScalar("-1"), YAMLScalar("0x1F"), YAMLScalar("1.5"), YAMLScalar(".inf"), YAMLScalar("null"), YAMLScalar("~"),
    YAMLScalar(""), YAMLScalar("", style: .doubleQuoted), YAMLScalar("30s"), YAMLScalar("500m"), YAMLScalar("aws"),
    YAMLScalar("10.0.0.0/16"), YAMLScalar("Private"), YAMLScalar("a b"), YAMLScalar("99999"),
    YAMLScalar("12", tag: "tag:yaml.org,2002:int"),
    YAMLScalar("yes\n", style: .literal),
  ]

  static func value(_ rng: inout SplitMix, keys: [String], depth: Int) -> YAMLNode {
    switch depth > 2 ? 0 : rng.next() % 6 {
    case 0, 1, 2:
      return YAMLNode(.scalar(rng.pick(scalars)))
    case 3, 4:
      let n = Int(rng.next() % 4)
      var pairs: [YAMLPair] = []
      for _ in 0..<n {
        let key = rng.pick(keys)
        if pairs.contains(where: { $0.key == key }) { continue }
        pairs.append(YAMLPair(key: key, value: value(&rng, keys: keys, depth: depth + 1)))
      }
      return .mapping(pairs)
    default:
      let n = Int(rng.next() % 4)
      return .sequence((0..<n).map { _ in value(&rng, keys: keys, depth: depth + 1) })
    }
  }

  /// One change at a random place of the document's `spec` (a change elsewhere would mostly
  /// make the environment fail to load).
  static func mutateSpec(_ doc: inout YAMLNode, _ rng: inout SplitMix, keys: [String]) {
    guard var spec = doc["spec"] else { return }
    mutate(&spec, &rng, keys: keys)
    doc.set("spec", spec)
  }

  /// One change at a random place of `node`.
  static func mutate(_ node: inout YAMLNode, _ rng: inout SplitMix, keys: [String]) {
    switch node.content {
    case .mapping(var pairs):
      let r = rng.next() % 10
      if !pairs.isEmpty && r < 6 {
        let i = Int(rng.next() % UInt64(pairs.count))
        if rng.next() % 3 == 0 {
          pairs[i].value = value(&rng, keys: keys, depth: 1)
        } else {
          mutate(&pairs[i].value, &rng, keys: keys)
        }
      } else if !pairs.isEmpty && r == 6 {
        pairs.remove(at: Int(rng.next() % UInt64(pairs.count)))
      } else {
        let key = rng.pick(keys)
        if !pairs.contains(where: { $0.key == key }) {
          pairs.append(YAMLPair(key: key, value: value(&rng, keys: keys, depth: 1)))
        }
      }
      node = YAMLNode(.mapping(pairs), mark: node.mark)
    case .sequence(var items):
      if !items.isEmpty && rng.next() % 4 != 0 {
        let i = Int(rng.next() % UInt64(items.count))
        mutate(&items[i], &rng, keys: keys)
      } else {
        items.append(value(&rng, keys: keys, depth: 1))
      }
      node = YAMLNode(.sequence(items), mark: node.mark)
    case .scalar:
      node = value(&rng, keys: keys, depth: 1)
    }
  }
}

/// The byte fast paths of the name, zone and exclude-list checks against their former code
/// (`ReferenceNameChecks`) on generated texts: ASCII and not, carriage returns, combining marks.
@Suite struct NameCheckFastPathTests {
  static let tokens = [
    "a", "z", "q", "A", "Z", "0", "9", "1", "-", ".", "/", ":", "_", "~", "%", ",", " ", "\t", "\n", "\r", "\r\n", "é", "e\u{301}",
    "\u{301}", "s3://", "gs://", "file://", "igw-", "vpc-", "subnet-", "s3.", "amazonaws.com", ".amazonaws.com", "ap-northeast-1",
    "us-gov-west-1", "AP-Northeast-1", "k8s", "corp", "local", "S3.",
  ]

  static func texts(seed: UInt64, count: Int) -> [String] {
    var rng = SplitMix(seed: seed)
    return (0..<count).map { _ in
      let n = Int(rng.next() % 9)
      return (0..<n).map { _ in rng.pick(tokens) }.joined()
    }
  }

  @Test func namesAgree() {
    var fastTaken = 0
    for s in Self.texts(seed: 11, count: 20_000) + ["", String(repeating: "a", count: 253), String(repeating: "a", count: 254)] {
      #expect(NameRules.dns1123SubdomainProblem(s) == ReferenceNameChecks.dns1123SubdomainProblem(s), "\(s.debugDescription)")
      #expect(NameRules.isStateStore(s) == ReferenceNameChecks.isStateStore(s), "\(s.debugDescription)")
      #expect(NameRules.isRegion(s) == ReferenceNameChecks.isRegion(s), "\(s.debugDescription)")
      for prefix in ["igw-", "vpc-", "subnet-"] {
        #expect(NameRules.isAWSID(s, prefix: prefix) == ReferenceNameChecks.isAWSID(s, prefix: prefix), "\(s.debugDescription)")
      }
      if NameRules.isRegionASCII(s) != nil { fastTaken += 1 }
    }
    #expect(fastTaken > 1000)
  }

  @Test func zoneLengthsAgree() {
    for s in Self.texts(seed: 14, count: 5000) + ["\r\n", "a\r\n", "e\u{301}\u{301}x", "🇯🇵🇯🇵", "🇯🇵🇯🇵a", "ab", "abc"] {
      #expect(LateRules.isAtMostTwoCharacters(s) == (s.count <= 2), "\(s.debugDescription)")
    }
  }

  @Test func zonesAndExcludesAgree() {
    let texts = Self.texts(seed: 12, count: 4000)
    let regions = ["ap-northeast-1", "AP-Northeast-1", "", "é", "us-gov-west-1"]
    var rng = SplitMix(seed: 13)
    var covered = 0
    var within = 0
    for t in texts {
      for r in regions {
        let fast = WarningRules.coversS3ASCII(t, region: r)
        if let fast {
          #expect(fast == ReferenceNameChecks.coversS3(t, region: r), "\(t.debugDescription) \(r.debugDescription)")
          if fast { covered += 1 }
        }
      }
      // clusters made of the same tokens, sometimes the zone itself or a name within it
      let other = rng.pick(texts)
      for cluster in [other, t, "a." + t, "A." + t.uppercased(), other + "." + t] {
        if IdentityRules.clusterWithinZoneASCII(cluster, zone: t) {
          within += 1
          #expect(ReferenceNameChecks.withinZone(cluster, zone: t), "\(cluster.debugDescription) \(t.debugDescription)")
        } else if !t.utf8.contains(where: { $0 >= 0x80 || $0 == 0x0D }) && !cluster.utf8.contains(where: { $0 >= 0x80 || $0 == 0x0D }) {
          // plain ASCII: the fast path decides both ways (a zone without a dot names no domain: no finding either)
          var z = Substring(t)
          while z.hasSuffix(".") { z = z.dropLast() }
          if z.contains(".") {
            #expect(!ReferenceNameChecks.withinZone(cluster, zone: t), "\(cluster.debugDescription) \(t.debugDescription)")
          }
        }
      }
    }
    for (t, r) in [
      ("corp.local, s3.ap-northeast-1.amazonaws.com", "ap-northeast-1"), (" .S3.AMAZONAWS.COM ", "x"), ("amazonaws.com", ""),
      (",,ap-northeast-1.amazonaws.com,", "AP-northeast-1"), ("s3..amazonaws.com", ""),
    ] {
      #expect(WarningRules.coversS3ASCII(t, region: r) == true)
      #expect(ReferenceNameChecks.coversS3(t, region: r))
    }
    #expect(covered > 0 && within > 0)
  }
}

/// ``KopsSchema/parse(_:)`` (on bytes) reads the generated schema and odd texts as the former
/// `Substring` reader did.
@Suite struct KopsSchemaParseTests {
  static func dump(_ types: [String: [String: [KopsSchema.Variant]]]) -> [String] {
    types.sorted { $0.key < $1.key }.flatMap { (name, fields) in
      fields.sorted { $0.key < $1.key }.map { (field, variants) in
        "\(name).\(field): " + variants.map { "\($0.type) \($0.omittedWhenZero) \($0.ranges)" }.joined(separator: "; ")
      }
    }
  }

  @Test func theGeneratedSchemaAndOddTextsReadAlike() {
    let texts = [
      KopsSchemaData.text,
      "T A x s 0-1 y ~[@B 1 z i 0\nw b 0-1,3\nT B v {s 0-3\n",
      "T A\nx s 0-1\ny ~[@B 1\nz i 0\nw b 0-1,3\nT B\nv {s 0-3\n",
      "T A  x s 0-1,,2--3,-4,5-,+6,x-1,3-2 y bad 1 z is 1\n\n\nT\nT B T s 1 q * 2 r [{[@C 0-99999999999999999999 s d 1 t t 1 u f 1\n",
      "", "T", "T A", "x s 1",
    ]
    for text in texts {
      #expect(Self.dump(KopsSchema.parse(text)) == Self.dump(ReferenceKopsSchemaParse.types(text)), "\(text.prefix(40).debugDescription)")
    }
    #expect(Self.dump(KopsSchema.parse(KopsSchemaData.text)).count > 1000)
  }
}
