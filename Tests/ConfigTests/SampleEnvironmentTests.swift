@testable import Config
import Model
import Testing

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

  @Test(arguments: ["10.0.0/16", "10.0.0.0", "10.0.0.0/33", "10.0.0.256/8", "010.0.0.0/8", "10.0.0.0/-1", "a.b.c.d/8", "", "/", "10.0.0.0/16/1", "fd00::/8", "10..0.0/8", " 10.0.0.0/8"])
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
