import Testing

@testable import Config

/// ``KeyTable`` answers as a `[String: Int32]` of its pairs (the first of equal keys kept).
struct KeyTableTests {
  @Test func everyKeyIsFoundAndOthersAreNot() {
    let keys = (0..<300).map { "field\($0)" } + ["", "é", "kubernetesVersion", "a-key-longer-than-eight-bytes-and-then-some"]
    let table = KeyTable(keys: keys)
    #expect(table.count == keys.count)
    for (i, key) in keys.enumerated() {
      #expect(table.value(key) == Int32(i), "\(key)")
    }
    for miss in ["field300", "Field1", "field1 ", "kubernetesversion", "e", "a-key-longer-than-eight-bytes-and-then-som"] {
      #expect(table.value(miss) == nil, "\(miss)")
    }
  }

  @Test func theFirstOfEqualKeysKeepsItsValue() {
    let table = KeyTable(pairs: [("spec", 7), ("kind", 1), ("spec", 9)])
    #expect(table.count == 2)
    #expect(table.value("spec") == 7)
    #expect(table.value("kind") == 1)
  }

  @Test func anEmptyTableFindsNothing() {
    let table = KeyTable(keys: [])
    #expect(table.count == 0)
    #expect(table.value("") == nil)
    #expect(table.value("spec") == nil)
  }

  @Test func aCopyOutlivesTheOriginal() {
    var copy: KeyTable? = nil
    do {
      let table = KeyTable(keys: ["networkID", "subnets"])
      copy = table
    }
    #expect(copy?.value("subnets") == 1)
  }

  @Test func aBridgedOrSlicedKeyIsFound() {
    let table = KeyTable(keys: ["egressProxy"])
    let sub = "spec.egressProxy".split(separator: ".")[1]
    #expect(table.value(String(sub)) == 0)
  }
}
