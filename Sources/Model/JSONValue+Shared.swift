import Synchronization

/// What a plan makes of the subtrees a shared file (a `_base` merged into many environments)
/// gives every environment, remembered for the run: the subtree's planned JSON (redacted), and
/// that JSON's YAML and compact JSON bytes.
///
/// A thousand created clusters hold the same base subtrees (``Config/Overlay`` keeps the base's
/// storage where an environment overrides nothing), and each was converted, redacted, emitted
/// and written for the digest once per environment. Every result here is a pure function of
/// the subtree it is kept for, and a subtree is named by its collection storage: the same
/// storage holds the same elements, so the result is what recomputing it gives. The memo keeps
/// each YAML subtree and each JSON result alive, so no address it holds is freed and reused for
/// other content while the memo lives.
///
/// JSON values are looked up by the storage of the results it handed out: the YAML emitter and
/// the compact JSON writer ask about every collection they write, and only those (kept alive
/// here) are found.
final class SharedJSONMemo: Sendable {
  static let shared = SharedJSONMemo()

  /// A YAML subtree's planned JSON: ``Redaction/plannedJSON(_:concealing:)``.
  struct PlannedKey: Hashable {
    var storage: UInt
    var concealing: Bool
  }

  /// The YAML bytes of a JSON collection at an indent and in a context.
  struct YAMLKey: Hashable {
    var storage: UInt
    var indent: Int
    var context: YAMLEmitter.ByteContext
  }

  private struct State {
    var planned: [PlannedKey: (node: YAMLNode, json: JSONValue)] = [:]
    /// The storages of the JSON values in `planned` (what the byte caches may hold).
    var results: Set<UInt> = []
    var yaml: [YAMLKey: [UInt8]] = [:]
    var compact: [UInt: [UInt8]] = [:]
  }

  private let state = Mutex(State())
  /// At most this many subtrees are kept, and this many byte texts of each kind (a repository
  /// of many bases stops adding, nothing else).
  let capacity: Int

  init(capacity: Int = 8192) {
    self.capacity = capacity
  }

  /// The planned JSON remembered for `storage` (a YAML collection's).
  func planned(_ key: PlannedKey) -> JSONValue? {
    state.withLock { $0.planned[key]?.json }
  }

  /// Remembers `json` as the planned JSON of `node` (whose storage `key` names); the JSON
  /// returned is the one to use (an earlier thread's when two raced).
  func remember(_ key: PlannedKey, node: YAMLNode, json: JSONValue) -> JSONValue {
    state.withLock { s in
      if let known = s.planned[key] { return known.json }
      guard s.planned.count < capacity, let storage = json.storageIdentity else { return json }
      s.planned[key] = (node, json)
      s.results.insert(storage)
      return json
    }
  }

  /// What the YAML emitter does with a collection: append the remembered bytes, or write them
  /// and hand them over (`remember`), or just write them (a value the memo never handed out).
  enum Lookup {
    case bytes([UInt8])
    case remember
    case no
  }

  func yaml(_ key: YAMLKey) -> Lookup {
    state.withLock { s in
      if let b = s.yaml[key] { return .bytes(b) }
      return s.results.contains(key.storage) && s.yaml.count < capacity ? .remember : .no
    }
  }

  func rememberYAML(_ key: YAMLKey, _ bytes: [UInt8]) {
    state.withLock { s in
      if s.yaml.count < capacity { s.yaml[key] = bytes }
    }
  }

  func compact(_ storage: UInt) -> Lookup {
    state.withLock { s in
      if let b = s.compact[storage] { return .bytes(b) }
      return s.results.contains(storage) && s.compact.count < capacity ? .remember : .no
    }
  }

  func rememberCompact(_ storage: UInt, _ bytes: [UInt8]) {
    state.withLock { s in
      if s.compact.count < capacity { s.compact[storage] = bytes }
    }
  }

  /// How many subtrees are remembered (tests).
  var count: Int { state.withLock { $0.planned.count } }
}

extension JSONValue {
  /// The address of a non-empty collection's element storage; nil for scalars and empty
  /// collections (``YAMLNode/storageIdentity``'s rules: it names the storage only while a value
  /// holding it is alive).
  var storageIdentity: UInt? {
    switch self {
    case .object(let m): return m.isEmpty ? nil : m.withUnsafeBufferPointer { $0.baseAddress.map { UInt(bitPattern: $0) } }
    case .array(let a): return a.isEmpty ? nil : a.withUnsafeBufferPointer { $0.baseAddress.map { UInt(bitPattern: $0) } }
    default: return nil
    }
  }
}
