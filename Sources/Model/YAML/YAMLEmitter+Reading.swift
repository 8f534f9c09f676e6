#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reading text that ``YAMLEmitter/emit(_:)`` wrote back against the tree it was written from,
/// without a YAML parser: the recorded objects of a revision are the emitter's text of trees hk
/// holds again (the desired objects), most of them byte for byte, the rest but for a value or two.
extension YAMLEmitter {
  /// What ``read(_:asEmissionOf:maxChangedScalars:maxDepth:maxNodes:)`` found.
  public enum EmissionReading: Sendable {
    /// A YAML 1.2 parse of the text (libyaml's events, each scalar's text, style and tag, keys as
    /// their text) gives exactly one document: the tree with these scalar values in place
    /// (`path`: the indices of the pairs and items from the root; the node keeps the mark of
    /// the one it replaces), in document order, at most `maxChangedScalars` of them. Every
    /// other scalar of the text reads back as the tree's own: the same text, no tag, and the
    /// same style or a style it resolves the same in.
    case read([(path: [Int], node: YAMLNode)])
    /// The parse differs from the tree in more scalar values than allowed, everything before
    /// the one over the limit being the tree's (or one of the allowed changes).
    case tooManyChanges
    /// Not decided here: the text is not the emitter's writing of such a tree as far as this
    /// reading goes (another key, another shape, a scalar written in a way it does not read, a
    /// tree scalar that would not read back as itself, a limit). A parser decides.
    case unknown
  }

  /// Reads `text` as ``emit(_:)`` of `tree` (a mapping) with up to `maxChangedScalars` scalar
  /// values written differently, comparing the emitter's bytes with the text as they would be
  /// written and stopping at the first difference that is not a scalar value it can read.
  ///
  /// A scalar of the tree counts as written as itself only when a parse gives it back: no tag,
  /// ASCII text (plain, a literal block not starting with a tab — libyaml refuses that — or
  /// double quoted with the emitter's escapes), a null written `null` and booleans `true` /
  /// `false` (the emitter writes a null `~` or a `True` otherwise than it reads). A scalar of
  /// the text that is not the tree's is read only in two shapes whose parse is certain: one
  /// line of printable ASCII, plain (no indicator first, no `: ` or ` #`, no blank at either
  /// end, no `:` last) or double quoted without escapes; what follows it is the emitter's next
  /// line, never indented enough to continue it. Keys: ASCII, written as the emitter writes
  /// them in at most 1024 bytes (libyaml looks no further for a key's `:`), none twice in a
  /// mapping. Collections at most `maxDepth` deep (and 1000), at most `maxNodes` nodes
  /// counting keys, as the parse counts them. Anything else is ``EmissionReading/unknown``.
  public static func read(
    _ text: UnsafeBufferPointer<UInt8>, asEmissionOf tree: YAMLNode, maxChangedScalars: Int, maxDepth: Int, maxNodes: Int
  ) -> EmissionReading {
    guard case .mapping = tree.content, let base = text.baseAddress, !text.isEmpty else { return .unknown }
    var reader = EmissionReader(
      base: base, count: text.count, maxPatches: max(0, maxChangedScalars), maxDepth: min(maxDepth, 1000), maxNodes: maxNodes)
    guard reader.write(tree, indent: 0, context: .document) else { return reader.tooMany ? .tooManyChanges : .unknown }
    // The whole text, and nothing after it (`write` ends every node with a line feed).
    guard reader.pos == reader.count else { return .unknown }
    return .read(reader.patches)
  }
}

/// ``YAMLEmitter/read(_:asEmissionOf:maxChangedScalars:maxDepth:maxNodes:)``'s walk: the
/// emitter's `write` (YAMLEmitter.swift) step for step, comparing instead of appending.
struct EmissionReader {
  let base: UnsafePointer<UInt8>
  let count: Int
  let maxPatches: Int
  let maxDepth: Int
  let maxNodes: Int
  /// How far the text was read.
  var pos = 0
  var nodes = 0
  /// The walk stopped because one more scalar differed than allowed.
  var tooMany = false
  var patches: [(path: [Int], node: YAMLNode)] = []
  /// The index of the pair or item being read in each open collection (a patch's path).
  var path: [Int] = []
  /// The fingerprints of the keys read so far in each open mapping (a duplicate key is refused
  /// by the parse), innermost last.
  var prints: [UInt64] = []
  /// Bytes the emitter would write for a scalar that is neither plain nor simply quoted.
  var scratch: [UInt8] = []

