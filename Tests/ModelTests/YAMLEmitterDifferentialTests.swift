import HKTestSupport
import Testing

@testable import Model

/// The byte emitter (`YAMLEmitter.emit(json:)`, `appendYAML`) against the `String` emitter it
/// replaced (`ReferenceYAMLEmitter`): the same text for every tricky string and for generated
/// JSON values.
@Suite struct YAMLEmitterDifferentialTests {
  @Test(arguments: TrickyValues.strings)
  func trickyStringAsValueKeyAndItem(_ s: String) {
    let values: [JSONValue] = [
      .string(s), .obj([(s, .string(s))]), .array([.string(s), .obj([("k", .string(s)), (s, .array([.string(s)]))])]),
      .obj([("a", .obj([("b", .obj([("c", .string(s))]))]))]), .array([.array([.array([.string(s)])])]),
    ]
    for v in values {
      #expect(YAMLEmitter.emit(json: v) == ReferenceYAMLEmitter.emit(json: v), "\(v)")
    }
    #expect(YAMLEmitter.isPlainSafe(s) == ReferenceYAMLEmitter.isPlainSafe(s), "\(s)")
    for indent in [0, 2, 8] {
      #expect(YAMLEmitter.literalBlock(s, indent: indent) == ReferenceYAMLEmitter.literalBlock(s, indent: indent), "\(s)")
    }
  }

  @Test func scalarsAndEmptyCollections() {
    let values: [JSONValue] = [
      .null, .bool(true), .bool(false), .int(0), .int(-1), .int(.max), .int(.min), .int(.min + 1), .double(0), .double(-0.0),
      .double(1.5), .double(1e15), .double(-1e15), .double(1e16), .double(1e300), .double(.leastNonzeroMagnitude), .double(.infinity),
      .double(-.infinity), .double(.nan), .object([]), .array([]), .obj([("e", .object([])), ("f", .array([]))]),
      .array([.object([]), .array([]), .null]),
    ]
    for v in values {
      #expect(YAMLEmitter.emit(json: v) == ReferenceYAMLEmitter.emit(json: v), "\(v)")
      #expect(YAMLEmitter.emit(json: .array([v])) == ReferenceYAMLEmitter.emit(json: .array([v])), "\(v)")
      #expect(YAMLEmitter.emit(json: .obj([("k", v)])) == ReferenceYAMLEmitter.emit(json: .obj([("k", v)])), "\(v)")
    }
  }

  @Test func deepNesting() {
    var v = JSONValue.string("deep\nvalue\n")
    for i in 0..<40 { v = i % 2 == 0 ? .obj([("level", v), ("x", .int(Int64(i)))]) : .array([v, .string(" s")]) }
    #expect(YAMLEmitter.emit(json: v) == ReferenceYAMLEmitter.emit(json: v))
  }

  @Test(arguments: 0..<8)
  func generatedValues(seed: UInt64) {
    var g = TrickyValues.Generator(seed: 0x5EED_0000 + seed)
    for _ in 0..<400 {
      let v = g.value(depth: 5)
      let emitted = YAMLEmitter.emit(json: v)
      #expect(emitted == ReferenceYAMLEmitter.emit(json: v), "\(v)")
      // Appended after other bytes, the text is the same.
      var out: [UInt8] = Array("prefix\n".utf8)
      YAMLEmitter.appendYAML(json: v, to: &out)
      #expect(out == Array(("prefix\n" + emitted).utf8))
    }
  }
}

@Suite struct ScalarShapeTests {
  /// The byte sets agree with `numberLike` and with the bytes the general pass looks at.
  @Test func byteSets() {
    for c in UInt8(0)..<0x80 {
      let numberLike = ScalarShape.contains(c, lo: ScalarShape.numberLikeLo, hi: ScalarShape.numberLikeHi)
      #expect(numberLike == YAMLEmitter.numberLike(Unicode.Scalar(c)), "\(c)")
      let special = ScalarShape.contains(c, lo: ScalarShape.specialLo, hi: ScalarShape.specialHi)
      #expect(special == (c <= 0x20 || c == 0x22 || c == 0x23 || c == 0x5C || c == 0x7F), "\(c)")
    }
  }

  /// Every single byte and every pair of printable ASCII bytes and spaces, with a line feed.
  @Test func shortTexts() {
    var texts: [String] = []
    for c in UInt8(0)..<0x80 { texts.append(String(decoding: [c], as: UTF8.self)) }
    let alphabet: [UInt8] = Array(" \n\t:#-.?~nNyYoO01+eE_x\"\\'".utf8)
    for a in alphabet {
      for b in alphabet {
        texts.append(String(decoding: [a, b], as: UTF8.self))
        for c in alphabet { texts.append(String(decoding: [a, b, c], as: UTF8.self)) }
      }
    }
    for t in texts {
      #expect(YAMLEmitter.emit(json: .obj([(t, .string(t))])) == ReferenceYAMLEmitter.emit(json: .obj([(t, .string(t))])), "\(t)")
    }
  }
}

@Suite struct OutputEscapingFastPathTests {
  /// `text(_:)` as it was before its byte fast path.
  static func referenceText(_ s: String) -> String {
    var out = OutputEscaping.needsEscape(s) ? OutputEscaping.escapeControls(s) : s
    if OutputEscaping.startsWorkflowCommand(out) { out = "\\" + out }
    return out
  }

  @Test func sameAsBefore() {
    var g = TrickyValues.Generator(seed: 77)
    var texts = TrickyValues.strings + [":", "::", " ::", "  :: x", ": :", "\u{7E}", "\u{7F}::", "a::b"]
    for _ in 0..<2000 { texts.append(g.string()) }
    for t in texts {
      #expect(OutputEscaping.text(t) == Self.referenceText(t), "\(t)")
    }
  }
}

/// The eight-byte tests agree with the byte-by-byte ones for every byte at every position and
/// for random words.
@Suite struct WordTests {
  static func word(_ bytes: [UInt8]) -> UInt64 {
    bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
  }

  static func special(_ c: UInt8) -> Bool { c >= 0x80 || c <= 0x20 || c == 0x22 || c == 0x23 || c == 0x5C || c == 0x7F }
  static func unprintable(_ c: UInt8) -> Bool { c < 0x20 || c >= 0x7F }

  @Test func everyByteAtEveryPosition() {
    for fill in [UInt8(ascii: "a"), 0x21, 0x7E, 0x24] {
      for position in 0..<8 {
        for c in UInt8.min...UInt8.max {
          var bytes = [UInt8](repeating: fill, count: 8)
          bytes[position] = c
          #expect(ScalarShape.mayHoldSpecial(Self.word(bytes)) == Self.special(c), "\(c) at \(position)")
          #expect(OutputEscaping.mayHoldUnprintable(Self.word(bytes)) == Self.unprintable(c), "\(c) at \(position)")
        }
      }
    }
  }

  @Test func randomWords() {
    var g = TrickyValues.Generator(seed: 8)
    for _ in 0..<100_000 {
      let x = g.next() & (g.below(2) == 0 ? 0x7F7F_7F7F_7F7F_7F7F : ~0)
      let bytes = withUnsafeBytes(of: x) { Array($0) }
      #expect(ScalarShape.mayHoldSpecial(x) == bytes.contains(where: Self.special))
      #expect(OutputEscaping.mayHoldUnprintable(x) == bytes.contains(where: Self.unprintable))
    }
  }
}
