extension String {
  /// Calls `body` with the string's UTF-8 bytes, read in place without a copy of the string:
  /// `withUTF8` is `mutating`, so a caller holding a `let` copies it into a `var` first (one
  /// retain and one release per call, on the hot paths that read every scalar of a plan).
  /// Every native Swift string is contiguous; a bridged one takes the copying path.
  @inline(__always)
  func withBorrowedUTF8<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
    if let r = utf8.withContiguousStorageIfAvailable(body) { return r }
    var s = self
    return s.withUTF8(body)
  }
}
