import Synchronization

/// Where a YAML node starts: file, 1-based line and 1-based column (Unicode scalars).
///
/// The file is held as a ``FileID`` (its name is stored once per process), so a mark is twelve
/// plain bytes: every node and key carries one, and copying trees retains no file name.
public struct Mark: Hashable, Sendable, CustomStringConvertible {
  public var fileID: FileID
  public var line: Int32
  public var column: Int32

  public init(file: String, line: Int, column: Int) {
    self.init(fileID: FileID(file), line: line, column: column)
  }
  public init(fileID: FileID, line: Int, column: Int) {
    self.fileID = fileID
    self.line = Int32(clamping: line)
    self.column = Int32(clamping: column)
  }
  /// The file's name, as given when the mark (or its ``FileID``) was made.
  public var file: String {
    get { fileID.name }
    set { fileID = FileID(newValue) }
  }
  public static let none = Mark(fileID: .none, line: 0, column: 0)
  public var description: String { "\(file):\(line):\(column)" }
}

/// A file name interned for the process: equal names get equal IDs.
public struct FileID: Hashable, Sendable {
  let raw: Int32

  /// The ID of `name` (registered on first use; a lock guards the table).
  public init(_ name: String) {
    raw = FileID.table.withLock { t in
      if let id = t.ids[name] { return id }
      let id = Int32(clamping: t.names.count)
      t.names.append(name)
      t.ids[name] = id
      return id
    }
  }

  /// The empty name.
  public static let none = FileID("")

  public var name: String {
    FileID.table.withLock { t in Int(raw) < t.names.count ? t.names[Int(raw)] : "" }
  }

  private struct Table {
    var names: [String] = []
    var ids: [String: Int32] = [:]
  }
  private static let table = Mutex(Table())
}

/// How a scalar was written. Kept so that re-serialisation can keep `"3128"` a string.
public enum ScalarStyle: UInt8, Sendable, Hashable {
  case plain, singleQuoted, doubleQuoted, literal, folded
  /// Whether the scalar was written quoted or as a block: such a scalar is always a string.
  public var isQuoted: Bool { self != .plain }
}

/// A key/value pair of a mapping. Keys are scalars (hk refuses complex keys when loading).
public struct YAMLPair: Sendable {
  public var key: String
  public var keyMark: Mark
  public var value: YAMLNode
  public init(key: String, keyMark: Mark = .none, value: YAMLNode) {
    self.key = key
    self.keyMark = keyMark
    self.value = value
  }

  /// Whether two keys are the same key, their UTF-8 lengths compared first: `==` on two strings
  /// that differ calls into the standard library's comparison, which reads both texts even when
  /// their lengths differ, and a lookup in a mapping compares the key with every key before its
  /// match. Keys of different lengths are different keys even when Unicode calls them equivalent
  /// (`é` as one code point or two, `K` and the Kelvin sign): kops, which compares bytes, and hk's
  /// parser (its duplicate-key check) see two keys there too.
  @inlinable @inline(__always)
  public static func sameKey(_ a: String, _ b: String) -> Bool {
    a.utf8.count == b.utf8.count && a == b
  }
}

/// An ordered YAML tree node with the position it came from.
///
/// Mappings keep file order and every key a user wrote, known to hk or not. Equality (`==`) is
/// semantic: it ignores marks and quoting style and compares resolved scalar values, so a
/// reformatted file is equal to the original; `"3128"` (a string) is not equal to `3128` (an int).
public struct YAMLNode: Sendable {
  public enum Content: Sendable {
    case scalar(YAMLScalar)
    case mapping([YAMLPair])
    case sequence([YAMLNode])
  }

  public var content: Content
  public var mark: Mark

  public init(_ content: Content, mark: Mark = .none) {
    self.content = content
    self.mark = mark
  }

  // MARK: Construction helpers

