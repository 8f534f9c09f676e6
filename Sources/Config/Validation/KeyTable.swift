import Foundation

/// A fixed set of strings, each with a small integer, looked up by a key's UTF-8 bytes.
///
/// The validation walks look up every key they meet (the schema's fields, the paths of the
/// type rules); a `[String: …]` dictionary hashes each key with SipHash through the `Hasher`
/// machinery. Here a key is hashed by loading its bytes eight at a time, and a hit is confirmed
/// by comparing the bytes, so a lookup is a couple of multiplications and one `memcmp`. Built
/// once (per schema release, per rule table) and read-only after.
struct KeyTable: Sendable {
  /// Open addressing, linear probing: an index into `entries`, or -1 for an empty slot.
  private var slots: [Int32]
  /// Per key: its bytes in `bytes` and its value.
  private var entries: [(start: Int32, count: Int32, hash: UInt32, value: Int32)] = []
  /// Every key's UTF-8, one after the other.
  private var bytes: [UInt8] = []
  private var mask: Int

  /// The table of `pairs` (the first of equal keys keeps its value).
  init(pairs list: [(key: String, value: Int32)]) {
    var size = 8
    while size < list.count * 2 { size *= 2 }
    slots = [Int32](repeating: -1, count: size)
    mask = size - 1
    for (key, value) in list {
      let utf8 = Array(key.utf8)
      let h = utf8.withUnsafeBufferPointer { Self.hash($0) }
      if utf8.withUnsafeBufferPointer({ find($0, hash: h) }) != nil { continue }
      var i = Int(h) & mask
      while slots[i] >= 0 { i = (i + 1) & mask }
      slots[i] = Int32(entries.count)
      entries.append((Int32(bytes.count), Int32(utf8.count), h, value))
      bytes.append(contentsOf: utf8)
    }
  }

  /// The table of `keys`, each valued by its position.
  init(keys: [String]) {
    self.init(pairs: keys.enumerated().map { (key: $0.element, value: Int32($0.offset)) })
  }

  var count: Int { entries.count }

  /// The value of `key`, or nil when the table does not hold it.
  @inline(__always)
  func value(_ key: String) -> Int32? {
    if let r = key.utf8.withContiguousStorageIfAvailable({ lookup($0) }) { return r }
    var copy = key
    return copy.withUTF8 { lookup($0) }
  }

  @inline(__always)
  private func lookup(_ key: UnsafeBufferPointer<UInt8>) -> Int32? {
    find(key, hash: Self.hash(key)).map { entries[$0].value }
  }

  private func find(_ key: UnsafeBufferPointer<UInt8>, hash h: UInt32) -> Int? {
    var i = Int(h) & mask
    while true {
      let e = Int(slots[i])
      if e < 0 { return nil }
      let entry = entries[e]
      if entry.hash == h, Int(entry.count) == key.count {
        let same = bytes.withUnsafeBufferPointer { all -> Bool in
          guard let base = all.baseAddress else { return key.isEmpty }
          guard let k = key.baseAddress else { return true }
          return memcmp(base + Int(entry.start), k, key.count) == 0
        }
        if same { return e }
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