  /// The longest key libyaml finds the `:` of (it gives up on a simple key 1024 bytes on).
  static let maxKeyBytes = 1024
  /// Mappings up to this many keys are checked for a duplicate by their fingerprints; larger
  /// ones by a set.
  static let linearKeyLimit = 64

  init(base: UnsafePointer<UInt8>, count: Int, maxPatches: Int, maxDepth: Int, maxNodes: Int) {
    self.base = base
    self.count = count
    self.maxPatches = maxPatches
    self.maxDepth = maxDepth
    self.maxNodes = maxNodes
    path.reserveCapacity(16)
    prints.reserveCapacity(128)
  }

  @inline(__always)
  mutating func expect(_ b: UInt8) -> Bool {
    guard pos < count, base[pos] == b else { return false }
    pos += 1
    return true
  }

  @inline(__always)
  mutating func expect(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
    let n = b.count
    guard count - pos >= n else { return false }
    guard n > 0, let p = b.baseAddress else { return true }
    guard memcmp(base + pos, p, n) == 0 else { return false }
    pos += n
    return true
  }

  @inline(__always)
  mutating func expectSpaces(_ n: Int) -> Bool {
    guard count - pos >= n else { return false }
    for i in 0..<n where base[pos + i] != 0x20 { return false }
    pos += n
    return true
  }

  @inline(__always)
  mutating func expect(_ s: StaticString) -> Bool {
    s.withUTF8Buffer { expect($0) }
  }

  /// The bytes in ``scratch`` (held by a copy while compared: `expect` changes `self`).
  mutating func expectScratch() -> Bool {
    let bytes = scratch
    return bytes.withUnsafeBufferPointer { expect($0) }
  }

  mutating func countNode() -> Bool {
    nodes += 1
    return nodes <= maxNodes
  }

  /// `write(_:into:indent:context:)` of `node`, compared.
  mutating func write(_ node: YAMLNode, indent: Int, context: YAMLEmitter.ByteContext) -> Bool {
    switch node.content {
    case .scalar(let s):
      guard countNode() else { return false }
      if context != .document { guard expect(0x20) else { return false } }
      return scalar(s, of: node, indent: indent)
    case .mapping(let pairs):
      guard path.count < maxDepth, countNode() else { return false }
      if pairs.isEmpty {
        if context != .document { guard expect(0x20) else { return false } }
        return expect("{}\n")
      }
      if context == .mappingValue { guard expect(0x0A) else { return false } }
      let firstPrint = prints.count
      var keySet: Set<String>? = nil
      path.append(0)
      defer {
        path.removeLast()
        prints.removeLast(prints.count - firstPrint)
      }
      return pairs.withUnsafeBufferPointer { ps in
        for i in ps.indices {
          path[path.count - 1] = i
          if context == .sequenceItem && i == 0 {
            guard expect(0x20) else { return false }
          } else {
            guard expectSpaces(indent) else { return false }
          }
          guard key(ps, i, firstPrint: firstPrint, keySet: &keySet), expect(0x3A) else { return false }
          switch ps[i].value.content {
          case .sequence(let items) where !items.isEmpty:
            guard expect(0x0A), write(ps[i].value, indent: indent, context: .mappingValue) else { return false }
          default:
            guard write(ps[i].value, indent: indent + 2, context: .mappingValue) else { return false }
          }
        }
        return true
      }
    case .sequence(let items):
      guard path.count < maxDepth, countNode() else { return false }
      if items.isEmpty {
        if context != .document { guard expect(0x20) else { return false } }
        return expect("[]\n")
      }
      if context == .sequenceItem { guard expect(0x0A) else { return false } }
      path.append(0)
      defer { path.removeLast() }
      return items.withUnsafeBufferPointer { its in
        for i in its.indices {
          path[path.count - 1] = i
          guard expectSpaces(indent), expect(0x2D), write(its[i], indent: indent + 2, context: .sequenceItem) else { return false }
        }
        return true
      }
    }
  }

