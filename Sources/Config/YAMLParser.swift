import CYAML
import Model

/// Limits that keep hostile YAML from exhausting hk (alias bombs, deep nesting, huge files).
public struct YAMLLimits: Sendable {
  /// Largest file read, in bytes.
  public var maxBytes: Int
  /// Deepest nesting of collections.
  public var maxDepth: Int
  /// Most nodes a file may expand to, aliases counted at their expanded size.
  public var maxNodes: Int
  public init(maxBytes: Int = 8 << 20, maxDepth: Int = 128, maxNodes: Int = 1_000_000) {
    self.maxBytes = maxBytes
    self.maxDepth = maxDepth
    self.maxNodes = maxNodes
  }
  public static let `default` = YAMLLimits()
}

/// Parses YAML with the system libyaml's event API into ordered ``YAMLNode`` trees with marks.
///
/// Refuses, with a positioned diagnostic and never a crash: syntax errors, invalid UTF-8 and
/// control characters (libyaml's reader), duplicate keys, complex (collection) keys, undefined
/// aliases, nesting deeper than ``YAMLLimits/maxDepth`` and alias expansion beyond
/// ``YAMLLimits/maxNodes``.
public enum YAMLParser {
  /// Parses every document of `bytes`. Empty documents are returned as null scalars.
  public static func parse(
    _ bytes: [UInt8], file: String, limits: YAMLLimits = .default
  ) throws(DiagnosticError) -> [YAMLNode] {
    if bytes.count > limits.maxBytes {
      throw DiagnosticError(
        Diagnostic(
          .error, "file is \(bytes.count) bytes, over hk's limit of \(limits.maxBytes); split it or remove what kops does not need",
          at: Diagnostic.Location(file: file, line: 1, column: 1), rule: "yaml-size"))
    }
    // Plain block YAML (most files) is read without libyaml, to the same trees; anything else,
    // and every file with a problem, is libyaml's (``BlockYAMLReader``).
    if let docs = bytes.withUnsafeBufferPointer({ BlockYAMLReader.read($0, file: file, limits: limits) }) { return docs }
    return try parseWithLibyaml(bytes, file: file, limits: limits)
  }

  /// ``parse(_:file:limits:)`` by libyaml's events alone (the reference ``BlockYAMLReader`` is
  /// tested against). `bytes` must be within ``YAMLLimits/maxBytes``.
  static func parseWithLibyaml(
    _ bytes: [UInt8], file: String, limits: YAMLLimits = .default
  ) throws(DiagnosticError) -> [YAMLNode] {
    var builder = TreeBuilder(file: file, limits: limits, bytes: bytes)
    let result: Result<[YAMLNode], DiagnosticError> = bytes.withUnsafeBufferPointer { buf in
      var parser = yaml_parser_t()
      guard yaml_parser_initialize(&parser) == 1 else {
        return .failure(
          DiagnosticError(Diagnostic(.error, "libyaml could not start (out of memory)", at: Mark(file: file, line: 1, column: 1))))
      }
      defer { yaml_parser_delete(&parser) }
      // Empty input (no storage, so no base address) holds no document: libyaml's stream is then
      // just its start and end.
      guard let base = buf.baseAddress, buf.count > 0 else { return .success([]) }
      yaml_parser_set_input_string(&parser, base, buf.count)
      yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
      var event = yaml_event_t()
      while true {
        guard yaml_parser_parse(&parser, &event) == 1 else {
          return .failure(DiagnosticError(builder.libyamlError(parser)))
        }
        defer { yaml_event_delete(&event) }
        if event.type == YAML_STREAM_END_EVENT { break }
        do throws(Diagnostic) {
          try builder.handle(&event)
        } catch {
          return .failure(DiagnosticError(error))
        }
      }
      return .success(builder.documents)
    }
    return try result.get()
  }

  /// Parses a string (tests and small inputs).
  public static func parse(_ text: String, file: String, limits: YAMLLimits = .default) throws(DiagnosticError) -> [YAMLNode] {
    try parse(Array(text.utf8), file: file, limits: limits)
  }
}

private struct TreeBuilder {
  let file: FileID
  let limits: YAMLLimits
  let bytes: [UInt8]
  var documents: [YAMLNode] = []
  var anchors: [String: (node: YAMLNode, count: Int)] = [:]
  var nodeCount = 0

