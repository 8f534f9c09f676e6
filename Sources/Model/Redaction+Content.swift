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
      let last = path.split(separator: ".").last.map(String.init) ?? path
      return contentKeys.contains(last) ? .string(contentSummary(s)) : value
    }
    return concealContent(value)
  }

  static func concealContent(_ value: JSONValue) -> JSONValue {
    switch value {
    case .array(let items): return .array(items.map(concealContent))
    case .object(let members):
      return .object(
        members.map { m in
          if contentKeys.contains(m.key), case .string(let s) = m.value { return JSONValue.Member(m.key, .string(contentSummary(s))) }
          return JSONValue.Member(m.key, concealContent(m.value))
        })
    default: return value
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
