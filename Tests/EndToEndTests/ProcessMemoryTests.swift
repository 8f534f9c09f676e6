import CMallocAdvice
import CStartup
import Foundation
import HKTestSupport
import Operations
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

/// Huge pages for malloc's heaps (Sources/CMallocAdvice), turned on by the same start-up code
/// where the kernel grants them on request (THP mode `madvise`): the main arena's heap, grown at
/// start-up, and a thread's arena carry the advice once a thread allocating there asked
/// (`hk_malloc_advise_this_thread`, which `Parallel` calls on every thread of a large map).
@Suite struct HugePageAdviceTests {
  @Test(.enabled(if: hk_malloc_advice_on() == 1, "THP mode is not `madvise` here (or HK_MALLOC_DEFAULTS=1)"))
  func theMainArenaCarriesTheAdviceOnceAsked() throws {
    let start = try #require(hk_malloc_advise_main_arena(), "the main arena grew by brk at start-up")
    #expect(hk_malloc_advised(start) == 1)
    #expect(hk_malloc_advise_main_arena() == start, "asking again changes nothing")
  }

  /// A new thread's first call advises the heap its next blocks come from, and only the first.
  /// On one CPU (scripts/test runs this suite under `taskset -c 0`) the thread allocates from the
  /// main arena, advised already: the call has nothing to do.
  @Test(.enabled(if: hk_malloc_advice_on() == 1, "THP mode is not `madvise` here (or HK_MALLOC_DEFAULTS=1)"))
  func aThreadAdvisesItsArenaOnceAsked() throws {
    let seen = onNewThread {
      let probe = hk_malloc_advise_this_thread()
      let again = hk_malloc_advise_this_thread()
      return (
        probe.map { hk_malloc_advised($0) } ?? (hk_malloc_one_arena() == 1 ? 1 : 0), again == nil,
        hk_malloc_this_thread_asked()
      )
    }
    let (first, again, asked) = try #require(seen)
    #expect(first == 1, "the heap of the thread's arena carries the advice")
    #expect(again, "a second call does nothing")
    #expect(asked == 1)
  }

  /// A large `Parallel.map` asks on every thread it runs the work on, the calling one included.
  @Test(.enabled(if: hk_malloc_advice_on() == 1, "THP mode is not `madvise` here (or HK_MALLOC_DEFAULTS=1)"))
  func aLargeParallelMapAsksOnEveryThread() {
    let asked = Parallel.map(Array(0..<256)) { _ in hk_malloc_this_thread_asked() }
    #expect(asked.count == 256)
    #expect(asked.allSatisfy { $0 == 1 })
  }

  /// A small one (a repository of a few environments) asks on no thread: a new thread that runs
  /// one has not asked afterwards.
  @Test(.enabled(if: hk_malloc_advice_on() == 1, "THP mode is not `madvise` here (or HK_MALLOC_DEFAULTS=1)"))
  func aSmallParallelMapLeavesTheHeapsAlone() throws {
    let seen = onNewThread {
      let results = Parallel.map(Array(0..<(Parallel.adviceThreshold - 1))) { $0 }
      return (Int32(results.count), hk_malloc_this_thread_asked())
    }
    let (count, asked) = try #require(seen)
    #expect(count == Int32(Parallel.adviceThreshold - 1))
    #expect(asked == 0)
  }

  @Test(.enabled(if: FileManager.default.fileExists(atPath: "/sys/kernel/mm/transparent_hugepage/enabled"), "no THP in this kernel"))
  func aMappingWithoutTheAdviceIsToldApart() throws {
    #if canImport(Glibc)
    // A private anonymous mapping of its own, never advised, then advised.
    let size = 4 << 20
    let p = try #require(mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))
    try #require(p != MAP_FAILED)
    defer { munmap(p, size) }
    #expect(hk_malloc_advised(p) == 0)
    #expect(madvise(p, size, MADV_HUGEPAGE) == 0)
    #expect(hk_malloc_advised(p) == 1)
    #endif
  }
}
