import HKTestSupport
import Synchronization
import Testing

@testable import Operations

/// How ``Parallel/map(_:_:)`` deals out indices: contiguous runs per worker, then stealing.
struct IndexRunsTests {
  @Test func eachWorkerTakesItsOwnRunInOrderThenTheLargestRestFromItsEnd() {
    var runs = IndexRuns(count: 10, workers: 2)
    #expect(runs.next(worker: 0) == 0)
    #expect((0..<5).map { _ in runs.next(worker: 1) } == [5, 6, 7, 8, 9])
    // Worker 1's run is done: it takes from the end of worker 0's.
    #expect(runs.next(worker: 1) == 4)
    #expect(runs.next(worker: 0) == 1)
    #expect(runs.next(worker: 1) == 3)
    #expect(runs.next(worker: 0) == 2)
    #expect(runs.next(worker: 0) == nil)
    #expect(runs.next(worker: 1) == nil)
  }

  @Test func everyIndexIsTakenExactlyOnceWhateverTheInterleaving() {
    var random = SplitMix64(seed: 15)
    for count in 0...40 {
      for workers in 1...5 {
        for _ in 0..<20 {
          var runs = IndexRuns(count: count, workers: workers)
          var taken: [Int] = []
          var finished = Set<Int>()
          while finished.count < workers {
            let k = Int(random.next() % UInt64(workers))
            if finished.contains(k) { continue }
            if let i = runs.next(worker: k) { taken.append(i) } else { finished.insert(k) }
          }
          #expect(taken.sorted() == Array(0..<count), "count \(count), \(workers) workers: \(taken)")
        }
      }
    }
  }

  @Test func aWorkerNumberOutsideTheRunsOnlyTakesWhatIsLeft() {
    var runs = IndexRuns(count: 4, workers: 2)
    #expect(runs.next(worker: 7) == 1)
    #expect(runs.next(worker: 0) == 0)
    #expect(runs.next(worker: 1) == 2)
    #expect(runs.next(worker: 1) == 3)
    #expect(runs.next(worker: 0) == nil)
  }

  @Test func parallelMapKeepsTheOrderAndCallsTheBodyOncePerItem() {
    let calls = Atomic<Int>(0)
    let items = Array(0..<1001)
    let doubled = Parallel.map(items) { i in
      calls.add(1, ordering: .relaxed)
      return i * 2
    }
    #expect(doubled == items.map { $0 * 2 })
    #expect(calls.load(ordering: .relaxed) == items.count)
  }
}
