import Foundation
import Synchronization

/// Shares the text of mapping keys that repeat across the files of a run.
///
/// A thousand environments repeat the same long keys (`kubernetesVersion`,
/// `containerLogMaxSize`); each was a new heap string, built and validated from libyaml's bytes.
/// Strings of up to 15 UTF-8 bytes are stored inline by Swift (no allocation: not interned);
/// longer ones, up to ``maxLength``, are looked up here by their bytes, and a hit returns the
/// string already made: no allocation, no copy, less memory (each new page of the trees is a
/// page fault).
///
/// Bounded for hostile input: at most ``maxEntries`` strings of at most ``maxLength`` bytes
/// are kept, and a lookup probes at most ``maxProbes`` slots (crafted colliding texts then
/// just get their own string, as without the table).
final class StringInterner: Sendable {
  /// The calling thread's table. Each thread that parses keeps its own (made on first use, freed
  /// when the thread ends): a key shared by every environment is then shared by the trees one
  /// thread built, and copying such a key (every tree copy retains it) does not write to a cache
  /// line the other cores write too; no thread waits for another's lock.
  /// Without a thread key (the process ran out of them), one table for the process.
  static var shared: StringInterner {
    guard let key = threadKey else { return processWide }
    if let p = pthread_getspecific(key) { return Unmanaged<StringInterner>.fromOpaque(p).takeUnretainedValue() }
    let made = StringInterner()
    let kept = Unmanaged.passRetained(made)
    if pthread_setspecific(key, kept.toOpaque()) != 0 { kept.release() }
    return made
  }

  /// The key of each thread's table; nil when `pthread_key_create` failed.
  private static let threadKey: pthread_key_t? = {
    var key = pthread_key_t()
    // (the destructor's pointer is optional on Linux and not on Darwin: the helper takes both)
    guard pthread_key_create(&key, { p in StringInterner.release(p) }) == 0 else { return nil }
    return key
  }()
  private static let processWide = StringInterner()

  /// Releases a thread's table when the thread ends.
  private static func release(_ p: UnsafeMutableRawPointer?) {
    if let p { Unmanaged<StringInterner>.fromOpaque(p).release() }
  }

  /// The longest UTF-8 text Swift stores inline in a `String` (no allocation: never interned).
  static let inlineLength = 15
  static let maxLength = 128
  static let maxEntries = 1 << 12
  static let maxProbes = 8
  /// Twice ``maxEntries`` (a power of two): the table is at most half full (and small enough
  /// to stay in the CPU's cache).
  private static let slotCount = 1 << 13

  private struct Slot {
    var hash: UInt32 = 0
    var string: String? = nil
  }
  private struct Table {
    var slots: [Slot] = Array(repeating: Slot(), count: StringInterner.slotCount)
    var count = 0
  }
  private let table = Mutex(Table())

  /// The string of `bytes` (valid UTF-8: libyaml checked it).
  func string(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
    let n = bytes.count
    guard n > Self.inlineLength, n <= Self.maxLength, let base = bytes.baseAddress else {
      return String(decoding: bytes, as: UTF8.self)
    }
    let hash = Self.hash(base, n)
    return table.withLock { t in
      let mask = Self.slotCount - 1
      var i = Int(hash) & mask
      for _ in 0..<Self.maxProbes {
        guard let s = t.slots[i].string else {
          let made = String(decoding: bytes, as: UTF8.self)
          if t.count < Self.maxEntries {
            t.slots[i] = Slot(hash: hash, string: made)
            t.count += 1
          }
          return made
        }
        if t.slots[i].hash == hash, Self.equal(s, base, n) { return s }
        i = (i + 1) & mask
      }
      return String(decoding: bytes, as: UTF8.self)
    }
  }

  private static func equal(_ s: String, _ p: UnsafePointer<UInt8>, _ n: Int) -> Bool {
    let utf8 = s.utf8
    guard utf8.count == n else { return false }
    if let same = utf8.withContiguousStorageIfAvailable({ b in b.baseAddress.map { memcmp($0, p, n) == 0 } ?? false }) {
      return same
    }
    return utf8.elementsEqual(UnsafeBufferPointer(start: p, count: n))
  }

  /// FNV-1a over the bytes, 32 bits (the slot and a cheap first comparison).
  private static func hash(_ p: UnsafePointer<UInt8>, _ n: Int) -> UInt32 {
    var h: UInt32 = 2_166_136_261
    for i in 0..<n {
      h = (h ^ UInt32(p[i])) &* 16_777_619
    }
    return h
  }
}
