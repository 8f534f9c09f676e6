import HKTestSupport
import Model
import Testing

@testable import Config

/// The project's own sample environments (environments/dev, staging, prod) must validate clean.
@Suite struct SampleEnvironmentTests {
  @Test(arguments: ["dev", "staging", "prod"])
  func sampleHasNoErrors(name: String) throws {
    let repo = Repository(root: packageRoot())
    let env = try repo.load(name)
    let diagnostics = Validator.validate(env)
    let errors = diagnostics.filter { $0.severity == .error }
    #expect(errors.isEmpty, "\(errors.map(\.description))")
    // the samples need allowContainerRegistry: that warning, and only warnings, remains
    #expect(diagnostics.contains { $0.rule == "iam-container-registry" })
    #expect(diagnostics.allSatisfy { ($0.location?.line ?? 0) >= 1 })
  }

  /// `hk validate` loads without file digests: the same files and the same findings, no SHA-256.
  @Test(arguments: ["dev", "staging", "prod"])
  func loadingWithoutDigestsChangesOnlyTheDigests(name: String) throws {
    let digested = try Repository(root: packageRoot()).load(name)
    let plain = try Repository(root: packageRoot(), digestsFiles: false).load(name)
    #expect(plain.sourceFiles.map(\.path) == digested.sourceFiles.map(\.path))
    #expect(plain.sourceFiles.map(\.resolvedPath) == digested.sourceFiles.map(\.resolvedPath))
    #expect(plain.sourceFiles.allSatisfy { $0.digest.isEmpty })
    #expect(digested.sourceFiles.allSatisfy { $0.digest.hasPrefix("sha256:") })
    #expect(Validator.validate(plain).map(\.description) == Validator.validate(digested).map(\.description))
  }

  @Test func everySampleIsListed() throws {
    #expect(try Repository(root: packageRoot()).environmentNames() == ["dev", "prod", "staging"])
  }
}

@Suite struct IPv4CIDRTests {
  @Test(arguments: [
    ("10.0.0.0/16", "10.0.0.0/16"), ("10.0.1.7/16", "10.0.0.0/16"), ("0.0.0.0/0", "0.0.0.0/0"),
    ("255.255.255.255/32", "255.255.255.255/32"), ("172.16.4.0/22", "172.16.4.0/22"),
  ])
  func parses(text: String, canonical: String) throws {
    let c = try #require(IPv4CIDR(text))
    #expect(c.description == canonical)
  }

  @Test(arguments: [
    "10.0.0/16", "10.0.0.0", "10.0.0.0/33", "10.0.0.256/8", "010.0.0.0/8", "10.0.0.0/-1", "a.b.c.d/8", "", "/", "10.0.0.0/16/1", "fd00::/8",
    "10..0.0/8", " 10.0.0.0/8",
  ])
  func refuses(text: String) {
    #expect(IPv4CIDR(text) == nil)
  }

  @Test func containment() throws {
    let vpc = try #require(IPv4CIDR("10.10.0.0/16"))
    #expect(vpc.contains(try #require(IPv4CIDR("10.10.32.0/19"))))
    #expect(vpc.contains(vpc))
    #expect(!vpc.contains(try #require(IPv4CIDR("10.11.0.0/19"))))
    #expect(!vpc.contains(try #require(IPv4CIDR("10.0.0.0/8"))))
    #expect(try #require(IPv4CIDR("0.0.0.0/0")).contains(vpc))
  }
}

/// `$patch` markers never reach kops: the loader strips them from the merged trees, and skips
/// the (tree-copying) strip only for files that cannot hold such a key.
@Suite struct PatchMarkerLoadingTests {
  static func repository(overlay edit: (String) -> String) throws -> TestRepository {
    let root = packageRoot()
    func read(_ rel: String) throws -> String { try String(contentsOfFile: root + "/" + rel, encoding: .utf8) }
    let repo = try TestRepository([
      "environments/_base/cluster.yaml": try read("environments/_base/cluster.yaml"),
      "environments/t/environment.yaml": try read("environments/dev/environment.yaml"),
      "environments/t/cluster.yaml": edit(try read("environments/dev/cluster.yaml")),
    ])
    return repo
  }

  static func hasMarker(_ node: YAMLNode) -> Bool {
    switch node.content {
    case .scalar: false
    case .sequence(let items): items.contains(where: hasMarker)
    case .mapping(let pairs): pairs.contains { $0.key == "$patch" || hasMarker($0.value) }
    }
  }

  @Test(arguments: ["$patch: merge", "\"\\u0024patch\": merge", "\"\\x24patch\": merge", "'$patch': merge"])
  func markersAreStrippedHoweverTheKeyIsSpelled(marker: String) throws {
    let anchor = "  - name: private-ap-northeast-1a\n"
    let repo = try Self.repository { $0.replacingOccurrences(of: anchor, with: anchor + "    " + marker + "\n") }
    let env = try repo.load()
    #expect(!Self.hasMarker(env.cluster))
    #expect(env.instanceGroups.allSatisfy { !Self.hasMarker($0) })
    let subnet = env.cluster[path: "spec", "subnets"]?.items?.first { $0["name"]?.text == "private-ap-northeast-1a" }
    #expect(subnet?["id"]?.text == "subnet-010a1111111111111")
  }

  @Test func whatCanHoldAPatchKey() {
    #expect(Repository.mayHoldPatchKey(Array("a:\n  $patch: delete\n".utf8)))
    #expect(Repository.mayHoldPatchKey(Array("a: \"\\u0024patch\"\n".utf8)))
    #expect(Repository.mayHoldPatchKey(Array("$patch".utf8)))
    #expect(!Repository.mayHoldPatchKey(Array("a: {b: $patc}\nc: patch\n$".utf8)))
    #expect(!Repository.mayHoldPatchKey([]))
    // several `$` before the marker, the marker at the very end, a cut-off marker at the end
    #expect(Repository.mayHoldPatchKey(Array("a: $1 $$ $pat $patch".utf8)))
    #expect(!Repository.mayHoldPatchKey(Array("a: $1 $$ $pat $patc".utf8)))
    #expect(!Repository.mayHoldPatchKey(Array(repeating: UInt8(ascii: "$"), count: 4096)))
    // the same answer as a byte-by-byte search, over many short texts
    let alphabet = Array("$patch\\ a:\n".utf8)
    var random = SplitMix64(seed: 15)
    for _ in 0..<2000 {
      let text = (0..<random.below(24)).map { _ in random.pick(alphabet) }
      let expected = text.contains(0x5C) || String(decoding: text, as: UTF8.self).contains("$patch")
      #expect(Repository.mayHoldPatchKey(text) == expected, "\(String(decoding: text, as: UTF8.self))")
    }
  }
}
