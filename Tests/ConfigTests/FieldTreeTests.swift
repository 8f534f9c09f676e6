import Foundation
import HKTestSupport
import Model
import Testing

@testable import Config

/// `TypeRules.checkFields` finds every field's node in one pass over the document
/// (`FieldTree`); these tests compare each with `TypeRules.lookup` (one search from the root per
/// field, as before) on the sample environments, kops's fixtures when present, and documents
/// where fields are missing, null, scalars, lists or repeated keys.
@Suite struct FieldTreeTests {
  /// The same node (same mark, semantically equal) or nil both ways, for every field.
  static func agrees(_ doc: YAMLNode, _ fields: [TypeRules.Field], _ tree: FieldTree) -> Bool {
    let found = tree.lookup(doc, count: fields.count)
    for (field, node) in zip(fields, found) {
      let reference = TypeRules.lookup(doc, field.path)
      switch (node, reference) {
      case (nil, nil): continue
      case (let a?, let b?) where YAMLTrees.identical(a, b): continue
      default: return false
      }
    }
    return true
  }

  static func documents() throws -> [YAMLNode] {
    var docs: [YAMLNode] = []
    let repository = Repository(root: packageRoot())
    for name in try repository.environmentNames() {
      let env = try repository.load(name)
      docs.append(env.cluster)
      docs += env.instanceGroups
    }
    if let fixtures = try KopsFixtureTests.fixtures() { docs += fixtures.flatMap(\.documents) }
    let odd = """
      metadata: [1]
      spec:
        topology: private
        api:
          loadBalancer: null
        egressProxy:
          httpProxy: {host: a, port: 1}
          excludes: [a]
        subnets: x
      ---
      spec: null
      ---
      metadata: {name: a, labels: {a: 1}}
      spec:
        role: Node
        subnets: {a: b}
      ---
      a: 1
      ---
      - spec
      ---
      plain
      """
    docs += try YAMLParser.parse(odd, file: "odd.yaml")
    // a repeated key (only a tree built in code can hold one): the first pair counts
    let first = YAMLPair(key: "topology", value: .mapping([YAMLPair(key: "masters", value: .string("a"))]))
    let second = YAMLPair(key: "topology", value: .mapping([YAMLPair(key: "masters", value: .int(3))]))
    docs.append(.mapping([YAMLPair(key: "spec", value: .mapping([first, second])), YAMLPair(key: "spec", value: .null)]))
    return docs
  }

  @Test func oneFieldTreePassFindsWhatEachLookupFinds() throws {
    let docs = try Self.documents()
    #expect(docs.count > 10)
    for (i, doc) in docs.enumerated() {
      #expect(Self.agrees(doc, TypeRules.clusterFields, FieldTree.cluster), "document \(i)")
      #expect(Self.agrees(doc, TypeRules.instanceGroupFields, FieldTree.instanceGroup), "document \(i)")
    }
  }
}
