import HKTestSupport
import Testing

@testable import Model

/// `Redaction.scan` (which bytes need a look decided two bytes at a time from a table, four a
/// round) against the one-pass byte loop it replaced: the same findings, in the same order, for
/// every boundary case, generated texts of the rules' pieces, and random bytes.
@Suite struct RedactionScanDifferentialTests {
  /// The former scan, byte by byte with the state "after a word byte".
  static func reference(_ b: UnsafeBufferPointer<UInt8>) -> Redaction.TextScan {
    var found = Redaction.TextScan()
    let n = b.count
    Redaction.scanClasses.withUnsafeBufferPointer { classes in
      Redaction.tokenPairs.withUnsafeBufferPointer { pairs in
        var afterWord: UInt8 = 0
        var i = 0
        while i < n {
          let k = classes[Int(b[i])]
          if (k & 2) | (k & 1 & ~afterWord) != 0 {
            if k & 1 != 0 {
              if i + 1 < n, pairs[Int(b[i]) << 8 | Int(b[i + 1])], i >= found.tokenNext, let end = Redaction.tokenEnd(b, i) {
                found.tokens.append(i..<end)
                found.tokenNext = end
              }
            } else {
              Redaction.rule(b, i, &found)
            }
          }
          afterWord = (k >> 2) & 1
          i += 1
        }
      }
    }
    return found
  }

  static func same(_ bytes: [UInt8]) -> Bool {
    bytes.withUnsafeBufferPointer { b in
      let x = Redaction.scan(b)
      let y = reference(b)
      return x.url == y.url && x.at == y.at && x.pem == y.pem && x.tokens == y.tokens && x.freeText == y.freeText
        && x.tokenNext == y.tokenNext && x.userinfoNext == y.userinfoNext && x.flagNext == y.flagNext && x.authNext == y.authNext
    }
  }

  @Test func boundaryCases() {
    for s in RedactionDifferentialTests.boundaries + RedactionDifferentialTests.pieces {
      // Alone, and at every offset from the start of the text and from its end.
      for pad in 0..<6 {
        let before = String(repeating: "a", count: pad)
        for t in [s, before + s, " " + before + s, s + before, before + " " + s + " " + before] {
          #expect(Self.same(Array(t.utf8)), "\(t)")
        }
      }
    }
  }

  @Test func generatedTexts() {
    for (seed, count) in [(UInt64(1), 4000), (2, 4000), (3, 1000)] {
      for s in RedactionDifferentialTests.generated(count: count, seed: 0x5CA7 + seed, maxPieces: seed == 3 ? 60 : 12) {
        #expect(Self.same(Array(s.utf8)), "\(s)")
      }
    }
  }

  /// Bytes of every value, and runs of the bytes the table tells apart (word bytes, tokens'
  /// first bytes, rule bytes, breaks), every length from 0 to 40.
  @Test func randomBytes() {
    var g = SplitMix64(seed: 0x5CA7_0B17)
    let alphabet = Array("gxAsrnhe/@=-zZY_a0. \n:\tpGHPhvsyJkKIloEiIu\u{1}".utf8)
    for length in 0...40 {
      for _ in 0..<200 {
        let any = (0..<length).map { _ in UInt8(truncatingIfNeeded: g.next()) }
        let picked = (0..<length).map { _ in alphabet[g.below(alphabet.count)] }
        #expect(Self.same(any), "\(any)")
        #expect(Self.same(picked), "\(picked)")
      }
    }
  }
}
