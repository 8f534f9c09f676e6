import Model

/// Reads the plain block YAML that kops manifests and hk's settings are almost always written
/// in, building exactly the trees ``YAMLParser`` builds from libyaml's events (the same keys,
/// values, styles and marks), or answering nil for anything else, which libyaml then reads.
///
/// Why hk reads some YAML without libyaml: libyaml's scanner makes and frees a block of memory
/// for every token and reads its input one character at a time through a decoding buffer; with
/// the tree built from its events it was a third of `hk plan`'s time, and no setting of it makes
/// it cheaper (docs/PERFORMANCE.md, issue 15, eleventh round). This reader covers only what it
/// can decide for certain, line by line, and gives up at the first thing it does not know:
/// - ASCII text only, lines ending in `\n`; no tab, carriage return or other control character;
/// - block mappings whose keys are plain words (letters, digits, `_ . / -`, not starting with
///   `-`) followed by `:` and a space or the line's end; block sequences (`- `), indented or not;
///   a sequence item that is a mapping starting on the item's line (`- name: a`);
/// - values on the key's line: plain scalars on one line (no `: `, no trailing `:`, no leading
///   indicator; ` #` starts a comment), single- or double-quoted scalars on one line without
///   escapes, `{}` and `[]`, and one-line flow mappings and sequences of plain words or such
///   quoted scalars; an empty value (`key:` and nothing more indented after it) is null;
/// - literal block scalars (`|`, `|-`) as values and items (an IAM policy's JSON);
/// - comments, blank lines, and documents separated by `---` lines.
/// Anchors, aliases, tags, folded and kept block scalars (`>`, `|+`), multi-line plain scalars,
/// escapes, complex or duplicate keys, directives, `...`, empty documents and anything over
/// ``YAMLLimits``' depth or node count answer nil, as does every line this reader cannot place:
/// libyaml then reads the file and reports what is wrong with it, so a file never reads
/// differently, or fails differently, for having been tried here first. Tests compare the two
/// readers' trees (marks and styles included) over every YAML file of the repository, kops's own
/// test manifests, random literal blocks and thousands of mutated files.
struct BlockYAMLReader {
  private let b: UnsafeBufferPointer<UInt8>
  private let file: FileID
  private let limits: YAMLLimits
  private let interner = StringInterner.shared
  private let pairs = MoveStack<YAMLPair>()
  private let items = MoveStack<YAMLNode>()
  /// The ``YAMLPair/keyFingerprint(_:)`` of each key in ``pairs`` (duplicate checks).
  private var fingerprints: [UInt64] = []
  private var nodeCount = 0
  private var depth = 0

  // The current content line (not blank, not only a comment).
  private var atEnd = false
  /// Its number (1-based), first byte, end (its `\n`, or the end of the text) and indentation.
  private var line = 0
  private var start = 0
  private var end = 0
  private var indent = 0
  /// Whether it is a `---` line (a document's start).
  private var isDocumentStart = false
  /// Where the line after it starts.
  private var next = 0

  /// What makes the reader give up (the caller then parses with libyaml).
  struct GiveUp: Error {}

  /// The documents of `bytes`, or nil when this reader cannot be certain of them.
  static func read(_ bytes: UnsafeBufferPointer<UInt8>, file: String, limits: YAMLLimits) -> [YAMLNode]? {
    guard Self.isPrintableASCIILines(bytes) else { return nil }
    var reader = BlockYAMLReader(b: bytes, file: FileID(file), limits: limits)
    do throws(GiveUp) {
      return try reader.documents()
    } catch {
      return nil
    }
  }

  private init(b: UnsafeBufferPointer<UInt8>, file: FileID, limits: YAMLLimits) {
    self.b = b
    self.file = file
    self.limits = limits
  }

  /// Whether every byte is printable ASCII or a line feed (no tab, `\r`, DEL or other control
  /// character, nothing non-ASCII: libyaml checks UTF-8 and counts columns in characters).
  /// Stricter than `NameRules.isPlainASCII`, which only keeps `Character`s one byte each.
  static func isPrintableASCIILines(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
    var bad: UInt8 = 0
    for c in b {
      // 0x20...0x7E and 0x0A pass: (c &- 0x20) ≥ 0x5F flags the rest but the line feed.
      bad |= (c &- 0x20) >= 0x5F && c != 0x0A ? 1 : 0
    }
    return bad == 0
  }

