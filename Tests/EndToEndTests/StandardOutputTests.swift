import Foundation
import HKTestSupport
import Testing

@testable import HKCommands

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The gathered write of a plan's sections: every byte once, in order, whatever each `writev`
/// takes (short writes end inside a part, at a part's end, or inside a later batch).
@Suite struct StandardOutputTests {
  @Test func shortWritesContinueWhereTheyStopped() {
    var rng = SplitMix64(seed: 0x57D0)
    for round in 0..<200 {
      let parts: [[UInt8]] = (0..<Int(rng.next() % 150)).map { p in
        (0..<Int(rng.next() % 40)).map { UInt8(truncatingIfNeeded: p &* 31 &+ $0) }
      }
      var written: [UInt8] = []
      var calls = 0
      StandardOutput.write(parts) { iov in
        calls += 1
        #expect(iov.count <= StandardOutput.batch)
        // Take a random number of the offered bytes (at least one), in order.
        let offered = iov.reduce(0) { $0 + $1.iov_len }
        var take = round % 3 == 0 ? offered : 1 + Int(rng.next() % UInt64(max(1, offered)))
        take = min(take, offered)
        var left = take
        for v in iov where left > 0 {
          let n = min(left, v.iov_len)
          if let base = v.iov_base {
            written.append(contentsOf: UnsafeRawBufferPointer(start: base, count: n))
          }
          left -= n
        }
        return take
      }
      #expect(written == parts.flatMap { $0 })
      if parts.allSatisfy(\.isEmpty) { #expect(calls == 0) }
    }
  }
}
