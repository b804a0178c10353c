/// The timers of one worker: at most one deadline per connection slot, in a binary min-heap indexed
/// by slot, so arming, moving and cancelling are O(log n) without allocation once the arrays have
/// grown to the worker's peak connection count.
///
/// As in nginx (`ngx_event_timer.c`), the nearest deadline becomes `epoll_wait`'s timeout: no timer
/// system call per connection. `proxy_timeout` is not re-armed on every read: the session keeps its
/// last activity and the timer, when it fires, is moved to `lastActivity + timeout` if the
/// connection moved data in between.
struct TimerHeap {
    private struct Entry {
        var deadline: Int64
        var slot: Int32
    }

    private var heap: [Entry] = []
    /// Position of each slot's entry in `heap`, -1 when the slot has no timer.
    private var position: [Int32] = []

    init(capacity: Int = 0) {
        self.heap.reserveCapacity(capacity)
        self.position.reserveCapacity(capacity)
    }

    var count: Int { self.heap.count }
    var isEmpty: Bool { self.heap.isEmpty }

    /// The nearest deadline, if any timer is armed.
    var nearest: Int64? { self.heap.first?.deadline }

    func deadline(of slot: Int32) -> Int64? {
        let index = Int(slot)
        guard index < self.position.count, self.position[index] >= 0 else { return nil }
        return self.heap[Int(self.position[index])].deadline
    }

    /// Arms (or moves) the timer of `slot`.
    mutating func schedule(_ slot: Int32, at deadline: Int64) {
        let index = Int(slot)
        while self.position.count <= index {
            self.position.append(-1)
        }
        let at = self.position[index]
        if at >= 0 {
            let old = self.heap[Int(at)].deadline
            self.heap[Int(at)].deadline = deadline
            if deadline < old {
                self.up(Int(at))
            } else if deadline > old {
                self.down(Int(at))
            }
            return
        }
        self.heap.append(Entry(deadline: deadline, slot: slot))
        self.position[index] = Int32(self.heap.count - 1)
        self.up(self.heap.count - 1)
    }

    /// Disarms the timer of `slot`, if it has one.
    mutating func cancel(_ slot: Int32) {
        let index = Int(slot)
        guard index < self.position.count else { return }
        let at = Int(self.position[index])
        guard at >= 0 else { return }
        self.position[index] = -1
        let last = self.heap.count - 1
        if at != last {
            self.heap[at] = self.heap[last]
            self.position[Int(self.heap[at].slot)] = Int32(at)
            self.heap.removeLast()
            self.down(at)
            self.up(at)
        } else {
            self.heap.removeLast()
        }
    }

    /// Removes and returns a slot whose deadline is at or before `now`, nearest first.
    mutating func popExpired(now: Int64) -> Int32? {
        guard let first = self.heap.first, first.deadline <= now else { return nil }
        self.cancel(first.slot)
        return first.slot
    }

    /// `epoll_wait`'s timeout in milliseconds: -1 with no timer, 0 when one is due.
    func timeout(now: Int64) -> Int32 {
        guard let nearest = self.nearest else { return -1 }
        return Int32(clamping: max(0, nearest - now))
    }

    private mutating func up(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard self.heap[child].deadline < self.heap[parent].deadline else { break }
            self.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func down(_ start: Int) {
        var parent = start
        let count = self.heap.count
        while true {
            let left = 2 * parent + 1
            guard left < count else { break }
            var smallest = left
            let right = left + 1
            if right < count, self.heap[right].deadline < self.heap[left].deadline {
                smallest = right
            }
            guard self.heap[smallest].deadline < self.heap[parent].deadline else { break }
            self.swapAt(parent, smallest)
            parent = smallest
        }
    }

    private mutating func swapAt(_ a: Int, _ b: Int) {
        self.heap.swapAt(a, b)
        self.position[Int(self.heap[a].slot)] = Int32(a)
        self.position[Int(self.heap[b].slot)] = Int32(b)
    }
}
