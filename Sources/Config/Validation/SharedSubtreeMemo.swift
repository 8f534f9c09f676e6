import Model
import Synchronization

/// Remembers, for the run, subtrees of a shared file (a `_base` merged into many environments)
/// in which a whole-tree check found nothing, so the next environment holding the same subtree
/// skips it.
///
/// A subtree is named by its collection storage (``YAMLNode/storageIdentity``) and a key saying
/// which check and under what conditions (schema type and kops release). Same storage means the
/// same elements, keys, marks and values, so a check that depends only on those gives the same
/// (empty) result; the memo keeps a copy of each node it names, so no address is freed and
/// reused for other content while the memo lives. Only clean results are kept: a subtree with
/// findings is checked again, so every diagnostic is still made where and in the order it was.
final class SharedSubtreeMemo<Condition: Hashable & Sendable>: Sendable {
  struct Key: Hashable {
    var storage: UInt
    var condition: Condition
  }

  private let entries = Mutex<[Key: YAMLNode]>([:])
  /// At most this many subtrees are kept (a repository of many bases stops adding, nothing else).
  let capacity: Int

  init(capacity: Int = 8192) {
    self.capacity = capacity
  }

  /// Whether a node of another file than the document being checked is worth asking about:
  /// only a shared file's subtrees come back in other environments.
  @inline(__always)
  static func isShared(_ node: YAMLNode, document: FileID) -> Bool {
    node.mark.fileID != document
  }

  /// Whether `node`'s subtree was found clean under `condition`.
  func isClean(_ node: YAMLNode, _ condition: Condition) -> Bool {
    guard let storage = node.storageIdentity else { return false }
    let key = Key(storage: storage, condition: condition)
    return entries.withLock { $0[key] != nil }
  }

  /// Records that `node`'s subtree is clean under `condition` (keeping `node` alive).
  func markClean(_ node: YAMLNode, _ condition: Condition) {
    guard let storage = node.storageIdentity else { return }
    let key = Key(storage: storage, condition: condition)
    entries.withLock { e in
      if e.count < capacity { e[key] = node }
    }
  }

  /// How many subtrees are remembered (tests).
  var count: Int { entries.withLock { $0.count } }
}
