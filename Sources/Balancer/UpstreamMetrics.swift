import Metrics

/// The metrics of one upstream group, created once when the group first appears.
///
/// Labels are bounded: the upstream name comes from the configuration and the member state is one of
/// a fixed set; member ids never become labels.
struct UpstreamMetrics: Sendable {
    static let memberStates = ["up", "down", "draining", "backup", "unavailable"]

    let connectionsTotal: Counter
    let connectionsActive: Meter
    let connectFailures: Counter
    let noLiveUpstreams: Counter
    /// Bytes read from clients (sent upstream).
    let bytesIn: ByteCounter
    /// Bytes read from members (sent to clients).
    let bytesOut: ByteCounter
    let members: [String: Gauge]

    init(upstream: String, factory: any MetricsFactory) {
        let labels = [("upstream", upstream)]
        self.connectionsTotal = Counter(label: "balancer_connections_total", dimensions: labels, factory: factory)
        self.connectionsActive = Meter(label: "balancer_connections_active", dimensions: labels, factory: factory)
        self.connectFailures = Counter(label: "balancer_connect_failures_total", dimensions: labels, factory: factory)
        self.noLiveUpstreams = Counter(label: "balancer_no_live_upstreams_total", dimensions: labels, factory: factory)
        self.bytesIn = ByteCounter(
            counter: Counter(label: "balancer_bytes_in_total", dimensions: labels, factory: factory))
        self.bytesOut = ByteCounter(
            counter: Counter(label: "balancer_bytes_out_total", dimensions: labels, factory: factory))
        var members: [String: Gauge] = [:]
        for state in Self.memberStates {
            members[state] = Gauge(
                label: "balancer_members", dimensions: labels + [("state", state)], factory: factory)
        }
        self.members = members
    }

    /// Sets the member gauges from a status list (called when metrics are scraped, not per connection).
    func recordMembers(_ statuses: [MemberStatus]) {
        var counts: [String: Int] = [:]
        for status in statuses {
            counts[status.state, default: 0] += 1
        }
        for (state, gauge) in self.members {
            gauge.record(counts[state] ?? 0)
        }
    }
}
