import HKTestSupport
import Model
import Testing

@testable import Config

/// ``StringInterner`` gives the string libyaml's bytes spell, whatever the table holds: short,
/// long, repeated, non-ASCII, and more texts than the table keeps.
@Suite struct StringInternerTests {
  @Test func givesTheTextOfTheBytes() {
    let interner = StringInterner()
    var texts = [
      "", "a", "fifteen-bytes-x", "sixteen-bytes-xx", "kubernetesVersion", "containerLogMaxSize", "ünïcödé-key-of-some-length",
      String(repeating: "x", count: StringInterner.maxLength), String(repeating: "y", count: StringInterner.maxLength + 1),
    ]
    for i in 0..<(StringInterner.maxEntries + 100) { texts.append("a-long-generated-value-\(i)") }
    for round in 0..<2 {
      for t in texts {
        let bytes = Array(t.utf8)
        let s = bytes.withUnsafeBufferPointer { interner.string($0) }
        #expect(s == t, "round \(round)")
      }
    }
    let a = Array("a-long-key-that-repeats".utf8).withUnsafeBufferPointer { interner.string($0) }
    let b = Array("a-long-key-that-repeats".utf8).withUnsafeBufferPointer { interner.string($0) }
    #expect(a == b)
  }

  /// Each thread keeps its own table (``StringInterner/shared``): the same one on every call of
  /// that thread, another on another thread, and the text is the same from either.
  @Test func eachThreadHasItsOwnTable() {
    let here = StringInterner.shared
    #expect(StringInterner.shared === here)
    let key = Array("a-key-interned-on-two-threads".utf8)
    let mine = key.withUnsafeBufferPointer { here.string($0) }
    let seen = onNewThread {
      (StringInterner.shared, StringInterner.shared, key.withUnsafeBufferPointer { StringInterner.shared.string($0) })
    }
    let other = seen?.0
    #expect(other != nil && other !== here)
    #expect(other === seen?.1)
    #expect(seen?.2 == mine)
  }

  @Test func parsesAsBefore() throws {
    let yaml = """
      containerLogMaxSize: a-long-value-that-repeats
      list:
      - containerLogMaxSize: a-long-value-that-repeats
        other: "a-long-value-that-repeats"
      - {containerLogMaxSize: 'a-long-value-that-repeats', n: 3128}
      """
    let docs = try YAMLParser.parse(yaml, file: "f.yaml")
    #expect(YAMLEmitter.emit(documents: docs) == YAMLEmitter.emit(documents: try YAMLParser.parse(yaml, file: "f.yaml")))
    #expect(docs.first?["list"]?.items?[1]["containerLogMaxSize"]?.scalar?.style == .singleQuoted)
    #expect(docs.first?["list"]?.items?[0]["other"]?.stringValue == "a-long-value-that-repeats")
  }
}
