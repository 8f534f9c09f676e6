import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Gathered writes to stdout, for output made of many byte buffers (a plan's sections).
enum StandardOutput {
  /// The buffers given to one `writev` (at most IOV_MAX, 1024 on Linux and macOS; fewer keeps
  /// the nesting below shallow: one frame per buffer).
  static let batch = 64

  /// Writes `parts` to stdout in order, all of them (a short write continues where it stopped;
  /// an interrupted one is retried). On any other error the rest goes through `FileHandle`'s
  /// write, so a failure ends hk as `out(_:)`'s would.
  static func write(_ parts: [[UInt8]]) {
    write(parts) { iov in writev(STDOUT_FILENO, iov.baseAddress, Int32(iov.count)) }
  }

  /// ``write(_:)`` through `gather` (`writev`, or a test's stand-in that takes fewer bytes).
  static func write(_ parts: [[UInt8]], gather: (UnsafeMutableBufferPointer<iovec>) -> Int) {
    var index = 0  // the first part not written whole
    var offset = 0  // bytes of `parts[index]` already written
    while index < parts.count {
      if parts[index].count == offset {
        index += 1
        offset = 0
        continue
      }
      let end = min(parts.count, index + batch)
      // The iovecs point into the arrays of `parts`, which outlive the call (borrowed, not
      // mutated): each base is taken inside the array's own withUnsafeBufferPointer, as Swift
      // asks, and used only by `gather` before this iteration ends.
      var written = 0
      var failed = false
      withUnsafeTemporaryAllocation(of: iovec.self, capacity: end - index) { iov in
        var k = 0
        func fill(_ j: Int) {
          guard j < end else {
            let n = gather(UnsafeMutableBufferPointer(rebasing: iov[0..<k]))
            if n > 0 {
              written = n
            } else if n == 0 || errno != EINTR {
              failed = true  // nothing taken of a non-empty batch is no progress either
            }
            return
          }
          parts[j].withUnsafeBufferPointer { b in
            let skip = j == index ? offset : 0
            if b.count > skip, let base = b.baseAddress {
              iov[k] = iovec(iov_base: UnsafeMutableRawPointer(mutating: base + skip), iov_len: b.count - skip)
              k += 1
            }
            fill(j + 1)
          }
        }
        fill(index)
      }
      if failed {
        // Let Foundation report the error as it does for every other write.
        var rest = Data(parts[index][offset...])
        for p in parts[(index + 1)...] { rest.append(contentsOf: p) }
        FileHandle.standardOutput.write(rest)
        return
      }
      // Advance past `written` bytes.
      while written > 0 && index < parts.count {
        let left = parts[index].count - offset
        if written < left {
          offset += written
          written = 0
        } else {
          written -= left
          index += 1
          offset = 0
        }
      }
    }
  }
}