  // MARK: Lines

  private static let space = UInt8(ascii: " ")
  private static let hash = UInt8(ascii: "#")
  private static let colon = UInt8(ascii: ":")
  private static let dash = UInt8(ascii: "-")
  private static let newline = UInt8(ascii: "\n")

  /// The line starting at `s`: where it ends (its `\n`, or the text's end) and its first byte
  /// that is not a space (its end when it is blank).
  private func lineAt(_ s: Int) -> (end: Int, content: Int) {
    var e = s
    while e < b.count && b[e] != Self.newline { e += 1 }
    var i = s
    while i < e && b[i] == Self.space { i += 1 }
    return (e, i)
  }

  /// Moves to the next content line (or the end).
  private mutating func advance() throws(GiveUp) {
    while next < b.count {
      let s = next
      let (e, i) = lineAt(s)
      line += 1
      next = e + 1
      if i == e || b[i] == Self.hash { continue }
      start = s
      end = e
      indent = i - s
      isDocumentStart = false
      if indent == 0 && e - s >= 3 {
        let c = b[s]
        if (c == Self.dash || c == UInt8(ascii: ".")) && b[s + 1] == c && b[s + 2] == c {
          // `---` alone (or before a comment) starts a document; `...`, `--- value`, `---x`: libyaml's.
          guard c == Self.dash, restIsEmpty(from: s + 3) else { throw GiveUp() }
          isDocumentStart = true
        }
      }
      if indent == 0 && b[s] == UInt8(ascii: "%") { throw GiveUp() }
      return
    }
    atEnd = true
  }

  /// Whether the line ends at `i`, or holds from there on only spaces, then perhaps a comment
  /// (after at least one space: `"a"#b` and `---#` are libyaml's to read).
  private func restIsEmpty(from i: Int) -> Bool {
    var j = i
    while j < end && b[j] == Self.space { j += 1 }
    return j == end || (b[j] == Self.hash && j > i)
  }

  private func mark(_ offset: Int) -> Mark {
    Mark(fileID: file, line: line, column: offset - start + 1)
  }

  private var isSequenceEntry: Bool {
    let i = start + indent
    return b[i] == Self.dash && (i + 1 == end || b[i + 1] == Self.space)
  }

  // MARK: Documents and block collections

  private mutating func documents() throws(GiveUp) -> [YAMLNode] {
    var docs: [YAMLNode] = []
    try advance()
    while !atEnd {
      if isDocumentStart {
        try advance()
        // an empty document: libyaml's (a null with the mark of its end)
        if atEnd || isDocumentStart { throw GiveUp() }
      }
      docs.append(try block(parentIndent: -1))
      if !atEnd && !isDocumentStart { throw GiveUp() }
    }
    return docs
  }

  /// The collection starting on the current line, more indented than `parentIndent`.
  private mutating func block(parentIndent: Int) throws(GiveUp) -> YAMLNode {
    guard !atEnd, !isDocumentStart, indent > parentIndent else { throw GiveUp() }
    if isSequenceEntry { return try sequence(indent: indent) }
    return try mapping(indent: indent, firstKey: start + indent)
  }

  private mutating func open() throws(GiveUp) {
    if depth >= limits.maxDepth { throw GiveUp() }
    depth += 1
    try count()
  }

  private mutating func count() throws(GiveUp) {
    nodeCount += 1
    if nodeCount > limits.maxNodes { throw GiveUp() }
  }

