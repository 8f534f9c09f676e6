import CYAML
import Model

/// A YAML problem in a manifest or a stored object: where libyaml (or the reader) stopped, and why.
struct ManifestYAMLError: Error, CustomStringConvertible {
  var file: String
  var line: Int
  var column: Int
  /// The problem without position (`mapping values are not allowed in this context`).
  var problem: String
  /// Whether libyaml's parser or scanner refused the text (kops prints these without a prefix).
  var isSyntax: Bool

  /// `file:line:col: error: message`, as hk's diagnostics are printed (what `decodeStored` reports).
  var description: String {
    "\(file):\(line):\(column): error: " + (isSyntax ? "YAML syntax: " : "") + problem
  }
}

/// fake-kops's own reading of YAML: libyaml's event stream, pulled one event at a time by a
/// recursive descent into ``YAMLNode`` trees.
///
/// Independent of hk's loader (`Config.YAMLParser`) on purpose: fake-kops stands for kops at hk's
/// boundary, so a bug in hk's parser must not be repeated by the double that checks hk's output.
/// Refuses what kops's decoder would (syntax, encoding, undefined aliases, complex or duplicate
/// keys) and, so that a hostile manifest cannot exhaust the double, deep nesting and alias bombs.
enum ManifestReader {
  static let maxDepth = 128
  static let maxNodes = 1_000_000

  /// Every document of `text`; an empty document is a null scalar.
  static func documents(_ text: String, file: String) throws(ManifestYAMLError) -> [YAMLNode] {
    let bytes = Array(text.utf8)
    guard !bytes.isEmpty else { return [] }
    let result: Result<[YAMLNode], ManifestYAMLError> = bytes.withUnsafeBufferPointer { buffer in
      guard let base = buffer.baseAddress else { return .success([]) }
      // On the heap, never copied: libyaml's string reader points back at the parser itself.
      let parser = UnsafeMutablePointer<yaml_parser_t>.allocate(capacity: 1)
      defer { parser.deallocate() }
      guard yaml_parser_initialize(parser) == 1 else {
        return .failure(ManifestYAMLError(file: file, line: 1, column: 1, problem: "libyaml could not start", isSyntax: false))
      }
      defer { yaml_parser_delete(parser) }
      yaml_parser_set_input_string(parser, base, buffer.count)
      yaml_parser_set_encoding(parser, YAML_UTF8_ENCODING)
      var reader = EventReader(parser: parser, file: file, bytes: bytes)
      do throws(ManifestYAMLError) {
        return .success(try reader.stream())
      } catch {
        return .failure(error)
      }
    }
    return try result.get()
  }
}

/// One pass over libyaml's events; `parser` is owned by ``ManifestReader/documents(_:file:)``.
private struct EventReader {
  let parser: UnsafeMutablePointer<yaml_parser_t>
  let file: String
  let bytes: [UInt8]
  var anchors: [String: (node: YAMLNode, size: Int)] = [:]
  var nodes = 0

  /// What one event said, copied out of libyaml's buffers before the event is deleted.
  enum Event {
    case streamEnd, documentStart, documentEnd
    case scalar(YAMLScalar, anchor: String?, Mark)
    case alias(String, Mark)
    case sequenceStart(anchor: String?, Mark)
    case mappingStart(anchor: String?, Mark)
    case collectionEnd
    case other
  }

  mutating func stream() throws(ManifestYAMLError) -> [YAMLNode] {
    var documents: [YAMLNode] = []
    while true {
      switch try next() {
      case .streamEnd: return documents
      case .documentStart:
        anchors = [:]
        var root: YAMLNode? = nil
        while true {
          let event = try next()
          if case .documentEnd = event { break }
          if case .streamEnd = event { break }
          root = try node(from: event, depth: 0)
        }
        documents.append(root ?? YAMLNode(.scalar(YAMLScalar(""))))
      default: continue
      }
    }
  }

  /// The node that `event` starts (reading its children for a collection).
  mutating func node(from event: Event, depth: Int) throws(ManifestYAMLError) -> YAMLNode {
    switch event {
    case .scalar(let scalar, let anchor, let mark):
      try budget(1, at: mark)
      let n = YAMLNode(.scalar(scalar), mark: mark)
      if let anchor { anchors[anchor] = (n, 1) }
      return n
    case .alias(let name, let mark):
      guard let target = anchors[name] else {
        throw failure("alias '*\(name)' names no anchor defined before it", at: mark)
      }
      try budget(target.size, at: mark)
      var n = target.node
      n.mark = mark
      return n
    case .sequenceStart(let anchor, let mark):
      try enter(depth, at: mark)
      let start = nodes
      var items: [YAMLNode] = []
      while true {
        let child = try next()
        if case .collectionEnd = child { break }
        items.append(try node(from: child, depth: depth + 1))
      }
      let n = YAMLNode(.sequence(items), mark: mark)
      if let anchor { anchors[anchor] = (n, nodes - start + 1) }
      return n
    case .mappingStart(let anchor, let mark):
      try enter(depth, at: mark)
      let start = nodes
      var pairs: [YAMLPair] = []
      var seen: [String: Mark] = [:]
      while true {
        let keyEvent = try next()
        if case .collectionEnd = keyEvent { break }
        let key = try node(from: keyEvent, depth: depth + 1)
        guard case .scalar(let keyScalar) = key.content else {
          throw failure("a mapping key must be a scalar; complex keys are not supported", at: key.mark)
        }
        if let first = seen[keyScalar.text] {
          throw failure(
            "duplicate key '\(keyScalar.text)' (first at line \(first.line), column \(first.column)); keep one of them",
            at: key.mark)
        }
        seen[keyScalar.text] = key.mark
        let value = try node(from: try next(), depth: depth + 1)
        pairs.append(YAMLPair(key: keyScalar.text, keyMark: key.mark, value: value))
      }
      let n = YAMLNode(.mapping(pairs), mark: mark)
      if let anchor { anchors[anchor] = (n, nodes - start + 1) }
      return n
    default:
      return YAMLNode(.scalar(YAMLScalar("")))
    }
  }

