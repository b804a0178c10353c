import ProxyEngine

/// The engine's view of one listener's target: its `proxy_*` settings and its upstream group's pool.
/// One per listener and reload (never per connection); the engine calls it at pick, connect, failure
/// and close, each through the pool's lock as nginx's workers share an upstream zone.
final class PoolRoute: ProxyRoute {
    let settings: RouteSettings
    let counters: EngineCounters
    let acceptLimiter: AcceptLimiter?
    let edge: SessionEdge?
    let sessionLog: SessionLog?
    let errorLog: SessionErrorLog?
    let pickKey: PickKey?
    private let upstream: UpstreamGroup

    init(target: ListenerTarget, acceptLimiter: AcceptLimiter? = nil) {
        let server = target.server
        self.upstream = target.upstream
        self.acceptLimiter = acceptLimiter
        self.edge = server.edge?.sessionEdge()
        self.sessionLog = target.sessionLog
        self.errorLog = target.errorLog
        self.counters = target.upstream.metrics.engine
        self.pickKey = target.upstream.pool.configuration.method.algorithm.pickKey.map(Self.pickKey)
        self.settings = RouteSettings(
            connectTimeout: Self.milliseconds(server.connectTimeout),
            // The engine's 0 is "no idle timeout"; the config's is nginx's timer of 0 ms (at once).
            idleTimeout: max(1, Self.milliseconds(server.idleTimeout)),
            halfClose: server.halfClose,
            tcpNoDelay: server.tcpNoDelay,
            nextUpstream: server.nextUpstream,
            nextUpstreamTries: server.nextUpstreamTries,
            nextUpstreamTimeout: Self.milliseconds(server.nextUpstreamTimeout),
            needsClientAddress: target.upstream.pool.configuration.method.algorithm.needsClientAddress,
            bufferSize: server.bufferSize ?? SessionState.backpressureLimit,
            uploadRate: server.uploadRate, downloadRate: server.downloadRate)
    }

    /// The engine's evaluator for a `hash KEY` template. A key with bytes outside ASCII (only
    /// `$binary_remote_addr` makes them) becomes a string of one scalar per byte, so distinct keys
    /// stay distinct (their hashes differ from nginx's, which hashes the raw bytes).
    static func pickKey(_ template: StreamTemplate) -> PickKey {
        let host = SessionValues.Host.current()
        return PickKey(needsServerAddress: template.variables.contains { $0.needsServerAddress }) { record in
            let bytes = template.evaluate(SessionValues(record: copy record, host: host))
            if bytes.allSatisfy({ $0 < 0x80 }) {
                return String(decoding: bytes, as: UTF8.self)
            }
            return String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
        }
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        let total = seconds.multipliedReportingOverflow(by: 1000)
        guard !total.overflow else { return Int64.max / 4 }
        // Rounded up, so 1 ns of timeout is not "none".
        let fraction = (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return min(total.partialValue + fraction, Int64.max / 4)
    }

    func pick(clientAddress: String?, tried: [String]) -> UpstreamPeer? {
        // Empty on the usual path: a Set is built only after a failed connect.
        let excluding: Set<MemberID> = tried.isEmpty ? [] : Set(tried.map { MemberID(rawValue: $0) })
        guard let pick = self.upstream.pool.pick(clientAddress: clientAddress, excluding: excluding) else {
            return nil
        }
        // Static names were resolved into numeric servers at start or reload; a registry member
        // whose host is a name is looked up in what the feed resolved (never resolved here, on a
        // worker). Not resolved: an invalid address, which the worker reports as a failed connect.
        let address =
            EngineAddress(numericHost: pick.host, port: pick.port)
            ?? self.upstream.addresses.address(host: pick.host, port: pick.port) ?? EngineAddress()
        return (key: pick.id.rawValue, address: address)
    }

    func connected(_ peer: String) {
        self.upstream.pool.connectSucceeded(MemberID(rawValue: peer))
    }

    func connectFailed(_ peer: String, reason: ConnectFailure) {
        let id = MemberID(rawValue: peer)
        let text = reason.description
        self.upstream.pool.connectFailed(id, reason: text)
        let pool = self.upstream.pool
        // A listener with an error log has the failure there, per session, from the worker.
        guard self.errorLog == nil else {
            self.upstream.metrics.connectFailures.increment()
            return
        }
        self.upstream.recordConnectFailure(
            member: id, address: pool.status().first { $0.id == peer }?.address ?? peer, reason: text)
    }

    func closed(_ peer: String) {
        self.upstream.pool.connectionClosed(MemberID(rawValue: peer))
    }

    func noLiveUpstreams() {
        self.upstream.recordNoLiveUpstreams(logged: self.errorLog == nil)
    }

    /// Asked only when a pick found nobody, so a count under the pool's lock costs nothing on the usual path.
    var peerTries: Int {
        self.upstream.pool.withState { state, _ in state.members.count(where: { $0.peer.listed && !$0.peer.down }) }
    }
}
