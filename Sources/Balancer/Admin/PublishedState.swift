import MusterBase
/// The view of the running balancer that the admin endpoint reads (swapped whole on start/reload).
struct PublishedState: Sendable {
    enum Phase: Sendable {
        case starting, running, draining
    }

    struct Upstream: Sendable {
        var configuration: UpstreamConfiguration
        var group: UpstreamGroup
    }

    var phase: Phase = .starting
    var listeners: [MembersReport.Listener] = []
    var upstreams: [Upstream] = []

    func report() -> MembersReport {
        MembersReport(
            listeners: self.listeners,
            upstreams: self.upstreams.filter(\.configuration.isListed).map { upstream in
                let membership = upstream.group.membershipState
                return MembersReport.Upstream(
                    name: upstream.configuration.name,
                    method: upstream.configuration.method.description,
                    zookeeper: upstream.configuration.zookeeper.map { "\($0.connectString) \($0.membersPath)" },
                    stale: membership.stale,
                    membershipError: membership.error.map { UntrustedText.displayed($0, limit: 1000) },
                    members: upstream.group.pool.status().map(\.escapingUntrustedText),
                    panic: upstream.group.pool.storm().panicking)
            })
    }
}
