import Foundation

/// A fixed set of strings, each with a small integer, looked up by a key's UTF-8 bytes.
///
/// The validation walks look up every key they meet (the schema's fields, the paths of the
/// type rules); a `[String: …]` dictionary hashes each key with SipHash through the `Hasher`
/// machinery. Here a key is hashed by loading its bytes eight at a time, and a hit is confirmed
/// by comparing the bytes, so a lookup is a couple of multiplications and one `memcmp`. Built
/// once (per schema release, per rule table) and read-only after.
///
/// The table's three parts (slots, entries, key bytes) live in one allocation that a ``Storage``
/// owns and frees; lookups read them through plain pointers. The tables are read by every
/// worker thread at once (the schema's and the rules' are built once per process), and reading
/// an array kept in a struct retains and releases its buffer: with two threads that is an atomic
/// write to one cache line from both cores for every key looked up. `@unchecked Sendable`: nothing
/// is written after `init`.
struct KeyTable: @unchecked Sendable {
  typealias Entry = (start: Int32, count: Int32, hash: UInt32, value: Int32)

  /// Owns the memory the pointers below read (shared by copies of the table; immutable).
  private final class Storage: @unchecked Sendable {
    let raw: UnsafeMutableRawPointer
    init(bytes: Int) { raw = .allocate(byteCount: max(bytes, 1), alignment: 8) }
    deinit { raw.deallocate() }
  }
  private let storage: Storage
  /// Open addressing, linear probing: an index into `entries`, or -1 for an empty slot.
  private let slots: UnsafePointer<Int32>
  /// Per key: its bytes in `bytes` and its value.
  private let entries: UnsafePointer<Entry>
  /// Every key's UTF-8, one after the other.
  private let bytes: UnsafePointer<UInt8>
  private let byteCount: Int
  private let mask: Int
  let count: Int

  /// The table of `pairs` (the first of equal keys keeps its value).
  init(pairs list: [(key: String, value: Int32)]) {
    var size = 8
    while size < list.count * 2 { size *= 2 }
    var slots = [Int32](repeating: -1, count: size)
    let mask = size - 1
    var entries: [Entry] = []
    var bytes: [UInt8] = []
    for (key, value) in list {
      let utf8 = Array(key.utf8)
      let h = utf8.withUnsafeBufferPointer { Self.hash($0) }
      let known = utf8.withUnsafeBufferPointer { k in
        slots.withUnsafeBufferPointer { sl in
          entries.withUnsafeBufferPointer { en in
            bytes.withUnsafeBufferPointer { by in
              Self.find(k, hash: h, slots: sl, entries: en, bytes: by, mask: mask) != nil
            }
          }
        }
      }
      if known { continue }
      var i = Int(h) & mask
      while slots[i] >= 0 { i = (i + 1) & mask }
      slots[i] = Int32(entries.count)
      entries.append((Int32(bytes.count), Int32(utf8.count), h, value))
      bytes.append(contentsOf: utf8)
    }
    // One allocation: the entries (8-byte aligned first), the slots, then the key bytes.
    let entryBytes = entries.count * MemoryLayout<Entry>.stride
    let slotBytes = slots.count * MemoryLayout<Int32>.stride
    let storage = Storage(bytes: entryBytes + slotBytes + bytes.count)
    let e = storage.raw.bindMemory(to: Entry.self, capacity: entries.count)
    e.initialize(from: entries, count: entries.count)
    let sl = (storage.raw + entryBytes).bindMemory(to: Int32.self, capacity: slots.count)
    sl.initialize(from: slots, count: slots.count)
    let by = (storage.raw + entryBytes + slotBytes).bindMemory(to: UInt8.self, capacity: bytes.count)
    by.initialize(from: bytes, count: bytes.count)
    self.storage = storage
    self.entries = UnsafePointer(e)
    self.slots = UnsafePointer(sl)
    self.bytes = UnsafePointer(by)
    self.byteCount = bytes.count
    self.mask = mask
    self.count = entries.count
  }

  /// The table of `keys`, each valued by its position.
  init(keys: [String]) {
    self.init(pairs: keys.enumerated().map { (key: $0.element, value: Int32($0.offset)) })
  }

  /// The value of `key`, or nil when the table does not hold it.
  @inline(__always)
  func value(_ key: String) -> Int32? {
    if let r = key.utf8.withContiguousStorageIfAvailable({ lookup($0) }) { return r }
    var copy = key
    return copy.withUTF8 { lookup($0) }
  }

  @inline(__always)
  private func lookup(_ key: UnsafeBufferPointer<UInt8>) -> Int32? {
    let e = Self.find(
      key, hash: Self.hash(key), slots: UnsafeBufferPointer(start: slots, count: mask + 1),
      entries: UnsafeBufferPointer(start: entries, count: count), bytes: UnsafeBufferPointer(start: bytes, count: byteCount),
      mask: mask)
    return e.map { entries[$0].value }
  }

  /// The entry of `key` in a table of these parts, or nil (the table is at most half full: a
  /// probe always reaches an empty slot).
  private static func find(
    _ key: UnsafeBufferPointer<UInt8>, hash h: UInt32, slots: UnsafeBufferPointer<Int32>, entries: UnsafeBufferPointer<Entry>,
    bytes: UnsafeBufferPointer<UInt8>, mask: Int
  ) -> Int? {
    var i = Int(h) & mask
    while true {
      let e = Int(slots[i])
      if e < 0 { return nil }
      let entry = entries[e]
      if entry.hash == h, Int(entry.count) == key.count {
        guard let k = key.baseAddress, let base = bytes.baseAddress else { return e }
        if memcmp(base + Int(entry.start), k, key.count) == 0 { return e }
      }
      i = (i + 1) & mask
    }
  }

  /// A hash of the bytes, read eight at a time (the last word byte by byte).
  @inline(__always)
  static func hash(_ b: UnsafeBufferPointer<UInt8>) -> UInt32 {
    var h: UInt64 = UInt64(truncatingIfNeeded: b.count) &* 0x9E37_79B9_7F4A_7C15
    guard let base = b.baseAddress else { return UInt32(truncatingIfNeeded: h >> 32) }
    let raw = UnsafeRawPointer(base)
    var i = 0
    while i + 8 <= b.count {
      let w = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
      h = (h ^ w) &* 0xFF51_AFD7_ED55_8CCD
      h ^= h >> 29
      i += 8
    }
    if i < b.count {
      var w: UInt64 = 0
      var shift: UInt64 = 0
      while i < b.count {
        w |= UInt64(base[i]) << shift
        shift += 8
        i += 1
      }
      h = (h ^ w) &* 0xFF51_AFD7_ED55_8CCD
      h ^= h >> 29
    }
    h = h &* 0xC4CE_B9FE_1A85_EC53
    return UInt32(truncatingIfNeeded: h >> 32)
  }
}
