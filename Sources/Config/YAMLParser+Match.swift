import CYAML
import Model

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension YAMLParser {
  /// Whether parsing `bytes` would give exactly one document that is `tree` node for node:
  /// the same keys in the same order, the same items, every scalar with the same text, tag and
  /// resolved value, and nothing ``parse(_:file:limits:)`` would refuse. Marks, and the style
  /// of a scalar whose value does not depend on it (`a` and `"a"`), may differ: nothing reads
  /// them from a recorded object (equality, diffs and the emitter go by text and value).
  ///
  /// For text hk wrote itself from a tree it holds again (the recorded objects of a revision
  /// against the desired ones, DESIGN.md §5): when it matches, the tree is the parse, without
  /// building it. Text that is the emitter's writing of `tree` is read without libyaml
  /// (``Model/YAMLEmitter/read(_:asEmissionOf:maxChangedScalars:maxDepth:maxNodes:)``, which
  /// answers only where the parse is certain); otherwise it reads libyaml's events and compares
  /// each with the tree as it goes. The first difference, an anchor or alias, a second
  /// document, a libyaml error or a limit that the parse would enforce answers false (the
  /// caller then parses), so false never means the text is bad and true only ever means the
  /// parse would have given `tree`.
  public static func matches(_ text: String, _ tree: YAMLNode, limits: YAMLLimits = .default) -> Bool {
    var text = text
    return text.withUTF8 { match(bytes: $0, tree, limits: limits, maxChangedScalars: 0) != nil }
  }

  /// ``matches(_:_:limits:)`` on bytes.
  public static func matches(_ bytes: [UInt8], _ tree: YAMLNode, limits: YAMLLimits = .default) -> Bool {
    bytes.withUnsafeBufferPointer { match(bytes: $0, tree, limits: limits, maxChangedScalars: 0) != nil }
  }

  /// The tree parsing `text` gives when it is `tree` but for at most `maxChangedScalars` scalar
  /// values (not keys): `tree` with those scalars replaced by the ones the parse builds (same
  /// text, style and tag), and how many were replaced; nil when anything else differs (the
  /// structure, a key, an anchor or alias, a second document, a libyaml error, a limit), as
  /// for ``matches(_:_:limits:)``.
  ///
  /// For a recorded object that an edit of the desired files changed in a few values (a
  /// version, a machine type): the parse is then not built, and the subtrees without a
  /// replaced scalar keep `tree`'s storage. Like ``matches(_:_:limits:)``, the result is the
  /// parse's tree, marks (a replaced scalar keeps the mark of the one it replaces) and the
  /// quoting of equal values aside.
  public static func matching(
    _ text: String, _ tree: YAMLNode, maxChangedScalars: Int, limits: YAMLLimits = .default
  ) -> (tree: YAMLNode, changedScalars: Int)? {
    var text = text
    return text.withUTF8 { match(bytes: $0, tree, limits: limits, maxChangedScalars: maxChangedScalars) }
  }

  /// ``matching(_:_:maxChangedScalars:limits:)`` decided by libyaml's events alone, without
  /// reading the text as the emitter's writing of `tree` first (tests compare the two).
  static func matchingByEvents(
    _ text: String, _ tree: YAMLNode, maxChangedScalars: Int, limits: YAMLLimits = .default
  ) -> (tree: YAMLNode, changedScalars: Int)? {
    var text = text
    return text.withUTF8 { match(bytes: $0, tree, limits: limits, maxChangedScalars: maxChangedScalars, readingEmission: false) }
  }

  private static func match(
    bytes buf: UnsafeBufferPointer<UInt8>, _ tree: YAMLNode, limits: YAMLLimits, maxChangedScalars: Int, readingEmission: Bool = true
  ) -> (tree: YAMLNode, changedScalars: Int)? {
    guard buf.count <= limits.maxBytes, let base = buf.baseAddress, buf.count > 0 else { return nil }
    // Most recorded objects are the emitter's text of the desired tree, some with a value or
    // two changed: read as that, without libyaml, when the reading is certain to be the parse's
    // (``YAMLEmitter/read(_:asEmissionOf:maxChangedScalars:maxDepth:maxNodes:)``); libyaml
    // decides anything else.
    if readingEmission {
      switch YAMLEmitter.read(
        buf, asEmissionOf: tree, maxChangedScalars: maxChangedScalars, maxDepth: limits.maxDepth, maxNodes: limits.maxNodes)
      {
      case .read(let patches):
        var result = tree
        for p in patches { TreeMatcher.replace(&result, at: p.path[...], with: p.node) }
        return (result, patches.count)
      case .tooManyChanges:
        return nil
      case .unknown:
        break
      }
    }
    var parser = yaml_parser_t()
    guard yaml_parser_initialize(&parser) == 1 else { return nil }
    defer { yaml_parser_delete(&parser) }
    yaml_parser_set_input_string(&parser, base, buf.count)
    yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
    var matcher = TreeMatcher(root: tree, limits: limits, maxPatches: maxChangedScalars)
    var event = yaml_event_t()
    while true {
      guard yaml_parser_parse(&parser, &event) == 1 else { return nil }
      defer { yaml_event_delete(&event) }
      if event.type == YAML_STREAM_END_EVENT {
        guard matcher.isComplete else { return nil }
        var result = tree
        for p in matcher.patches { TreeMatcher.replace(&result, at: p.path[...], with: p.node) }
        return (result, matcher.patches.count)
      }
      guard matcher.handle(&event) else { return nil }
    }
  }
}

