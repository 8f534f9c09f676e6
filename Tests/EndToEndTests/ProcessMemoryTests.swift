import CStartup
import Foundation
import Testing

/// hk's malloc settings (Sources/CStartup/startup.c), made before main in every process that
/// links hk's executable — this test process too.
@Suite struct ProcessMemoryTests {
  @Test func theSettingsAreAppliedBeforeMain() {
    #if canImport(Glibc)
    #expect(hk_malloc_settings_applied() == 1, "HK_MALLOC_DEFAULTS=1 in the test's environment?")
    #endif
  }

  /// On one CPU (`taskset -c 0 swift test …`) a thread started after main allocates from the main
  /// arena (glibc would give it an arena of its own, growing one mprotect call at a time): 32 MiB
  /// allocated there show in the main arena's count. With more CPUs threads keep their own. Each block is below the mmap threshold the settings raise to 32 MiB (at
  /// glibc's default 128 KiB it would be mapped on its own and counted nowhere).
  @Test(.enabled(if: hk_malloc_one_arena() == 1, "more than one CPU: each thread keeps an arena of its own"))
  func anotherThreadAllocatesFromTheMainArena() throws {
    #if canImport(Glibc)
    try #require(hk_malloc_settings_applied() == 1)
    let before = hk_main_arena_bytes_in_use()
    let done = DispatchSemaphore(value: 0)
    let blocks = BlockList()
    let thread = Thread {
      for _ in 0..<8 { blocks.append(malloc(4 << 20)) }
      done.signal()
    }
    thread.start()
    done.wait()
    let after = hk_main_arena_bytes_in_use()
    blocks.freeAll()
    // Other tests allocate and free meanwhile: most of the 32 MiB is enough to tell.
    #expect(after > before && after - before >= 24 << 20, "main arena: \(before) → \(after) bytes in use")
    #endif
  }
}

/// The blocks the other thread allocated (a lock: they cross threads).
private final class BlockList: @unchecked Sendable {
  private let lock = NSLock()
  private var blocks: [UnsafeMutableRawPointer?] = []
  func append(_ p: UnsafeMutableRawPointer?) { lock.withLock { blocks.append(p) } }
  func freeAll() {
    lock.withLock {
      for p in blocks { free(p) }
      blocks = []
    }
  }
}