  /// A block mapping whose keys sit at column `indent` (0-based), the first at `firstKey` on the
  /// current line.
  private mutating func mapping(indent n: Int, firstKey: Int) throws(GiveUp) -> YAMLNode {
    try open()
    let first = pairs.count
    let mapMark = mark(firstKey)
    var keys: Set<String>? = nil
    var k = firstKey
    while true {
      guard let keyEnd = keyEnd(at: k) else { throw GiveUp() }
      let keyMark = mark(k)
      try count()
      let keyBytes = UnsafeBufferPointer(rebasing: b[k..<keyEnd])
      let print = YAMLPair.keyFingerprint(keyBytes)
      let key = interner.string(keyBytes)
      try checkDuplicate(key, print, first: first, keys: &keys)
      var v = keyEnd + 1
      while v < end && b[v] == Self.space { v += 1 }
      let value: YAMLNode
      if v == end || b[v] == Self.hash {
        // The value is on the lines below, or empty: null, marked where `:` ends (libyaml's).
        let emptyMark = mark(keyEnd + 1)
        try advance()
        if !atEnd && !isDocumentStart && indent > n {
          value = try block(parentIndent: n)
        } else if !atEnd && indent == n && isSequenceEntry {
          value = try sequence(indent: n)
        } else {
          try count()
          value = YAMLNode(.scalar(YAMLScalar("", style: .plain)), mark: emptyMark)
        }
      } else {
        value = try valueOnLine(at: v, parentIndent: n)
      }
      pairs.push(YAMLPair(key: key, keyMark: keyMark, value: value))
      fingerprints.append(print)
      if atEnd || isDocumentStart || indent != n { break }
      if isSequenceEntry { throw GiveUp() }
      k = start + n
    }
    fingerprints.removeLast(fingerprints.count - first)
    depth -= 1
    return YAMLNode(.mapping(pairs.take(from: first)), mark: mapMark)
  }

  /// Where the key of a `key:` starting at `k` on the current line ends (at its `:`): a plain
  /// word not starting with `-`, then `:` and a space or the line's end; one libyaml takes as a
  /// simple key (≤ 1024 characters). Nil for anything else.
  private func keyEnd(at k: Int) -> Int? {
    let e = Self.wordEnd(b, from: k, to: end)
    guard e > k, e < end, b[e] == Self.colon, e + 1 == end || b[e + 1] == Self.space, b[k] != Self.dash, e - k < 1000 else {
      return nil
    }
    return e
  }

  /// The value starting at `v` on the current line, in a collection at column `n`: a literal
  /// block scalar (``literal(at:parentIndent:)``) or one on this line (``inlineValue(at:)``). The
  /// cursor is left on the next content line, which may not be more indented than `n`.
  private mutating func valueOnLine(at v: Int, parentIndent n: Int) throws(GiveUp) -> YAMLNode {
    let value: YAMLNode
    if b[v] == UInt8(ascii: "|") {
      value = try literal(at: v, parentIndent: n)
    } else {
      value = try inlineValue(at: v)
      try advance()
    }
    if !atEnd && indent > n { throw GiveUp() }
    return value
  }

  /// Refuses a key a mapping (its pairs from `first`) already holds (as ``TreeBuilder`` looks:
  /// ``MoveStack/holdsKey(_:fingerprint:from:fingerprints:keys:)``).
  private func checkDuplicate(_ key: String, _ print: UInt64, first: Int, keys: inout Set<String>?) throws(GiveUp) {
    if pairs.holdsKey(key, fingerprint: print, from: first, fingerprints: fingerprints, keys: &keys) { throw GiveUp() }
  }

  /// A block sequence whose `-` sit at column `indent`.
  private mutating func sequence(indent n: Int) throws(GiveUp) -> YAMLNode {
    try open()
    let first = items.count
    let seqMark = mark(start + n)
    while !atEnd && !isDocumentStart && indent == n && isSequenceEntry {
      var v = start + n + 1
      while v < end && b[v] == Self.space { v += 1 }
      // An item on the lines below, or a sequence in a sequence: libyaml's.
      guard v < end, b[v] != Self.hash, !(b[v] == Self.dash && (v + 1 == end || b[v + 1] == Self.space)) else { throw GiveUp() }
      if keyEnd(at: v) != nil {
        items.push(try mapping(indent: v - start, firstKey: v))
      } else {
        items.push(try valueOnLine(at: v, parentIndent: n))
      }
    }
    depth -= 1
    return YAMLNode(.sequence(items.take(from: first)), mark: seqMark)
  }

  // MARK: Values on one line

  /// The value starting at `v` on the current line, which must hold nothing after it but a
  /// comment.
  private mutating func inlineValue(at v: Int) throws(GiveUp) -> YAMLNode {
    let c = b[v]
    switch c {
    case UInt8(ascii: "\""), UInt8(ascii: "'"):
      let (node, after) = try quoted(at: v)
      guard restIsEmpty(from: after) else { throw GiveUp() }
      return node
    case UInt8(ascii: "{"), UInt8(ascii: "["):
      let (node, after) = try flow(at: v)
      guard restIsEmpty(from: after) else { throw GiveUp() }
      return node
    default:
      return try plain(at: v)
    }
  }