  /// Pair `i`'s key as `appendKey` writes it: printable ASCII or escaped ASCII only, not one of
  /// the mapping's earlier keys.
  mutating func key(_ pairs: UnsafeBufferPointer<YAMLPair>, _ i: Int, firstPrint: Int, keySet: inout Set<String>?) -> Bool {
    guard countNode() else { return false }
    let start = pos
    let ok = pairs[i].key.withBorrowedUTF8 { b -> Bool in
      if let plain = Self.plainWord(b) {
        // Most keys: a word, plain unless it is one of the reserved words (quoted as it is).
        guard plain ? expect(b) : expect(0x22) && expect(b) && expect(0x22) else { return false }
      } else {
        let shape = ScalarShape(b)
        // Non-ASCII keys are decided on characters by the emitter, and compared as strings
        // (canonical equivalence) by the parse's duplicate check: the parser decides.
        if shape.nonASCII { return false }
        if shape.plainCandidate
          && YAMLEmitter.plainResolvesToString(pairs[i].key, first: shape.first, numberLike: shape.numberLike)
        {
          guard expect(b) else { return false }
        } else if shape.quotesAsIs {
          guard expect(0x22), expect(b), expect(0x22) else { return false }
        } else {
          scratch.removeAll(keepingCapacity: true)
          YAMLEmitter.appendQuotedASCII(b, simple: false, to: &scratch)
          guard expectScratch() else { return false }
        }
      }
      guard pos - start <= Self.maxKeyBytes else { return false }
      // No key twice (ASCII: equal strings are equal bytes).
      if i < Self.linearKeyLimit {
        let print = YAMLPair.keyFingerprint(b)
        var j = firstPrint
        while j < prints.count {
          if prints[j] == print && pairs[j - firstPrint].key == pairs[i].key { return false }
          j += 1
        }
        prints.append(print)
      } else {
        if keySet == nil { keySet = Set(pairs[..<i].lazy.map(\.key)) }
        guard keySet?.insert(pairs[i].key).inserted == true else { return false }
      }
      return true
    }
    return ok
  }

  /// Whether `b`, an ASCII letter and then only letters, digits, `.`, `_`, `/` and `-`, is
  /// written plain: yes but for the words a YAML 1.1 or 1.2 reader takes for a bool or null
  /// (``YAMLEmitter/isReservedWordASCII(_:)``), which the emitter quotes as they are. Such text
  /// has none of the bytes that make the emitter quote or a reader end a plain scalar, and a
  /// letter first is no number (``ScalarShape`` and `plainResolvesToString` decide the same,
  /// in more steps). nil for any other text.
  @inline(__always)
  static func plainWord(_ b: UnsafeBufferPointer<UInt8>) -> Bool? {
    // (`contains` reads bytes below 0x80 only.)
    guard let first = b.first, first < 0x80, ScalarShape.contains(first, lo: 0, hi: Self.letterHi) else { return nil }
    for c in b where c >= 0x80 || !ScalarShape.contains(c, lo: Self.wordLo, hi: Self.wordHi) { return nil }
    return !YAMLEmitter.isReservedWordASCII(b)
  }

  /// `A-Z a-z` (bits of bytes 64–127).
  static let letterHi: UInt64 = 0x07FF_FFFE_07FF_FFFE
  /// `0-9 . / -` (bytes below 64) and `A-Z _ a-z` (64–127).
  static let wordLo: UInt64 = 0x03FF_E000_0000_0000
  static let wordHi: UInt64 = 0x07FF_FFFE_87FF_FFFE

  /// A scalar value and its line feed, from `pos` (after the space that separates it).
  mutating func scalar(_ s: YAMLScalar, of node: YAMLNode, indent: Int) -> Bool {
    let start = pos
    if s.tagID == 0 && emitted(s, indent: indent) && expect(0x0A) { return true }
    // Another scalar in the text, or the tree's does not read back as itself: what the parse
    // would give there, if it is one of the two certain shapes.
    pos = start
    var lineEnd = start
    while lineEnd < count && base[lineEnd] != 0x0A { lineEnd += 1 }
    guard lineEnd < count else { return false }
    let line = UnsafeBufferPointer(start: base + start, count: lineEnd - start)
    guard let (textBytes, style) = Self.readScalar(line) else { return false }
    pos = lineEnd + 1
    // The parse's scalar against the tree's, as the matcher compares them (same text and tag,
    // and the same style or the same value).
    let same = s.text.withBorrowedUTF8 { t in
      guard t.count == textBytes.count else { return false }
      guard let a = t.baseAddress, let b = textBytes.baseAddress else { return t.count == 0 }
      return memcmp(a, b, t.count) == 0
    }
    let text = String(decoding: textBytes, as: UTF8.self)
    if same && s.tagID == 0 && (style == s.style || YAMLScalar(s.text, style: style, tag: nil).value == s.value) {
      return true
    }
    guard patches.count < maxPatches else {
      tooMany = true
      return false
    }
    patches.append((path, YAMLNode(.scalar(YAMLScalar(text, style: style)), mark: node.mark)))
    return true
  }