/// Compares libyaml's events with a tree, the way `TreeBuilder` would build one from them.
private struct TreeMatcher {
  /// A collection of the tree being matched: its pairs or items and how far the events got.
  struct Frame {
    var pairs: [YAMLPair]
    var items: [YAMLNode]
    var isMapping: Bool
    var next = 0
    /// In a mapping: the key of `pairs[next]` was seen, its value comes next.
    var sawKey = false
  }

  /// A scalar of the text that differs from the tree's: where (the indices of the pairs and
  /// items from the root) and the scalar the parse builds there.
  struct Patch {
    var path: [Int]
    var node: YAMLNode
  }

  let root: YAMLNode
  let limits: YAMLLimits
  /// How many differing scalars may be patched (0: the text must match exactly).
  let maxPatches: Int
  var stack: [Frame] = []
  var documents = 0
  var rootDone = false
  var nodeCount = 0
  var patches: [Patch] = []

  init(root: YAMLNode, limits: YAMLLimits, maxPatches: Int) {
    self.root = root
    self.limits = limits
    self.maxPatches = maxPatches
  }

  /// Replaces the node at `path` (walked by a match, so every index exists) in `node`.
  static func replace(_ node: inout YAMLNode, at path: ArraySlice<Int>, with new: YAMLNode) {
    guard let i = path.first else {
      node = new
      return
    }
    switch node.content {
    case .mapping(var pairs):
      replace(&pairs[i].value, at: path.dropFirst(), with: new)
      node.content = .mapping(pairs)
    case .sequence(var items):
      replace(&items[i], at: path.dropFirst(), with: new)
      node.content = .sequence(items)
    case .scalar:
      break
    }
  }

  /// One document whose root was matched whole.
  var isComplete: Bool { documents == 1 && rootDone && stack.isEmpty }

  /// The tree node the next node event must match, or nil when none may come. A mapping's key
  /// is matched apart (``key(_:)``).
  func expected() -> YAMLNode? {
    guard let top = stack.last else { return rootDone ? nil : root }
    if top.isMapping {
      guard top.sawKey, top.next < top.pairs.count else { return nil }
      return top.pairs[top.next].value
    }
    return top.next < top.items.count ? top.items[top.next] : nil
  }

  var expectsKey: Bool { stack.last.map { $0.isMapping && !$0.sawKey } ?? false }

  /// The node ends: the enclosing collection moves on.
  mutating func advance() {
    guard !stack.isEmpty else {
      rootDone = true
      return
    }
    stack[stack.count - 1].next += 1
    stack[stack.count - 1].sawKey = false
  }

  mutating func count() -> Bool {
    nodeCount += 1
    return nodeCount <= limits.maxNodes
  }