  /// A string scalar; quoted whenever a YAML 1.1 or 1.2 reader would take the plain text for
  /// something else (`"yes"`, `"3128"`, `""`).
  public static func string(_ s: String, mark: Mark = .none) -> YAMLNode {
    YAMLNode(.scalar(YAMLScalar(s, style: YAMLEmitter.isPlainSafe(s) ? .plain : .doubleQuoted)), mark: mark)
  }
  public static func int(_ i: Int64, mark: Mark = .none) -> YAMLNode {
    YAMLNode(.scalar(YAMLScalar(String(i))), mark: mark)
  }
  public static func bool(_ b: Bool, mark: Mark = .none) -> YAMLNode {
    YAMLNode(.scalar(YAMLScalar(b ? "true" : "false")), mark: mark)
  }
  public static let null = YAMLNode(.scalar(YAMLScalar("null")))
  public static func mapping(_ pairs: [YAMLPair], mark: Mark = .none) -> YAMLNode {
    YAMLNode(.mapping(pairs), mark: mark)
  }
  public static func sequence(_ items: [YAMLNode], mark: Mark = .none) -> YAMLNode {
    YAMLNode(.sequence(items), mark: mark)
  }

  // MARK: Access

  public var scalar: YAMLScalar? {
    if case .scalar(let s) = content { return s }
    return nil
  }
  public var pairs: [YAMLPair]? {
    if case .mapping(let p) = content { return p }
    return nil
  }
  public var items: [YAMLNode]? {
    if case .sequence(let i) = content { return i }
    return nil
  }
  public var isMapping: Bool { pairs != nil }
  public var isNull: Bool {
    if case .scalar(let s) = content { return s.isNull }
    return false
  }

  /// The scalar's value when this is a scalar.
  public var scalarValue: ScalarValue? { scalar?.value }
  /// The text of a scalar that resolves to a string (a quoted `"3128"` included), else nil.
  public var stringValue: String? {
    if case .scalar(let s) = content { return s.stringText }
    return nil
  }
  /// The scalar text whatever it resolves to (`3128` → "3128"); nil for collections and null.
  public var text: String? {
    guard case .scalar(let s) = content, !s.isNull else { return nil }
    return s.text
  }
  public var intValue: Int64? {
    if case .scalar(let s) = content { return s.intValue }
    return nil
  }
  public var boolValue: Bool? {
    if case .scalar(let s) = content { return s.boolValue }
    return nil
  }

  /// The value for `key` in a mapping.
  public subscript(key: String) -> YAMLNode? {
    guard case .mapping(let pairs) = content else { return nil }
    for p in pairs where YAMLPair.sameKey(p.key, key) { return p.value }
    return nil
  }

  /// The pair for `key` in a mapping (for the key's own mark).
  public func pair(_ key: String) -> YAMLPair? {
    guard case .mapping(let pairs) = content else { return nil }
    return pairs.first { YAMLPair.sameKey($0.key, key) }
  }

  /// Follows a dotted path of keys: `node[path: "spec", "egressProxy", "httpProxy"]`.
  public subscript(path keys: String...) -> YAMLNode? { self[path: keys] }

  /// Follows a path of keys given as an array.
  public subscript(path keys: [String]) -> YAMLNode? {
    var node: YAMLNode? = self
    for k in keys { node = node?[k] }
    return node
  }

  /// Sets `value` for `key` in a mapping, replacing in place (keeping order) or appending.
  public mutating func set(_ key: String, _ value: YAMLNode) {
    guard case .mapping(var pairs) = content else { return }
    if let i = pairs.firstIndex(where: { YAMLPair.sameKey($0.key, key) }) {
      pairs[i].value = value
    } else {
      pairs.append(YAMLPair(key: key, keyMark: value.mark, value: value))
    }
    content = .mapping(pairs)
  }

  /// Removes `key` from a mapping.
  public mutating func remove(_ key: String) {
    guard case .mapping(var pairs) = content else { return }
    pairs.removeAll { YAMLPair.sameKey($0.key, key) }
    content = .mapping(pairs)
  }

  /// Sets a value at a dotted path, creating intermediate mappings.
  public mutating func set(path: [String], _ value: YAMLNode) {
    guard let first = path.first else {
      self = value
      return
    }
    if !isMapping { self = .mapping([], mark: mark) }
    var child = self[first] ?? .mapping([])
    child.set(path: Array(path.dropFirst()), value)
    set(first, child)
  }