  mutating func enter(_ depth: Int, at mark: Mark) throws(ManifestYAMLError) {
    if depth >= ManifestReader.maxDepth {
      throw failure("nesting deeper than \(ManifestReader.maxDepth) levels; hk refuses such documents", at: mark)
    }
    try budget(1, at: mark)
  }

  mutating func budget(_ n: Int, at mark: Mark) throws(ManifestYAMLError) {
    nodes += n
    if nodes > ManifestReader.maxNodes {
      throw failure("document expands to more than \(ManifestReader.maxNodes) nodes (an alias bomb?); remove the aliases", at: mark)
    }
  }

  func failure(_ problem: String, at mark: Mark) -> ManifestYAMLError {
    ManifestYAMLError(file: file, line: Int(mark.line), column: Int(mark.column), problem: problem, isSyntax: false)
  }

  func mark(_ m: yaml_mark_t) -> Mark { Mark(file: file, line: Int(m.line) + 1, column: Int(m.column) + 1) }

  /// The next event, or libyaml's error.
  mutating func next() throws(ManifestYAMLError) -> Event {
    var event = yaml_event_t()
    guard yaml_parser_parse(parser, &event) == 1 else { throw libyamlError() }
    defer { yaml_event_delete(&event) }
    let at = mark(event.start_mark)
    switch event.type {
    case YAML_STREAM_END_EVENT: return .streamEnd
    case YAML_DOCUMENT_START_EVENT: return .documentStart
    case YAML_DOCUMENT_END_EVENT: return .documentEnd
    case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT: return .collectionEnd
    case YAML_ALIAS_EVENT: return .alias(Self.text(event.data.alias.anchor) ?? "", at)
    case YAML_SEQUENCE_START_EVENT: return .sequenceStart(anchor: Self.text(event.data.sequence_start.anchor), at)
    case YAML_MAPPING_START_EVENT: return .mappingStart(anchor: Self.text(event.data.mapping_start.anchor), at)
    case YAML_SCALAR_EVENT:
      let s = event.data.scalar
      let value = s.value.map { String(decoding: UnsafeBufferPointer(start: $0, count: s.length), as: UTF8.self) } ?? ""
      let style: ScalarStyle =
        switch s.style {
        case YAML_SINGLE_QUOTED_SCALAR_STYLE: .singleQuoted
        case YAML_DOUBLE_QUOTED_SCALAR_STYLE: .doubleQuoted
        case YAML_LITERAL_SCALAR_STYLE: .literal
        case YAML_FOLDED_SCALAR_STYLE: .folded
        default: .plain
        }
      let tag = Self.text(s.tag).flatMap { $0 == "!" ? nil : $0 }
      return .scalar(YAMLScalar(value, style: style, tag: tag), anchor: Self.text(s.anchor), at)
    default: return .other
    }
  }

  static func text(_ p: UnsafeMutablePointer<yaml_char_t>?) -> String? { p.map { String(cString: $0) } }

  /// libyaml's refusal: a reader (encoding) error at a byte offset, or a scanner/parser error at a mark.
  func libyamlError() -> ManifestYAMLError {
    let problem = parser.pointee.problem.map { String(cString: $0) } ?? "invalid YAML"
    guard parser.pointee.error == YAML_READER_ERROR else {
      let context = parser.pointee.context.map { String(cString: $0) + ", " } ?? ""
      let m = parser.pointee.problem_mark
      return ManifestYAMLError(
        file: file, line: Int(m.line) + 1, column: Int(m.column) + 1, problem: context + problem, isSyntax: true)
    }
    var message = problem
    if problem.contains("UTF-8") || problem.contains("octet") || problem.contains("Unicode") {
      message = "the file is not valid UTF-8 (\(problem)); save it as UTF-8"
    } else if problem.contains("control characters") {
      message = "\(problem) (a NUL byte or other control character); remove it"
    }
    // The position of the offending byte: lines by newline, columns by UTF-8 lead byte.
    let before = bytes.prefix(min(parser.pointee.problem_offset, bytes.count))
    let line = 1 + before.count { $0 == 10 }
    let lineStart = before.lastIndex(of: 10).map { $0 + 1 } ?? 0
    let column = 1 + before[lineStart...].count { $0 & 0xC0 != 0x80 }
    return ManifestYAMLError(file: file, line: line, column: column, problem: message, isSyntax: false)
  }
}
