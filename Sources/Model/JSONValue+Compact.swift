// The compact JSON bytes of a JSONValue (what `plan_digest` hashes): the same bytes as
// `serialized()`'s UTF-8, written through a small buffer into a byte array or straight into a
// SHA-256, without growing a `String`.

extension JSONValue {
  /// The UTF-8 bytes of ``serialized(pretty:)`` (compact), written straight into bytes.
  ///
  /// - Parameter chunkSize: the bytes buffered between two appends to the result (any size
  ///   gives the same bytes; tests use tiny ones to cross every boundary).
  /// - Returns: The compact JSON's UTF-8 bytes.
  public func compactUTF8(chunkSize: Int = 16_384) -> [UInt8] {
    CompactJSONWriter.with(chunkSize: chunkSize, hashing: false) { w in
      w.write(self)
      w.flush()
      return w.collected
    }
  }

  /// `sha256:<hex>` of ``compactUTF8(chunkSize:)``, hashed as it is written (the bytes are
  /// never held whole).
  public func compactSHA256(chunkSize: Int = 16_384) -> String {
    CompactJSONWriter.with(chunkSize: chunkSize, hashing: true) { w in
      w.write(self)
      w.flush()
      return "sha256:" + SHA256.hex(w.hash?.finalize() ?? [])
    }
  }
}

extension CompactJSONWriter {
  /// `sha256:<hex>` of the compact JSON `body` writes piece by piece (a caller that knows the
  /// shape of its document writes it without building a ``JSONValue`` first). Equal to
  /// ``JSONValue/compactSHA256(chunkSize:)`` of the value whose compact JSON those pieces spell.
  public static func sha256(chunkSize: Int = 16_384, _ body: (inout CompactJSONWriter) -> Void) -> String {
    with(chunkSize: chunkSize, hashing: true) { w in
      body(&w)
      w.flush()
      return "sha256:" + SHA256.hex(w.hash?.finalize() ?? [])
    }
  }

  /// The bytes `body` writes, as ``sha256(chunkSize:_:)`` hashes them (for tests).
  public static func bytes(chunkSize: Int = 16_384, _ body: (inout CompactJSONWriter) -> Void) -> [UInt8] {
    with(chunkSize: chunkSize, hashing: false) { w in
      body(&w)
      w.flush()
      return w.collected
    }
  }
}

/// Writes compact JSON into a fixed buffer and hands each full buffer on: appended to
/// ``collected``, or fed to ``hash`` when hashing.
public struct CompactJSONWriter {
  /// `capacity` writable bytes, valid for the writer's life (``with(chunkSize:hashing:_:)``).
  private let buffer: UnsafeMutablePointer<UInt8>
  private let capacity: Int
  /// Bytes written to `buffer` and not handed on yet; always ≤ `capacity`.
  private var count = 0
  private(set) var collected: [UInt8] = []
  var hash: SHA256?

