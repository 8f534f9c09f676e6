/// File and script contents in kops objects (`spec.fileAssets[].content`, an instance group's
/// `spec.additionalUserData[].content`) are shown as a digest and a length: they are where
/// credentials hide in free form (`export AWS_SECRET_ACCESS_KEY=…`). `hk plan --show-content`
/// and `hk state show --show-content` show them (still redacted) (docs/SECURITY.md).
extension Redaction {
  /// Keys whose string values are file or script contents.
  public static let contentKeys: Set<String> = ["content"]

  /// `(content: N bytes, sha256:0123456789ab…)`.
  public static func contentSummary(_ s: String) -> String {
    let digest = SHA256.digest(s)
    return "(content: \(s.utf8.count) bytes, \(digest.prefix(19))…)"
  }

  /// `value` with every string under a content key replaced by ``contentSummary(_:)``;
  /// `path` is where the value sits (its last component decides for a bare string).
  public static func concealContent(_ value: JSONValue, path: String) -> JSONValue {
    if case .string(let s) = value {
      return isContentPath(path) ? .string(contentSummary(s)) : value
    }
    return concealed(value) ?? value
  }

  /// Whether `path`'s last component (`.`-separated, empty ones left out; the whole path when
  /// there is none) is a content key. An ASCII path is read on bytes; any other as Characters.
  static func isContentPath(_ path: String) -> Bool {
    var p = path
    let ascii: Bool? = p.withUTF8 { b in
      guard b.allSatisfy({ $0 < 0x80 }) else { return nil }
      var end = b.count
      while end > 0 && b[end - 1] == 0x2E { end -= 1 }
      guard end > 0 else { return isContentKey(bytes: b) }  // no component: the whole path
      var start = end
      while start > 0 && b[start - 1] != 0x2E { start -= 1 }
      return isContentKey(bytes: UnsafeBufferPointer(rebasing: b[start..<end]))
    }
    if let ascii { return ascii }
    let last = path.split(separator: ".").last.map(String.init) ?? path
    return contentKeys.contains(last)
  }

  /// Whether `key` is one of ``contentKeys``.
  static func isContentKey(_ key: String) -> Bool {
    var k = key
    return k.withUTF8 { b in b.allSatisfy { $0 < 0x80 } ? isContentKey(bytes: b) : contentKeys.contains(key) }
  }

  /// ``contentKeys``, for ASCII bytes: two ASCII strings are equal exactly when their bytes are,
  /// and every content key is ASCII (a test checks it).
  static func isContentKey(bytes b: UnsafeBufferPointer<UInt8>) -> Bool {
    contentKeyBytes.contains { $0.count == b.count && $0.elementsEqual(b) }
  }

  static let contentKeyBytes: [[UInt8]] = contentKeys.map { Array($0.utf8) }

  /// ``concealContent(_:path:)`` below the top, nil when nothing changes: arrays and objects are
  /// copied only from their first changed element on.
  static func concealed(_ value: JSONValue) -> JSONValue? {
    switch value {
    case .array(let items):
      var out: [JSONValue]? = nil
      for i in items.indices {
        guard let item = concealed(items[i]) else { continue }
        if out == nil { out = items }
        out?[i] = item
      }
      return out.map { .array($0) }
    case .object(let members):
      var out: [JSONValue.Member]? = nil
      for i in members.indices {
        let m = members[i]
        let item: JSONValue
        if case .string(let s) = m.value, isContentKey(m.key) {
          item = .string(contentSummary(s))
        } else {
          guard let r = concealed(m.value) else { continue }
          item = r
        }
        if out == nil { out = members }
        out?[i] = JSONValue.Member(m.key, item)
      }
      return out.map { .object($0) }
    default: return nil
    }
  }

  /// A YAML tree with every scalar under a content key replaced by ``contentSummary(_:)``.
  public static func concealContent(_ node: YAMLNode) -> YAMLNode {
    switch node.content {
    case .scalar: return node
    case .sequence(let items): return YAMLNode(.sequence(items.map(concealContent)), mark: node.mark)
    case .mapping(let pairs):
      return YAMLNode(
        .mapping(
          pairs.map { p in
            if contentKeys.contains(p.key), let s = p.value.scalar, !p.value.isNull {
              return YAMLPair(key: p.key, keyMark: p.keyMark, value: .string(contentSummary(s.text), mark: p.value.mark))
            }
            return YAMLPair(key: p.key, keyMark: p.keyMark, value: concealContent(p.value))
          }), mark: node.mark)
    }
  }
}
