import CProxyEngine

/// What every worker of an engine shares: the count of open client connections against
/// `worker_connections`, `multi_accept`, and the engine's own counters. One atomic add per accept
/// and per close.
final class EngineShared: @unchecked Sendable {
    // @unchecked Sendable: `cells` is written and read only through C11 atomics (cpe_shared_add,
    // cpe_shared_store, cpe_counter_load); it is allocated in init and freed in deinit.

    let counters: EngineCounters
    /// cells[0]: open clients; cells[8]: the limit (0 = none) and cells[9]: multi_accept (1 = on),
    /// read-mostly, on their own cache line.
    private let cells: UnsafeMutablePointer<Int64>

    init(workers: Int) {
        self.counters = EngineCounters(workers: workers)
        self.cells = UnsafeMutablePointer<Int64>.allocate(capacity: 16)
        self.cells.initialize(repeating: 0, count: 16)
        self.cells[9] = 1
    }

    deinit {
        self.cells.deallocate()
    }

    /// Counts a new client, or returns false (and counts nothing) when the limit is reached.
    func admit() -> Bool {
        let open = cpe_shared_add(self.cells, 1)
        let limit = cpe_counter_load(self.cells + 8)
        if limit > 0 && open > limit {
            _ = cpe_shared_add(self.cells, -1)
            return false
        }
        return true
    }

    func release() {
        _ = cpe_shared_add(self.cells, -1)
    }

    var open: Int { Int(cpe_counter_load(self.cells)) }

    var limit: Int? {
        get {
            let value = cpe_counter_load(self.cells + 8)
            return value > 0 ? Int(value) : nil
        }
        set { cpe_shared_store(self.cells + 8, Int64(max(0, newValue ?? 0))) }
    }

    /// `multi_accept`: on, a wake-up accepts every queued client (bounded); off, one.
    var multiAccept: Bool {
        get { cpe_counter_load(self.cells + 9) != 0 }
        set { cpe_shared_store(self.cells + 9, newValue ? 1 : 0) }
    }
}