  mutating func handle(_ event: inout yaml_event_t) -> Bool {
    switch event.type {
    case YAML_STREAM_START_EVENT:
      return true
    case YAML_DOCUMENT_START_EVENT:
      documents += 1
      return documents == 1
    case YAML_DOCUMENT_END_EVENT:
      return rootDone && stack.isEmpty
    case YAML_SCALAR_EVENT:
      let s = event.data.scalar
      guard s.anchor == nil, count() else { return false }
      if expectsKey { return key(s.value, s.length) }
      guard let node = expected(), case .scalar(let x) = node.content else { return false }
      let style: ScalarStyle
      switch s.style {
      case YAML_SINGLE_QUOTED_SCALAR_STYLE: style = .singleQuoted
      case YAML_DOUBLE_QUOTED_SCALAR_STYLE: style = .doubleQuoted
      case YAML_LITERAL_SCALAR_STYLE: style = .literal
      case YAML_FOLDED_SCALAR_STYLE: style = .folded
      default: style = .plain
      }
      var tag: String? = nil
      if let t = s.tag {
        let text = String(cString: t)
        if text != "!" { tag = text }
      }
      // The same text and tag written in another style (hk's emitter writes a string plain
      // where it reads back as that string, a file may quote it): the scalar the parse would
      // build then differs from the tree's in its style alone, and only when it resolves to the
      // same value is it taken as the tree's.
      if Self.same(s.value, s.length, x.text), tag == x.tag,
        style == x.style || YAMLScalar(x.text, style: style, tag: tag).value == x.value
      {
        advance()
        return true
      }
      // Another scalar: the one the parse builds (`TreeBuilder` makes it so), if allowed.
      guard patches.count < maxPatches else { return false }
      let text = s.length > 0 && s.value != nil ? String(decoding: UnsafeBufferPointer(start: s.value, count: s.length), as: UTF8.self) : ""
      patches.append(Patch(path: stack.map(\.next), node: YAMLNode(.scalar(YAMLScalar(text, style: style, tag: tag)), mark: node.mark)))
      advance()
      return true
    case YAML_MAPPING_START_EVENT, YAML_SEQUENCE_START_EVENT:
      let isMapping = event.type == YAML_MAPPING_START_EVENT
      let anchor = isMapping ? event.data.mapping_start.anchor : event.data.sequence_start.anchor
      guard anchor == nil, !expectsKey, stack.count < limits.maxDepth, count(), let node = expected() else { return false }
      switch node.content {
      case .mapping(let pairs) where isMapping:
        stack.append(Frame(pairs: pairs, items: [], isMapping: true))
      case .sequence(let items) where !isMapping:
        stack.append(Frame(pairs: [], items: items, isMapping: false))
      default:
        return false
      }
      return true
    case YAML_MAPPING_END_EVENT, YAML_SEQUENCE_END_EVENT:
      guard let top = stack.popLast(), top.isMapping == (event.type == YAML_MAPPING_END_EVENT), !top.sawKey,
        top.next == (top.isMapping ? top.pairs.count : top.items.count)
      else { return false }
      advance()
      return true
    default:
      // An alias (or anything else): the parse decides.
      return false
    }
  }

  /// A mapping key: the next pair's key, and not one of the mapping's earlier keys (the parse
  /// refuses a duplicate).
  mutating func key(_ value: UnsafeMutablePointer<yaml_char_t>?, _ length: Int) -> Bool {
    let top = stack.count - 1
    guard top >= 0 else { return false }
    let next = stack[top].next
    guard next < stack[top].pairs.count, Self.same(value, length, stack[top].pairs[next].key) else { return false }
    let key = stack[top].pairs[next].key
    for p in stack[top].pairs[..<next] where p.key == key { return false }
    stack[top].sawKey = true
    return true
  }

  /// Whether libyaml's scalar bytes are `text`'s UTF-8.
  static func same(_ p: UnsafeMutablePointer<yaml_char_t>?, _ n: Int, _ text: String) -> Bool {
    var text = text
    return text.withUTF8 { t in
      guard t.count == n else { return false }
      guard n > 0, let p, let tp = t.baseAddress else { return n == 0 }
      // Both buffers hold n bytes.
      return memcmp(p, tp, n) == 0
    }
  }
}
