import CProxyEngine
import Synchronization

/// Where the workers leave the records of finished sessions for an access log: one bounded ring per
/// worker, single producer (that worker) and single consumer (the log writer), so the data path takes
/// no lock and never waits. A full ring drops the record and counts it; the worker goes on.
public final class SessionLog: Sendable {
    /// Whether the log's format uses `$server_addr` or `$server_port`: only then does a worker ask
    /// the kernel for a connection's local address (one `getsockname` per connection).
    public let needsServerAddress: Bool
    let rings: [RecordRing<SessionRecord>]
    /// The writer's, told when a record is queued while it sleeps; nil: it looks by itself.
    let wakeup: LogWakeup?

    public init(workers: Int, capacity: Int = 4096, needsServerAddress: Bool, wakeup: LogWakeup? = nil) {
        self.needsServerAddress = needsServerAddress
        self.wakeup = wakeup
        self.rings = (0..<max(1, workers)).map { _ in RecordRing(capacity: capacity, filler: SessionRecord()) }
    }

    /// Worker `worker`'s side: queues the record (or counts it dropped) and wakes a sleeping writer.
    @inline(__always)
    func push(_ record: borrowing SessionRecord, worker: Int) {
        self.rings[worker].push(record)
        self.wakeup?.notify()
    }

    /// Whether a record waits (the writer's last look before it sleeps).
    public var isEmpty: Bool {
        self.rings.allSatisfy(\.isEmpty)
    }

    /// Records dropped because a ring was full.
    public var dropped: Int {
        self.rings.reduce(0) { $0 + $1.dropped.load(ordering: .relaxed) }
    }

    /// Takes every waiting record, worker by worker, oldest first. Only one consumer may call it.
    public func drain(_ body: (borrowing SessionRecord) -> Void) {
        for ring in self.rings {
            ring.drain(body)
        }
    }

    /// Milliseconds to add to a record's monotonic times for wall-clock time (read now, so a clock
    /// step is followed within a drain).
    public static func wallClockOffset() -> Int64 {
        cpe_realtime_ms() - cpe_monotonic_ms()
    }
}

/// One worker's ring of plain records (session records, error-log events): `head` is written by
/// the consumer only, `tail` by the producer only.
final class RecordRing<Element: BitwiseCopyable>: @unchecked Sendable {
    // @unchecked Sendable: the slots between head and tail belong to the consumer, the others to the
    // producer; each index is published with a release store after its slot is written or read.
    private let slots: UnsafeMutablePointer<Element>
    private let mask: Int
    private let head = Atomic<Int>(0)
    private let tail = Atomic<Int>(0)
    let dropped = Atomic<Int>(0)

    init(capacity: Int, filler: Element) {
        var size = 16
        while size < capacity { size <<= 1 }
        self.mask = size - 1
        self.slots = UnsafeMutablePointer<Element>.allocate(capacity: size)
        self.slots.initialize(repeating: filler, count: size)
    }

    deinit {
        self.slots.deallocate()
    }

    /// Producer side: false (and counted) when full.
    @discardableResult
    func push(_ record: borrowing Element) -> Bool {
        let tail = self.tail.load(ordering: .relaxed)
        let head = self.head.load(ordering: .acquiring)
        guard tail - head <= self.mask else {
            self.dropped.add(1, ordering: .relaxed)
            return false
        }
        self.slots[tail & self.mask] = copy record
        self.tail.store(tail + 1, ordering: .releasing)
        return true
    }

    var isEmpty: Bool {
        self.head.load(ordering: .relaxed) == self.tail.load(ordering: .acquiring)
    }

    func drain(_ body: (borrowing Element) -> Void) {
        var head = self.head.load(ordering: .relaxed)
        let tail = self.tail.load(ordering: .acquiring)
        while head < tail {
            body(self.slots[head & self.mask])
            head += 1
        }
        self.head.store(head, ordering: .releasing)
    }
}