  /// A collection being built. Its pairs or items are those of ``pairs`` or ``items`` from
  /// `first` on (a nested collection's sit above them until it ends and takes them).
  struct Frame {
    var isMapping: Bool
    /// Where the collection's pairs (a mapping) or items (a sequence) start in their stack.
    var first: Int
    /// The keys of its pairs, kept once a mapping has ``MoveStack/linearKeyLimit`` of them (duplicate checks).
    var keys: Set<String>? = nil
    /// The key waiting for its value, its mark and ``Model/YAMLPair/keyFingerprint(_:)``.
    var pendingKey: (String, Mark, UInt64)? = nil
    var mark: Mark
    var anchor: String?
    /// `nodeCount` when the collection started (an anchor's expanded size).
    var start: Int
  }
  var stack: [Frame] = []
  var docRoot: YAMLNode? = nil
  /// The pairs and items of every open collection, innermost last: a collection's elements
  /// are moved out into an array of exactly their count when it ends, instead of each
  /// collection growing its own array by doubling (three or four allocations and copies for
  /// most, up to half of the last one unused, kept for the whole run).
  let pairs = MoveStack<YAMLPair>()
  let items = MoveStack<YAMLNode>()
  /// The ``Model/YAMLPair/keyFingerprint(_:)`` of each key in ``pairs`` (same positions): a duplicate key is
  /// looked for among these integers, the strings compared only when two are equal, instead of
  /// comparing every key with each one before it (a call each) or hashing all of a mapping's
  /// keys into a set.
  var fingerprints: [UInt64] = []

  /// This thread's key table (``StringInterner/shared``), looked up once per file.
  let interner = StringInterner.shared

  init(file: String, limits: YAMLLimits, bytes: [UInt8]) {
    self.file = FileID(file)
    self.limits = limits
    self.bytes = bytes
  }

  func mark(_ m: yaml_mark_t) -> Mark {
    Mark(fileID: file, line: Int(m.line) + 1, column: Int(m.column) + 1)
  }

