import CProxyEngine

/// Counters of one upstream group (or of the engine), one row per worker: each worker adds to its
/// own row with a relaxed store (no locked instruction, no shared cache line), readers sum the rows
/// when `/metrics` or `/members` is read.
public final class EngineCounters: @unchecked Sendable {
    // @unchecked Sendable: the memory is written only by the worker that owns a row, through relaxed
    // atomic stores (cpe_counter_add), and read by anyone through relaxed atomic loads; it is
    // allocated in init and freed in deinit, when no worker can hold a reference any more.

    public enum Field: Int, CaseIterable, Sendable {
        /// Connections established to a member.
        case connectionsOpened
        /// Of those, the ones closed since.
        case connectionsClosed
        /// Bytes read from clients (sent upstream).
        case bytesIn
        /// Bytes read from members (sent to clients).
        case bytesOut
        case connectFailures
        case noLiveUpstreams
        /// Clients closed at accept because `worker_connections` were open.
        case refused
        /// Times a worker stopped accepting on a listener because of its `accept_rate`.
        case acceptPauses
    }

    /// A row is padded to 128 bytes so two workers never write the same cache line.
    private static let stride = 16
    private let memory: UnsafeMutablePointer<Int64>
    public let workers: Int

    public init(workers: Int) {
        self.workers = max(1, workers)
        let count = self.workers * Self.stride
        self.memory = UnsafeMutablePointer<Int64>.allocate(capacity: count)
        self.memory.initialize(repeating: 0, count: count)
    }

    deinit {
        self.memory.deallocate()
    }

    /// Adds to `worker`'s row; only that worker may call it.
    @inline(__always)
    func add(_ field: Field, _ value: Int, worker: Int) {
        cpe_counter_add(self.memory + (worker * Self.stride + field.rawValue), Int64(value))
    }

    /// The sum over every worker.
    public func total(_ field: Field) -> Int {
        var sum: Int64 = 0
        for worker in 0..<self.workers {
            sum += cpe_counter_load(self.memory + (worker * Self.stride + field.rawValue))
        }
        return Int(sum)
    }
}
