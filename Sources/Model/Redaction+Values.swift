/// Redaction of structured values: YAML trees and JSON values (with JSON embedded in strings).
extension Redaction {
  /// Redacts a YAML tree: secret-named keys' values become the mask; strings lose URL
  /// credentials and tokens; a string holding JSON (an IAM policy) is redacted as JSON.
  public static func redact(_ node: YAMLNode) -> YAMLNode {
    switch node.content {
    case .scalar(let s):
      guard s.value.string != nil else { return node }
      let r = redact(JSONValue.string(s.text)).stringValue ?? redact(text: s.text)
      return r == s.text ? node : YAMLNode(.scalar(YAMLScalar(r, style: .doubleQuoted)), mark: node.mark)
    case .sequence(let items):
      return YAMLNode(.sequence(items.map(redact)), mark: node.mark)
    case .mapping(let pairs):
      return YAMLNode(
        .mapping(
          pairs.map { p in
            // A secret-named key hides its whole value, a subtree included.
            if isSecretKey(p.key), !p.value.isNull {
              return YAMLPair(key: p.key, keyMark: p.keyMark, value: .string(mask, mark: p.value.mark))
            }
            return YAMLPair(key: p.key, keyMark: p.keyMark, value: redact(p.value))
          }), mark: node.mark)
    }
  }

  /// Redacts a JSON value the same way (also JSON embedded in strings, such as IAM policies).
  public static func redact(_ value: JSONValue) -> JSONValue {
    redacted(value) ?? value
  }

  /// ``redact(_:)-(JSONValue)``, nil when nothing changes: arrays and objects are copied only
  /// from their first changed element on.
  static func redacted(_ value: JSONValue) -> JSONValue? {
    switch value {
    case .string(let s):
      var r = redactedText(s)
      let text = r ?? s
      // The first byte rules out almost every string before `hasPrefix` (which compares Characters).
      if let first = text.utf8.first, first == 0x5B || first == 0x7B, text.hasPrefix("[") || text.hasPrefix("{"),
        !isInertJSON(text), let inner = try? JSONValue.parse(text)
      {
        if let red = redacted(inner), red != inner { r = red.serialized() }
      }
      return r.map { .string($0) }
    case .array(let a):
      var out: [JSONValue]? = nil
      for i in a.indices {
        guard let item = redacted(a[i]) else { continue }
        if out == nil { out = a }
        out?[i] = item
      }
      return out.map { .array($0) }
    case .object(let m):
      var out: [JSONValue.Member]? = nil
      for i in m.indices {
        let mem = m[i]
        let item: JSONValue
        if isSecretKey(mem.key) {
          // A secret-named key hides its whole value, a subtree included.
          if mem.value == .null { continue }
          item = .string(mask)
        } else {
          guard let r = redacted(mem.value) else { continue }
          item = r
        }
        if out == nil { out = m }
        out?[i] = JSONValue.Member(mem.key, item)
      }
      return out.map { .object($0) }
    default: return nil
    }
  }

  /// Whether JSON text (an IAM policy in a string) is certain to come out of ``redacted(_:)`` as it
  /// went in, so it need not be parsed: it has no `\` (every key and string in it is then a run
  /// of its bytes, a string's start follows a `"`), no secret-key needle (no key is secret, no
  /// `NAME=` is), no `@` (userinfo, URL credentials), no `-u` or `--` (user flags), no
  /// `authorization`, no `PRIVATE KEY-----`, and no token's first two bytes at a word's start.
  static func isInertJSON(_ text: String) -> Bool {
    var t = text
    return t.withUTF8 { b in
      if isSecretKey(bytes: b) { return false }
      let n = b.count
      return scanClasses.withUnsafeBufferPointer { classes in
        // In bounds by construction, as in ``scan(_:)``.
        var afterWord: UInt8 = 0
        for i in 0..<n {
          let c = b[i]
          let k = classes[Int(c)]
          if (k & 10) | (k & 1 & ~afterWord) != 0 {  // `\` (8), a rule's byte (2), a token's first byte
            switch c {
            case 0x5C, 0x40: return false
            case 0x2D: if i + 1 < n && (b[i + 1] == 0x75 || b[i + 1] == 0x2D) { return false }
            case 0x59: if matches(b, i - 10, "PRIVATE KEY-----") { return false }
            case 0x7A, 0x5A: if folded(b, i - 7, "authorization") { return false }
            case 0x2F, 0x3D: break  // `://` needs `@`; `NAME=` a needle
            default: if i + 1 < n && tokenPairs[Int(c) << 8 | Int(b[i + 1])] { return false }
            }
          }
          afterWord = (k >> 2) & 1
        }
        return true
      }
    }
  }

  /// `redact(concealContent(value, path: path))` in one walk (the plan's `before` and `after`).
  public static func redact(_ value: JSONValue, concealingContentAt path: String) -> JSONValue {
    if case .string(let s) = value, isContentPath(path) { return summarized(s) }
    return redactedConcealing(value) ?? value
  }

