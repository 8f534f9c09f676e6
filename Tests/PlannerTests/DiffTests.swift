import Model
import Planner
import Testing

@Suite struct DiffTests {
  @Test func namedListsMatchByName() throws {
    let a = try yaml("spec:\n  subnets:\n  - name: a\n    cidr: 10.0.0.0/24\n  - name: b\n    cidr: 10.0.1.0/24\n")
    let b = try yaml("spec:\n  subnets:\n  - name: b\n    cidr: 10.0.1.0/24\n  - name: c\n    cidr: 10.0.2.0/24\n")
    let d = TreeDiff.diff(a, b)
    #expect(d.map(\.path) == ["spec.subnets[name=c]", "spec.subnets[name=a]"])
    #expect(d.map(\.action) == [.create, .delete])
  }

  @Test func quotedNumberDiffersFromNumber() throws {
    let a = try yaml("port: \"3128\"\n")
    let b = try yaml("port: 3128\n")
    #expect(TreeDiff.diff(a, b).count == 1)
    let c = try yaml("port: '3128'\n")
    #expect(TreeDiff.diff(a, c).isEmpty)
  }

  @Test func volatileMetadataIsIgnored() throws {
    let a = try yaml("metadata:\n  name: x\n  creationTimestamp: \"2024-01-01T00:00:00Z\"\n  generation: 3\n")
    let b = try yaml("metadata:\n  name: x\n")
    #expect(TreeDiff.diff(a, b).isEmpty)
  }

  @Test func unnamedListsCompareAsWholeValues() throws {
    let a = try yaml("l: [1, 2]\n")
    let b = try yaml("l: [2, 1]\n")
    let d = TreeDiff.diff(a, b)
    #expect(d.count == 1)
    #expect(d.first?.path == "l")
  }

  @Test(arguments: [
    ("spec.egressProxy", RollRules.Scope.all), ("spec.additionalPolicies", .none), ("spec.externalDns", .none),
    ("spec.kubeAPIServer", .controlPlane), ("spec.someFutureField", .all),
  ])
  func rollTable(path: String, scope: RollRules.Scope) {
    #expect(RollRules.scope(clusterSpecKey: String(path.split(separator: ".")[1])) == scope)
  }
}