  static func string(_ p: UnsafeMutablePointer<yaml_char_t>?, _ n: Int) -> String {
    guard let p, n > 0 else { return "" }
    return String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self)
  }

  /// A mapping key's text, shared with equal keys parsed before (``StringInterner``): the
  /// same few hundred keys make up most of every file. Values are not looked up: most long
  /// ones are ids and names of their environment, a lookup that finds nothing.
  func key(_ p: UnsafeMutablePointer<yaml_char_t>?, _ n: Int) -> String {
    guard let p, n > 0 else { return "" }
    return interner.string(UnsafeBufferPointer(start: p, count: n))
  }

  static func cString(_ p: UnsafeMutablePointer<yaml_char_t>?) -> String? {
    guard let p else { return nil }
    return String(cString: p)
  }

  mutating func handle(_ event: inout yaml_event_t) throws(Diagnostic) {
    switch event.type {
    case YAML_DOCUMENT_START_EVENT:
      docRoot = nil
      anchors.removeAll(keepingCapacity: true)
    case YAML_DOCUMENT_END_EVENT:
      documents.append(docRoot ?? YAMLNode(.scalar(YAMLScalar("")), mark: mark(event.start_mark)))
      docRoot = nil
    case YAML_SCALAR_EVENT:
      let s = event.data.scalar
      // A mapping's key without an anchor: only its text and mark are kept (no scalar is made;
      // a key is a string whatever its style or tag).
      if s.anchor == nil, let top = stack.indices.last, stack[top].isMapping, stack[top].pendingKey == nil {
        let m = mark(event.start_mark)
        try count(1, at: m)
        let print = s.value.map { YAMLPair.keyFingerprint(UnsafeBufferPointer(start: $0, count: s.length)) } ?? YAMLPair.keyFingerprint("")
        try addKey(key(s.value, s.length), fingerprint: print, mark: m)
        return
      }
      let text = Self.string(s.value, s.length)
      let style: ScalarStyle
      switch s.style {
      case YAML_SINGLE_QUOTED_SCALAR_STYLE: style = .singleQuoted
      case YAML_DOUBLE_QUOTED_SCALAR_STYLE: style = .doubleQuoted
      case YAML_LITERAL_SCALAR_STYLE: style = .literal
      case YAML_FOLDED_SCALAR_STYLE: style = .folded
      default: style = .plain
      }
      var tag: String? = nil
      if let t = Self.cString(s.tag), t != "!" { tag = t }
      let m = mark(event.start_mark)
      let node = YAMLNode(.scalar(YAMLScalar(text, style: style, tag: tag)), mark: m)
      try count(1, at: m)
      if let a = Self.cString(s.anchor) { anchors[a] = (node, 1) }
      try add(node, keyText: text, isScalar: true)
    case YAML_ALIAS_EVENT:
      let m = mark(event.start_mark)
      let name = Self.cString(event.data.alias.anchor) ?? ""
      guard let target = anchors[name] else {
        throw Diagnostic(.error, "alias '*\(name)' names no anchor defined before it", at: m, rule: "yaml-alias")
      }
      try count(target.count, at: m)
      var node = target.node
      node.mark = m
      try add(node, keyText: target.node.scalar?.text, isScalar: target.node.scalar != nil)
    case YAML_SEQUENCE_START_EVENT:
      let m = mark(event.start_mark)
      try checkDepth(m)
      try count(1, at: m)
      stack.append(
        Frame(isMapping: false, first: items.count, mark: m, anchor: Self.cString(event.data.sequence_start.anchor), start: nodeCount))
    case YAML_MAPPING_START_EVENT:
      let m = mark(event.start_mark)
      try checkDepth(m)
      try count(1, at: m)
      stack.append(
        Frame(isMapping: true, first: pairs.count, mark: m, anchor: Self.cString(event.data.mapping_start.anchor), start: nodeCount))
    case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
      guard let frame = stack.popLast() else { return }
      if frame.isMapping { fingerprints.removeLast(fingerprints.count - frame.first) }
      let node = YAMLNode(
        frame.isMapping ? .mapping(pairs.take(from: frame.first)) : .sequence(items.take(from: frame.first)), mark: frame.mark)
      if let anchor = frame.anchor { anchors[anchor] = (node, nodeCount - frame.start + 1) }
      try add(node, keyText: nil, isScalar: false)
    default:
      break
    }
  }

  mutating func checkDepth(_ m: Mark) throws(Diagnostic) {
    if stack.count >= limits.maxDepth {
      throw Diagnostic(.error, "nesting deeper than \(limits.maxDepth) levels; hk refuses such documents", at: m, rule: "yaml-depth")
    }
  }

  mutating func count(_ n: Int, at m: Mark) throws(Diagnostic) {
    nodeCount += n
    if nodeCount > limits.maxNodes {
      throw Diagnostic(
        .error, "document expands to more than \(limits.maxNodes) nodes (an alias bomb?); remove the aliases",
        at: m, rule: "yaml-alias-bomb")
    }
  }

  /// `node` is taken (`consuming`): it is moved into its parent's pairs or items, not copied
  /// (a copy retained its text or collection once more for each of a file's nodes).
  mutating func add(_ node: consuming YAMLNode, keyText: String?, isScalar: Bool) throws(Diagnostic) {
    let top = stack.count - 1
    guard top >= 0 else {
      docRoot = node
      return
    }
    guard stack[top].isMapping else {
      items.push(node)
      return
    }
    // (moved out of the frame: no copy of the key to release right after)
    if let (key, keyMark, print) = stack[top].pendingKey.take() {
      pairs.push(YAMLPair(key: key, keyMark: keyMark, value: node))
      fingerprints.append(print)
      return
    }
    guard isScalar, let key = keyText else {
      throw Diagnostic(.error, "a mapping key must be a scalar; complex keys are not supported", at: node.mark, rule: "yaml-complex-key")
    }
    try addKey(key, fingerprint: YAMLPair.keyFingerprint(key), mark: node.mark)
  }

  /// Makes `key` (at `mark`) the pending key of the mapping on top of the stack, refusing a
  /// duplicate.
  mutating func addKey(_ key: String, fingerprint print: UInt64, mark: Mark) throws(Diagnostic) {
    let top = stack.count - 1
    let first = stack[top].first
    let duplicate = pairs.holdsKey(key, fingerprint: print, from: first, fingerprints: fingerprints, keys: &stack[top].keys)
    if duplicate {
      let first = pairs.elements(from: first) { $0.first { $0.key == key }?.keyMark }
      let firstAt = first.map { " (first at line \($0.line), column \($0.column))" } ?? ""
      throw Diagnostic(
        .error, "duplicate key '\(key)'\(firstAt); keep one of them", at: mark, rule: "yaml-duplicate-key")
    }
    stack[top].pendingKey = (key, mark, print)
  }

  func libyamlError(_ parser: yaml_parser_t) -> Diagnostic {
    let problem = parser.problem.map { String(cString: $0) } ?? "invalid YAML"
    var m: Mark
    if parser.error == YAML_READER_ERROR {
      m = position(ofByte: parser.problem_offset)
      var message = problem
      if problem.contains("UTF-8") || problem.contains("octet") || problem.contains("Unicode") {
        message = "the file is not valid UTF-8 (\(problem)); save it as UTF-8"
      } else if problem.contains("control characters") {
        message = "\(problem) (a NUL byte or other control character); remove it"
      }
      return Diagnostic(.error, message, at: m, rule: "yaml-encoding")
    }
    m = mark(parser.problem_mark)
    var message = problem
    if let ctx = parser.context.map({ String(cString: $0) }) {
      message = "\(ctx), \(problem)"
    }
    return Diagnostic(.error, "YAML syntax: \(message)", at: m, rule: "yaml-syntax")
  }

  func position(ofByte offset: Int) -> Mark {
    var line = 1
    var col = 1
    var i = 0
    let end = min(offset, bytes.count)
    while i < end {
      let b = bytes[i]
      if b == 10 {
        line += 1
        col = 1
      } else if b & 0xC0 != 0x80 {
        col += 1
      }
      i += 1
    }
    return Mark(fileID: file, line: line, column: col)
  }
}