  /// A concealed string as the plan shows it: its ``contentSummary(_:)``, redacted (the
  /// `before`/`after` at a content path, a content key's string in ``redactedConcealing(_:)``
  /// and ``plannedJSON(_:concealing:)``).
  static func summarized(_ s: String) -> JSONValue {
    let summary = JSONValue.string(contentSummary(s))
    return redacted(summary) ?? summary
  }

  /// ``redacted(_:)`` of ``concealed(_:)``, nil when nothing changes. A secret-named key hides its
  /// value whatever it holds; a content key's string becomes its summary, then redacted.
  static func redactedConcealing(_ value: JSONValue) -> JSONValue? {
    switch value {
    case .array(let a):
      var out: [JSONValue]? = nil
      for i in a.indices {
        guard let item = redactedConcealing(a[i]) else { continue }
        if out == nil { out = a }
        out?[i] = item
      }
      return out.map { .array($0) }
    case .object(let m):
      var out: [JSONValue.Member]? = nil
      for i in m.indices {
        let mem = m[i]
        let item: JSONValue
        if isSecretKey(mem.key) {
          if mem.value == .null { continue }
          item = .string(mask)
        } else if case .string(let s) = mem.value, isContentKey(mem.key) {
          item = summarized(s)
        } else {
          guard let r = redactedConcealing(mem.value) else { continue }
          item = r
        }
        if out == nil { out = m }
        out?[i] = JSONValue.Member(mem.key, item)
      }
      return out.map { .object($0) }
    default: return redacted(value)
    }
  }
}

/// The planned values of created and deleted objects: their JSON redacted, in one walk over the
/// YAML tree, with the subtrees of a shared file taken from ``SharedJSONMemo``.
extension Redaction {
  /// `redact(node.json, concealingContentAt: path)` when `concealing`, else `redact(node.json)`,
  /// for a collection `node` (whose path is then no content path: only a string is concealed
  /// by its path).
  ///
  /// Each collection below `node` from another file than `node` itself (a base's, shared by
  /// every environment) is remembered by its storage for the run: the next environment holding
  /// the same subtree gets the same JSON value (and its storage, which the YAML emitter and the
  /// compact JSON writer then know).
  public static func plannedJSON(_ node: YAMLNode, concealing: Bool) -> JSONValue {
    guard node.storageIdentity != nil else {
      let j = node.json
      return concealing ? (redactedConcealing(j) ?? j) : (redacted(j) ?? j)
    }
    return plannedJSON(node, concealing: concealing, document: node.mark.fileID, memo: SharedJSONMemo.shared)
  }

  /// ``plannedJSON(_:concealing:)`` with the memo given (nil: none) and `document` the file whose
  /// subtrees are not looked up.
  static func plannedJSON(_ node: YAMLNode, concealing: Bool, document: FileID, memo: SharedJSONMemo?) -> JSONValue {
    switch node.content {
    case .scalar:
      // `redactedConcealing` of a scalar is `redacted` of it.
      let j = node.json
      return redacted(j) ?? j
    case .sequence(let items):
      return remembered(node, concealing: concealing, document: document, memo: memo) {
        .array(items.map { plannedJSON($0, concealing: concealing, document: document, memo: memo) })
      }
    case .mapping(let pairs):
      return remembered(node, concealing: concealing, document: document, memo: memo) {
        plannedObject(pairs, concealing: concealing, document: document, memo: memo)
      }
    }
  }

  /// `make()`, the planned JSON of the collection `node`, taken from `memo` (or remembered
  /// there) when `node` comes from another file than `document`.
  private static func remembered(
    _ node: YAMLNode, concealing: Bool, document: FileID, memo: SharedJSONMemo?, _ make: () -> JSONValue
  ) -> JSONValue {
    guard let memo, node.mark.fileID != document, let storage = node.storageIdentity else { return make() }
    let key = SharedJSONMemo.PlannedKey(storage: storage, concealing: concealing)
    if let known = memo.planned(key) { return known }
    return memo.remember(key, node: node, json: make())
  }

  /// A mapping's members as ``redactedConcealing(_:)`` (or ``redacted(_:)``) makes them of its
  /// JSON: a secret-named key hides its value whatever it holds (null stays null); with
  /// `concealing`, a content key's string becomes its summary, then redacted.
  private static func plannedObject(_ pairs: [YAMLPair], concealing: Bool, document: FileID, memo: SharedJSONMemo?) -> JSONValue {
    var members: [JSONValue.Member] = []
    members.reserveCapacity(pairs.count)
    for p in pairs {
      let value: JSONValue
      if isSecretKey(p.key) {
        if case .scalar(let s) = p.value.content, case .null = s.value {
          value = .null
        } else {
          value = .string(mask)
        }
      } else if concealing, case .scalar(let s) = p.value.content, isContentKey(p.key), case .string(let t) = s.value {
        value = summarized(t)
      } else {
        value = plannedJSON(p.value, concealing: concealing, document: document, memo: memo)
      }
      members.append(JSONValue.Member(p.key, value))
    }
    return .object(members)
  }
}
