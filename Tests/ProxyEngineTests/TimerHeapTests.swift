import Testing

@testable import ProxyEngine

@Suite("Timer heap")
struct TimerHeapTests {
    @Test("deadlines come out nearest first; moving and cancelling keep the order")
    func order() {
        var heap = TimerHeap()
        heap.schedule(3, at: 300)
        heap.schedule(1, at: 100)
        heap.schedule(2, at: 200)
        heap.schedule(4, at: 50)
        #expect(heap.nearest == 50)
        #expect(heap.timeout(now: 20) == 30)
        heap.schedule(4, at: 400)  // moved later
        heap.cancel(2)
        #expect(heap.deadline(of: 2) == nil)
        #expect(heap.popExpired(now: 99) == nil)
        #expect(heap.popExpired(now: 1000) == 1)
        #expect(heap.popExpired(now: 1000) == 3)
        #expect(heap.popExpired(now: 1000) == 4)
        #expect(heap.popExpired(now: 1000) == nil)
        #expect(heap.isEmpty)
        #expect(heap.timeout(now: 0) == -1)
    }

    @Test("a due timer gives a zero timeout; many timers sort exactly")
    func many() {
        var heap = TimerHeap()
        var deadlines: [Int32: Int64] = [:]
        var generator = SystemRandomNumberGenerator()
        for slot in Int32(0)..<500 {
            let deadline = Int64.random(in: 0..<10_000, using: &generator)
            heap.schedule(slot, at: deadline)
            deadlines[slot] = deadline
        }
        for slot in stride(from: Int32(0), to: 500, by: 3) {
            heap.cancel(slot)
            deadlines[slot] = nil
        }
        for slot in stride(from: Int32(1), to: 500, by: 7) where deadlines[slot] != nil {
            let deadline = Int64.random(in: 0..<10_000, using: &generator)
            heap.schedule(slot, at: deadline)
            deadlines[slot] = deadline
        }
        #expect(heap.timeout(now: 10_000) == 0)
        var last: Int64 = -1
        var popped = 0
        while let slot = heap.popExpired(now: 10_000) {
            let deadline = deadlines[slot]!
            #expect(deadline >= last)
            last = deadline
            popped += 1
        }
        #expect(popped == deadlines.count)
    }
}