  /// A literal block scalar (`|`, or `|-` without its last line break) whose header is at `v`,
  /// the value of a collection at column `n`: its lines are those below, indented as the first
  /// of them (more than `n`); the cursor is left on the line after it. libyaml's rules, for the
  /// lines this reader accepts: each line's text from that indentation on, joined by line
  /// feeds; blank lines between them kept; the last line's break kept (`|`, when it has one) or
  /// not (`|-`); blank lines after it dropped. Given up on: `|+`, an indentation digit, blank
  /// lines before the first line or spaces beyond the indentation on a blank line, and an empty
  /// scalar (libyaml's to read).
  private mutating func literal(at v: Int, parentIndent n: Int) throws(GiveUp) -> YAMLNode {
    var h = v + 1
    let strip = h < end && b[h] == Self.dash
    if strip { h += 1 }
    guard restIsEmpty(from: h) else { throw GiveUp() }
    let scalarMark = mark(v)
    var text: [UInt8] = []
    var contentIndent = -1
    var blankLines = 0
    var lastEndsLine = false
    var p = next
    let total = b.count
    while p < total {
      let (e, i) = lineAt(p)
      if i == e {
        guard contentIndent >= 0, i - p <= contentIndent else { throw GiveUp() }
        blankLines += 1
      } else {
        if contentIndent < 0 {
          guard i - p > n else { throw GiveUp() }
          contentIndent = i - p
        } else if i - p < contentIndent {
          break  // the scalar ended on the line before
        } else {
          text.append(Self.newline)
        }
        for _ in 0..<blankLines { text.append(Self.newline) }
        blankLines = 0
        text.append(contentsOf: UnsafeBufferPointer(rebasing: b[(p + contentIndent)..<e]))
        lastEndsLine = e < total
      }
      line += 1
      p = e + 1
    }
    guard contentIndent >= 0 else { throw GiveUp() }
    if !strip && lastEndsLine { text.append(Self.newline) }
    try count()
    next = min(p, total)
    try advance()
    return YAMLNode(.scalar(YAMLScalar(String(decoding: text, as: UTF8.self), style: .literal)), mark: scalarMark)
  }

  /// A plain scalar running to the line's end or a comment (quotes, `{` and `[` are
  /// ``inlineValue(at:)``'s).
  private mutating func plain(at v: Int) throws(GiveUp) -> YAMLNode {
    let c = b[v]
    switch c {
    case UInt8(ascii: "-"):
      // `-x` is a scalar; `- ` or a lone `-` is a sequence entry, not allowed here
      guard v + 1 < end, b[v + 1] != Self.space else { throw GiveUp() }
    case UInt8(ascii: "?"), UInt8(ascii: ":"), UInt8(ascii: ","), UInt8(ascii: "]"), UInt8(ascii: "}"),
      UInt8(ascii: "#"), UInt8(ascii: "&"), UInt8(ascii: "*"), UInt8(ascii: "!"), UInt8(ascii: "|"), UInt8(ascii: ">"),
      UInt8(ascii: "%"), UInt8(ascii: "@"), UInt8(ascii: "`"):
      throw GiveUp()
    default: break
    }
    var i = v + 1
    var last = v  // the last non-space byte
    while i < end {
      let x = b[i]
      if x == Self.hash && b[i - 1] == Self.space { break }
      if x == Self.colon && (i + 1 == end || b[i + 1] == Self.space) { throw GiveUp() }
      if x != Self.space { last = i }
      i += 1
    }
    try count()
    let text = String(decoding: UnsafeBufferPointer(rebasing: b[v...last]), as: UTF8.self)
    return YAMLNode(.scalar(YAMLScalar(text, style: .plain)), mark: mark(v))
  }