  /// Runs `body` with a writer whose buffer lives as long as the call.
  static func with<R>(chunkSize: Int, hashing: Bool, _ body: (inout CompactJSONWriter) -> R) -> R {
    let capacity = max(1, chunkSize)
    return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: capacity) { buffer in
      // A temporary allocation always has a base address; the fallback never runs.
      guard let base = buffer.baseAddress else { preconditionFailure("no temporary buffer") }
      var w = CompactJSONWriter(buffer: base, capacity: capacity, hash: hashing ? SHA256() : nil)
      return body(&w)
    }
  }

  private init(buffer: UnsafeMutablePointer<UInt8>, capacity: Int, hash: SHA256?) {
    self.buffer = buffer
    self.capacity = capacity
    self.hash = hash
  }

  /// Hands the buffered bytes on.
  mutating func flush() {
    guard count > 0 else { return }
    hand(UnsafeRawBufferPointer(start: buffer, count: count))
    count = 0
  }

  private mutating func hand(_ bytes: UnsafeRawBufferPointer) {
    if hash != nil {
      hash?.update(bytes)
    } else {
      collected.append(contentsOf: bytes)
    }
  }

  @inline(__always) private mutating func byte(_ b: UInt8) {
    if count == capacity { flush() }
    // count < capacity here.
    buffer[count] = b
    count += 1
  }

  private mutating func run(_ bytes: UnsafeBufferPointer<UInt8>) {
    guard let source = bytes.baseAddress, bytes.count > 0 else { return }
    if bytes.count > capacity - count {
      flush()
      if bytes.count > capacity {
        hand(UnsafeRawBufferPointer(bytes))
        return
      }
    }
    // count + bytes.count ≤ capacity here.
    (buffer + count).update(from: source, count: bytes.count)
    count += bytes.count
  }

  @inline(__always) private mutating func word(_ w: StaticString) {
    w.withUTF8Buffer { run($0) }
  }

  /// Writes `text` as it is: punctuation and member keys that need no escape (`{"name":`).
  public mutating func raw(_ text: StaticString) { word(text) }

  /// Writes `s` as a JSON string literal.
  public mutating func string(_ s: String) { quoted(s) }

  /// Writes an integer.
  public mutating func int(_ i: Int64) { decimal(i) }

  /// Writes `true` or `false`.
  public mutating func bool(_ b: Bool) { word(b ? "true" : "false") }

  /// Writes a value's compact JSON.
  ///
  /// A collection the planner took from ``SharedJSONMemo`` (a shared base's subtree, in every
  /// environment's created objects) is written once for the run and its bytes copied after.
  public mutating func write(_ v: JSONValue) {
    if let storage = v.storageIdentity {
      switch SharedJSONMemo.shared.compact(storage) {
      case .bytes(let b):
        b.withUnsafeBufferPointer { run($0) }
        return
      case .remember:
        let b = CompactJSONWriter.with(chunkSize: 4096, hashing: false) { w in
          w.writeValue(v)
          w.flush()
          return w.collected
        }
        SharedJSONMemo.shared.rememberCompact(storage, b)
        b.withUnsafeBufferPointer { run($0) }
        return
      case .no: break
      }
    }
    writeValue(v)
  }

  /// ``write(_:)`` of `v` itself (its collections below are looked up again).
  private mutating func writeValue(_ v: JSONValue) {
    switch v {
    case .null: word("null")
    case .bool(let b): word(b ? "true" : "false")
    case .int(let i): decimal(i)
    case .double:
      var text = v.serialized()
      text.withUTF8 { run($0) }
    case .string(let s): quoted(s)
    case .array(let items):
      byte(UInt8(ascii: "["))
      var comma = false
      for item in items {
        if comma { byte(UInt8(ascii: ",")) }
        comma = true
        write(item)
      }
      byte(UInt8(ascii: "]"))
    case .object(let members):
      byte(UInt8(ascii: "{"))
      var comma = false
      for m in members {
        if comma { byte(UInt8(ascii: ",")) }
        comma = true
        quoted(m.key)
        byte(UInt8(ascii: ":"))
        write(m.value)
      }
      byte(UInt8(ascii: "}"))
    }
  }

  /// `String(i)`'s bytes.
  private mutating func decimal(_ i: Int64) {
    if i < 0 { byte(UInt8(ascii: "-")) }
    var m = i.magnitude
    // UInt64's largest value has 20 digits: they fit, written from the end.
    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
      var n = 20
      repeat {
        n -= 1
        digits[n] = UInt8(truncatingIfNeeded: m % 10) &+ 0x30
        m /= 10
      } while m > 0
      run(UnsafeBufferPointer(rebasing: digits[n...]))
    }
  }

  /// `s` as a JSON string literal, the bytes of ``JSONValue/quote(_:into:alsoEscaping:)`` (no
  /// extra escapes): runs of bytes that need no escape are copied whole. In valid UTF-8 (every
  /// `String`), U+2028 and U+2029 are only the bytes E2 80 A8 and E2 80 A9; every other byte at
  /// or above 0x80 is copied.
  private mutating func quoted(_ s: String) {
    s.withBorrowedUTF8 { u in
      byte(UInt8(ascii: "\""))
      // Every index read is below `u.count` (the loop's and the look-ahead's guards).
      let n = u.count
      var start = 0
      var i = 0
      let raw = UnsafeRawPointer(u.baseAddress)
      while i < n {
        // Eight bytes at a time while none needs a look (`raw` is not nil when `n > 0`; a word
        // is read only where it fits before `n`).
        if let raw, i + 8 <= n, !Self.mayNeedEscape(raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) {
          i += 8
          continue
        }
        let c = u[i]
        if c >= 0x20 && c < 0x7F && c != 0x22 && c != 0x5C {
          i += 1
          continue
        }
        if c >= 0x80 {
          if c == 0xE2, i + 2 < n, u[i + 1] == 0x80, u[i + 2] == 0xA8 || u[i + 2] == 0xA9 {
            run(UnsafeBufferPointer(rebasing: u[start..<i]))
            word(u[i + 2] == 0xA8 ? "\\u2028" : "\\u2029")
            i += 3
            start = i
          } else {
            i += 1
          }
          continue
        }
        run(UnsafeBufferPointer(rebasing: u[start..<i]))
        escape(c)
        i += 1
        start = i
      }
      run(UnsafeBufferPointer(rebasing: u[start..<n]))
      byte(UInt8(ascii: "\""))
    }
  }

  /// Whether one of the eight bytes of `x` is outside printable ASCII, a quote or a backslash:
  /// what ``quoted(_:)`` looks at byte by byte. Exact: no such byte goes unnoticed.
  @inline(__always)
  static func mayNeedEscape(_ x: UInt64) -> Bool {
    let ones: UInt64 = 0x0101_0101_0101_0101
    let highs: UInt64 = 0x8080_8080_8080_8080
    let quote = x ^ (0x22 &* ones)  // a zero byte where `x` holds `"`
    let backslash = x ^ (0x5C &* ones)
    return OutputEscaping.mayHoldUnprintable(x) || (quote &- ones) & ~quote & highs != 0
      || (backslash &- ones) & ~backslash & highs != 0
  }

  /// The escape of `c`: a quote, a backslash, a C0 control or DEL.
  private mutating func escape(_ c: UInt8) {
    switch c {
    case 0x22: word("\\\"")
    case 0x5C: word("\\\\")
    case 0x0A: word("\\n")
    case 0x0D: word("\\r")
    case 0x09: word("\\t")
    case 0x08: word("\\b")
    case 0x0C: word("\\f")
    default:
      let hex: StaticString = "0123456789abcdef"
      word("\\u00")
      hex.withUTF8Buffer { h in
        byte(h[Int(c >> 4)])
        byte(h[Int(c & 0x0F)])
      }
    }
  }
}
