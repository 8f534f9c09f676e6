/// Collects one output stream of a running command: keeps the last `limit` bytes and hands
/// complete lines to the live callback.
///
/// Invariants: `bytesSeen` counts every byte received; `tail` holds the last `min(bytesSeen,
/// limit)` of them once ``finish()`` ran. Lines for the callback are cut at ``maxLineBytes``;
/// the captured text is not.
struct OutputCapture: Sendable {
  /// Lines longer than this are delivered cut short to the callback.
  static let maxLineBytes = 64 * 1024

  let stream: OutputLine.Stream
  let limit: Int
  let onLine: (@Sendable (OutputLine) -> Void)?
  private(set) var tail: [UInt8] = []
  private(set) var bytesSeen = 0
  private var pending: [UInt8] = []
  private var discardingLongLine = false

  init(stream: OutputLine.Stream, limit: Int, onLine: (@Sendable (OutputLine) -> Void)?) {
    self.stream = stream
    self.limit = max(limit, 1)
    self.onLine = onLine
  }

  mutating func append(_ bytes: UnsafeRawBufferPointer) {
    bytesSeen += bytes.count
    tail.append(contentsOf: bytes)
    // Amortised trimming: let the buffer grow to twice the limit before dropping the head.
    if tail.count > 2 * limit { tail.removeFirst(tail.count - limit) }
    guard onLine != nil else { return }
    var start = bytes.startIndex
    while start < bytes.endIndex {
      let newline = bytes[start...].firstIndex(of: 0x0A)
      addToLine(UnsafeRawBufferPointer(rebasing: bytes[start..<(newline ?? bytes.endIndex)]))
      guard let newline else { break }
      emitPending()
      start = newline + 1
    }
  }

  private mutating func addToLine(_ bytes: UnsafeRawBufferPointer) {
    guard !discardingLongLine else { return }
    let room = Self.maxLineBytes - pending.count
    pending.append(contentsOf: bytes.prefix(room))
    if bytes.count >= room {
      emitPending()
      discardingLongLine = true
    }
  }

  /// Flushes a last unterminated line and trims the tail to the limit.
  mutating func finish() {
    if !pending.isEmpty { emitPending() }
    if tail.count > limit { tail.removeFirst(tail.count - limit) }
  }

  var truncated: Bool { bytesSeen > limit }

  /// The captured bytes as text. When the head was dropped, a UTF-8 sequence cut in half at the
  /// start is skipped rather than shown as a replacement character.
  var text: String {
    var start = 0
    if truncated {
      while start < tail.count, start < 4, tail[start] & 0xC0 == 0x80 { start += 1 }
    }
    return String(decoding: tail[start...], as: UTF8.self)
  }

  private mutating func emitPending() {
    defer {
      pending.removeAll(keepingCapacity: true)
    }
    if discardingLongLine {
      discardingLongLine = false
      return
    }
    var line = pending[...]
    if line.last == 0x0D { line = line.dropLast() }
    onLine?(OutputLine(stream, String(decoding: line, as: UTF8.self)))
  }
}
