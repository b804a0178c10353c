import Metrics
import NIOConcurrencyHelpers
import ProxyEngine

/// The metrics of one upstream group, created once when the group first appears.
///
/// Labels are bounded: the upstream name comes from the configuration and the member state is one of
/// a fixed set; member ids never become labels. The data path's counters (connections, bytes) live
/// in `engine`, one row per worker written without locks, and are summed into these metrics when
/// `/metrics` is read (`recordMembers`).
struct GroupMetrics: Sendable {
    static let memberStates = MemberState.allCases.map(\.rawValue)

    let connectionsTotal: Counter
    let connectionsActive: Meter
    let connectFailures: Counter
    let noLiveUpstreams: Counter
    /// Bytes read from clients (sent upstream).
    let bytesIn: Counter
    /// Bytes read from members (sent to clients).
    let bytesOut: Counter
    let members: [String: Gauge]
    /// Times a worker stopped accepting for a listener's `accept_rate` (clients waited in the kernel's queue).
    let acceptPauses: Counter
    /// The engine workers' counters of this group.
    let engine: EngineCounters
    private let published: NIOLockedValueBox<Published>
    /// Runs at every scrape before this group's figures are set (the engine-wide counters).
    private let onScrape: (@Sendable () -> Void)?
    /// 1 while lost members are kept as suspects under the panic threshold.
    let panic: Gauge
    let panicEntries: Counter
    let ejections: Counter
    /// The pool's cumulative counts at the last scrape, to turn them into counter increments.
    private let lastStorm = NIOLockedValueBox(StormStatus())

    private struct Published {
        var connections = 0
        var bytesIn = 0
        var bytesOut = 0
        var acceptPauses = 0
    }

    init(upstream: String, factory: any MetricsFactory, workers: Int = 1, onScrape: (@Sendable () -> Void)? = nil) {
        let labels = [("upstream", upstream)]
        self.connectionsTotal = Counter(label: "balancer_connections_total", dimensions: labels, factory: factory)
        self.connectionsActive = Meter(label: "balancer_connections_active", dimensions: labels, factory: factory)
        self.connectFailures = Counter(label: "balancer_connect_failures_total", dimensions: labels, factory: factory)
        self.noLiveUpstreams = Counter(label: "balancer_no_live_upstreams_total", dimensions: labels, factory: factory)
        self.bytesIn = Counter(label: "balancer_bytes_in_total", dimensions: labels, factory: factory)
        self.bytesOut = Counter(label: "balancer_bytes_out_total", dimensions: labels, factory: factory)
        var members: [String: Gauge] = [:]
        for state in Self.memberStates {
            members[state] = Gauge(
                label: "balancer_members", dimensions: labels + [("state", state)], factory: factory)
        }
        self.members = members
        self.acceptPauses = Counter(label: "balancer_accept_pauses_total", dimensions: labels, factory: factory)
        self.engine = EngineCounters(workers: workers)
        self.published = NIOLockedValueBox(Published())
        self.onScrape = onScrape
        self.panic = Gauge(label: "balancer_panic", dimensions: labels, factory: factory)
        self.panicEntries = Counter(label: "balancer_panic_entries_total", dimensions: labels, factory: factory)
        self.ejections = Counter(label: "balancer_ejections_total", dimensions: labels, factory: factory)
    }

    /// Sets the panic gauge and advances the storm counters (called when metrics are scraped).
    func recordStorm(_ storm: StormStatus) {
        panic.record(storm.panicking ? 1 : 0)
        let last = lastStorm.withLockedValue { last in
            defer { last = storm }
            return last
        }
        if storm.panicEntries > last.panicEntries { panicEntries.increment(by: storm.panicEntries - last.panicEntries) }
        if storm.ejections > last.ejections { ejections.increment(by: storm.ejections - last.ejections) }
    }

    /// Sets the member gauges from a status list and sums the workers' counters into the metrics
    /// (called when metrics are scraped, not per connection).
    func recordMembers(_ statuses: [MemberStatus]) {
        self.onScrape?()
        var counts: [String: Int] = [:]
        for status in statuses {
            counts[status.state, default: 0] += 1
        }
        for (state, gauge) in self.members {
            gauge.record(counts[state] ?? 0)
        }
        self.publishEngineCounters()
    }

    /// Moves the counters forward by what the workers counted since the last scrape.
    func publishEngineCounters() {
        let opened = self.engine.total(.connectionsOpened)
        let closed = self.engine.total(.connectionsClosed)
        let bytesIn = self.engine.total(.bytesIn)
        let bytesOut = self.engine.total(.bytesOut)
        let acceptPauses = self.engine.total(.acceptPauses)
        self.published.withLockedValue { last in
            // A Prometheus counter only moves forward: publish what the workers added since.
            func advance(_ counter: Counter, to total: Int, from published: inout Int) {
                guard total > published else { return }
                counter.increment(by: total - published)
                published = total
            }
            advance(self.connectionsTotal, to: opened, from: &last.connections)
            advance(self.bytesIn, to: bytesIn, from: &last.bytesIn)
            advance(self.bytesOut, to: bytesOut, from: &last.bytesOut)
            advance(self.acceptPauses, to: acceptPauses, from: &last.acceptPauses)
        }
        self.connectionsActive.set(max(0, opened - closed))
    }
}