  /// A quoted scalar closed on the current line, without escapes (`\` in double quotes, `''` in
  /// single ones); and where the line goes on after it.
  private mutating func quoted(at v: Int) throws(GiveUp) -> (YAMLNode, Int) {
    let q = b[v]
    var i = v + 1
    while i < end && b[i] != q {
      if b[i] == UInt8(ascii: "\\") && q == UInt8(ascii: "\"") { throw GiveUp() }
      i += 1
    }
    guard i < end else { throw GiveUp() }
    if q == UInt8(ascii: "'") && i + 1 < end && b[i + 1] == q { throw GiveUp() }
    try count()
    let text = String(decoding: UnsafeBufferPointer(rebasing: b[(v + 1)..<i]), as: UTF8.self)
    let style: ScalarStyle = q == UInt8(ascii: "'") ? .singleQuoted : .doubleQuoted
    return (YAMLNode(.scalar(YAMLScalar(text, style: style)), mark: mark(v)), i + 1)
  }

  /// A one-line flow mapping or sequence of plain words and quoted scalars (``flowScalar(at:)``),
  /// entries separated by `,` and spaces; and where the line goes on after it.
  private mutating func flow(at v: Int) throws(GiveUp) -> (YAMLNode, Int) {
    let isMapping = b[v] == UInt8(ascii: "{")
    let close = isMapping ? UInt8(ascii: "}") : UInt8(ascii: "]")
    try open()
    let first = isMapping ? pairs.count : items.count
    let flowMark = mark(v)
    var keys: Set<String>? = nil
    var i = v + 1
    if i < end && b[i] == close {
      i += 1
    } else {
      while true {
        while i < end && b[i] == Self.space { i += 1 }
        guard i < end else { throw GiveUp() }
        let (entry, afterEntry) = try flowScalar(at: i)
        i = afterEntry
        if isMapping {
          // `key: value`; the key a plain word
          guard entry.scalar?.style == .plain, i + 1 < end, b[i] == Self.colon, b[i + 1] == Self.space,
            let key = entry.scalar?.text
          else { throw GiveUp() }
          i += 2
          while i < end && b[i] == Self.space { i += 1 }
          guard i < end else { throw GiveUp() }
          let (value, afterValue) = try flowScalar(at: i)
          i = afterValue
          let print = YAMLPair.keyFingerprint(key)
          try checkDuplicate(key, print, first: first, keys: &keys)
          pairs.push(YAMLPair(key: key, keyMark: entry.mark, value: value))
          fingerprints.append(print)
        } else {
          items.push(entry)
        }
        while i < end && b[i] == Self.space { i += 1 }
        guard i < end else { throw GiveUp() }
        if b[i] == close {
          i += 1
          break
        }
        // `,` then another entry (a trailing `,` is libyaml's)
        guard b[i] == UInt8(ascii: ","), i + 1 < end, b[i + 1] == Self.space else { throw GiveUp() }
        i += 1
      }
    }
    depth -= 1
    if isMapping {
      fingerprints.removeLast(fingerprints.count - first)
      return (YAMLNode(.mapping(pairs.take(from: first)), mark: flowMark), i)
    }
    return (YAMLNode(.sequence(items.take(from: first)), mark: flowMark), i)
  }

  /// A scalar inside a flow collection: a quoted one (``quoted(at:)``) or a plain word (letters,
  /// digits, `_ . / -`, not starting with `-`).
  private mutating func flowScalar(at i: Int) throws(GiveUp) -> (YAMLNode, Int) {
    if b[i] == UInt8(ascii: "\"") || b[i] == UInt8(ascii: "'") { return try quoted(at: i) }
    let e = Self.wordEnd(b, from: i, to: end)
    guard e > i, b[i] != Self.dash else { throw GiveUp() }
    try count()
    let text = String(decoding: UnsafeBufferPointer(rebasing: b[i..<e]), as: UTF8.self)
    return (YAMLNode(.scalar(YAMLScalar(text, style: .plain)), mark: mark(i)), e)
  }

  /// Where a run of word bytes (letters, digits, `_ . / -`) starting at `i` ends.
  @inline(__always)
  private static func wordEnd(_ b: UnsafeBufferPointer<UInt8>, from i: Int, to end: Int) -> Int {
    var j = i
    while j < end {
      let c = b[j]
      let isWord =
        (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
        || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || c == UInt8(ascii: "_") || c == UInt8(ascii: ".")
        || c == UInt8(ascii: "/") || c == Self.dash
      if !isWord { break }
      j += 1
    }
    return j
  }
}