  /// Whether the text holds `scalarText(s)` at `pos` (read past it) and a parse gives `s` back
  /// there (`s` untagged).
  mutating func emitted(_ s: YAMLScalar, indent: Int) -> Bool {
    if s.isNull { return s.text.utf8.elementsEqual("null".utf8) && expect("null") }
    if let b = s.boolValue {
      return b ? s.text.utf8.elementsEqual("true".utf8) && expect("true") : s.text.utf8.elementsEqual("false".utf8) && expect("false")
    }
    guard s.stringText != nil else {
      // An int or float: written as its text, plain (an untagged one is plain, else it would
      // be a string), which reads back as itself.
      return s.text.withBorrowedUTF8 { expect($0) }
    }
    return s.text.withBorrowedUTF8 { b -> Bool in
      if let plain = Self.plainWord(b) {
        // A word: plain (and then a string, the reserved words aside) or quoted as it is.
        return plain ? expect(b) : expect(0x22) && expect(b) && expect(0x22)
      }
      let shape = ScalarShape(b)
      if shape.nonASCII { return false }
      if shape.plainCandidate && YAMLEmitter.plainResolvesToString(s.text, first: shape.first, numberLike: shape.numberLike) {
        // Read back plain: the same string only if that resolves to it (for a quoted one).
        guard s.style == .plain || YAMLScalar.classifyPlain(b) == .string else { return false }
        return expect(b)
      }
      if shape.literalCandidate {
        scratch.removeAll(keepingCapacity: true)
        YAMLEmitter.appendLiteralASCII(b, indent: indent, to: &scratch)
        return expectScratch()
      }
      if shape.quotesAsIs { return expect(0x22) && expect(b) && expect(0x22) }
      scratch.removeAll(keepingCapacity: true)
      YAMLEmitter.appendQuotedASCII(b, simple: false, to: &scratch)
      return expectScratch()
    }
  }

  /// A line that holds one scalar (after `key: ` or `- `) in a shape whose parse is certain:
  /// its text bytes and style, or nil.
  static func readScalar(_ line: UnsafeBufferPointer<UInt8>) -> (UnsafeBufferPointer<UInt8>, ScalarStyle)? {
    let n = line.count
    guard n > 0 else { return nil }
    if line[0] == 0x22 {
      // Double quoted, no escape: the bytes between the quotes.
      guard n >= 2, line[n - 1] == 0x22 else { return nil }
      for i in 1..<(n - 1) {
        let c = line[i]
        guard c >= 0x20 && c <= 0x7E && c != 0x22 && c != 0x5C else { return nil }
      }
      return (UnsafeBufferPointer(rebasing: line[1..<(n - 1)]), .doubleQuoted)
    }
    // Plain, on one line: printable ASCII; no blank at either end and no `:` last; no `: `
    // (a value) or ` #` (a comment) inside; not an indicator first (a `-` only before a
    // non-blank).
    switch line[0] {
    case UInt8(ascii: "-"):
      guard n >= 2, line[1] != 0x20 else { return nil }
    case UInt8(ascii: "?"), UInt8(ascii: ":"), UInt8(ascii: ","), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "{"),
      UInt8(ascii: "}"), UInt8(ascii: "#"), UInt8(ascii: "&"), UInt8(ascii: "*"), UInt8(ascii: "!"), UInt8(ascii: "|"),
      UInt8(ascii: ">"), UInt8(ascii: "'"), UInt8(ascii: "%"), UInt8(ascii: "@"), UInt8(ascii: "`"), 0x20:
      return nil
    default: break
    }
    guard line[n - 1] != 0x20, line[n - 1] != 0x3A else { return nil }
    var prev: UInt8 = 0
    for c in line {
      guard c >= 0x20 && c <= 0x7E else { return nil }
      if (prev == 0x3A && c == 0x20) || (prev == 0x20 && c == 0x23) { return nil }
      prev = c
    }
    return (line, .plain)
  }
}