/// A stack of values that hands its top elements out by moving them (no copy, no retain) into
/// an array of exactly their count. Whatever is left when it goes is destroyed then (a parse
/// that throws half-way).
final class MoveStack<Element> {
  private var base: UnsafeMutablePointer<Element>
  private var capacity: Int
  private(set) var count = 0

  init(capacity: Int = 64) {
    self.capacity = capacity
    base = .allocate(capacity: capacity)
  }

  deinit {
    base.deinitialize(count: count)
    base.deallocate()
  }

  func push(_ element: consuming Element) {
    if count == capacity {
      let bigger = UnsafeMutablePointer<Element>.allocate(capacity: capacity * 2)
      bigger.moveInitialize(from: base, count: count)
      base.deallocate()
      base = bigger
      capacity *= 2
    }
    (base + count).initialize(to: element)
    count += 1
  }

  /// The elements from `first` on, moved out in order; the stack then ends before `first`.
  ///
  /// The array is reserved at their count and each element appended by moving it: the
  /// standard library's `init(unsafeUninitializedCapacity:)` allocates through a function it
  /// does not inline, which looks the array's storage class up at run time for an element type
  /// it has no ready copy of (about 380 instructions, for every mapping and list of every file:
  /// 1.5 % of `hk plan`), while `reserveCapacity` is specialized here.
  func take(from first: Int) -> [Element] {
    let n = count - first
    guard n > 0 else { return [] }
    let source = base + first
    var taken: [Element] = []
    taken.reserveCapacity(n)
    for i in 0..<n { taken.append((source + i).move()) }
    count = first
    return taken
  }

  /// `body` applied to the elements from `first` on (borrowed).
  func elements<R>(from first: Int, _ body: (UnsafeBufferPointer<Element>) -> R) -> R {
    body(UnsafeBufferPointer(start: base + first, count: count - first))
  }
}

extension MoveStack where Element == YAMLPair {
  /// Mappings of up to this many keys are checked for a duplicate by a scan of their
  /// fingerprints (kops's largest have a few dozen keys); larger ones keep a set of their keys
  /// (a hostile file of many keys stays linear, not quadratic).
  static var linearKeyLimit: Int { 64 }

  /// Whether the mapping whose pairs start at `first` already holds `key`. `fingerprints` holds
  /// each pair's ``Model/YAMLPair/keyFingerprint(_:)`` at the same position: a duplicate is
  /// looked for among these integers, the strings compared only when two are equal, up to
  /// ``linearKeyLimit`` keys; from there on in a set of the keys (`keys`, made on first need and
  /// kept by the caller for the mapping), into which `key` is then inserted.
  func holdsKey(_ key: String, fingerprint print: UInt64, from first: Int, fingerprints: [UInt64], keys: inout Set<String>?) -> Bool {
    if count - first >= Self.linearKeyLimit {
      if keys == nil { keys = elements(from: first) { Set($0.lazy.map(\.key)) } }
      return keys?.insert(key).inserted == false
    }
    return fingerprints.withUnsafeBufferPointer { prints in
      elements(from: first) { pairs in
        var i = first
        while i < prints.count {
          if prints[i] == print && pairs[i - first].key == key { return true }
          i += 1
        }
        return false
      }
    }
  }
}