  /// Removes the value at a dotted path (no-op when absent).
  public mutating func remove(path: [String]) {
    guard let first = path.first else { return }
    if path.count == 1 {
      remove(first)
      return
    }
    guard var child = self[first] else { return }
    child.remove(path: Array(path.dropFirst()))
    set(first, child)
  }

  /// The address of a non-empty collection's element storage; nil for scalars and empty
  /// collections. Nodes with the same address hold the same elements (copies share the storage
  /// and a change copies it first), but an address names that storage only while a node holding
  /// it is alive: a cache keyed by it must keep such a node (``SharedSubtreeMemo`` does).
  public var storageIdentity: UInt? {
    switch content {
    case .scalar: return nil
    case .mapping(let p): return p.isEmpty ? nil : p.withUnsafeBufferPointer { $0.baseAddress.map { UInt(bitPattern: $0) } }
    case .sequence(let i): return i.isEmpty ? nil : i.withUnsafeBufferPointer { $0.baseAddress.map { UInt(bitPattern: $0) } }
    }
  }

  /// The number of nodes in this tree (for limits and benchmarks).
  public var nodeCount: Int {
    switch content {
    case .scalar: 1
    case .mapping(let p): p.reduce(1) { $0 + 1 + $1.value.nodeCount }
    case .sequence(let i): i.reduce(1) { $0 + $1.nodeCount }
    }
  }
}

extension YAMLNode: Equatable {
  /// Semantic equality: marks and styles ignored, scalars compared by resolved value, mapping
  /// keys compared as sets (order does not change meaning), sequences in order.
  public static func == (a: YAMLNode, b: YAMLNode) -> Bool {
    switch (a.content, b.content) {
    case (.scalar(let x), .scalar(let y)):
      if x.text == y.text && x.style.isQuoted == y.style.isQuoted && x.tagID == y.tagID { return true }
      return x.value.semanticallyEqual(y.value)
    case (.sequence(let x), .sequence(let y)):
      return x == y  // Array's == answers true for one storage without comparing elements
    case (.mapping(let x), .mapping(let y)):
      guard x.count == y.count else { return false }
      // One storage holds equal pairs (a copy shares it until changed, and a tree has no
      // repeated key, the parse refuses one): the recorded object matched to the desired tree
      // is that tree, so most comparisons in the planner end here, without a walk.
      if sameStorage(x, y) { return true }
      if x.count <= 8 {
        for p in x {
          guard let q = y.first(where: { YAMLPair.sameKey($0.key, p.key) }), q.value == p.value else { return false }
        }
        return true
      }
      var index: [String: YAMLNode] = [:]
      index.reserveCapacity(y.count)
      for q in y { index[q.key] = q.value }
      for p in x {
        guard let v = index[p.key], v == p.value else { return false }
      }
      return true
    default:
      return false
    }
  }
}

/// Whether two non-empty pair arrays share one element storage.
@inline(__always)
private func sameStorage(_ x: [YAMLPair], _ y: [YAMLPair]) -> Bool {
  guard !x.isEmpty else { return false }
  return x.withUnsafeBufferPointer { a in y.withUnsafeBufferPointer { b in a.baseAddress == b.baseAddress } }
}

extension ScalarValue {
  func semanticallyEqual(_ other: ScalarValue) -> Bool {
    switch (self, other) {
    case (.float(let a), .float(let b)): return a == b || (a.isNaN && b.isNaN)
    case (.int(let a), .float(let b)), (.float(let b), .int(let a)): return Double(a) == b
    default: return self == other
    }
  }
}

extension YAMLPair {
  /// A 64-bit FNV-1a hash of a key's UTF-8 bytes: equal keys have equal fingerprints. The
  /// parser's duplicate-key check and ``YAMLEmitter/read(_:asEmissionOf:maxChangedScalars:maxDepth:maxNodes:)``
  /// compare keys by it first.
  public static func keyFingerprint(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
    return h
  }

  /// ``keyFingerprint(_:)`` of a key's UTF-8.
  public static func keyFingerprint(_ key: String) -> UInt64 {
    var key = key
    return key.withUTF8 { keyFingerprint($0) }
  }
}
