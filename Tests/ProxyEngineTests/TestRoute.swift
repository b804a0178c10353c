@testable import ProxyEngine

/// The engine tests' one route: its member is `address` (a loopback listener of the test, or an
/// address never dialled where the test adopts sockets directly), or none; it records what the
/// worker told it, in order.
final class TestRoute: ProxyRoute, @unchecked Sendable {
    // @unchecked Sendable: used from the test's thread only (the worker core runs on it too).
    let settings: RouteSettings
    let counters = EngineCounters(workers: 1)
    let acceptLimiter: AcceptLimiter?
    let edge: SessionEdge?
    var address: EngineAddress
    var sessionLog: SessionLog?
    var errorLog: SessionErrorLog?
    /// false: every pick finds no live member.
    var hasMembers: Bool
    /// How many tries a session's record keeps (the engine's default: all).
    var peerTries = Int.max
    /// true: only a session's first try gets the member; a retry finds none.
    let firstTryOnly: Bool
    var events: [String] = []
    var picks: Int { self.events.filter { $0 == "pick" }.count }
    /// What the last pick was given as the client's address (hash balancing).
    var pickedFor: String?

    init(
        settings: RouteSettings = RouteSettings(connectTimeout: 1_000, idleTimeout: 0, halfClose: false),
        port: Int = 9, hasMembers: Bool = true, firstTryOnly: Bool = true,
        acceptLimiter: AcceptLimiter? = nil, edge: SessionEdge? = nil
    ) {
        self.settings = settings
        self.address = EngineAddress(numericHost: "127.0.0.1", port: port)!
        self.hasMembers = hasMembers
        self.firstTryOnly = firstTryOnly
        self.acceptLimiter = acceptLimiter
        self.edge = edge
    }

    func pick(clientAddress: String?, tried: [String]) -> UpstreamPeer? {
        self.events.append("pick")
        self.pickedFor = clientAddress
        guard self.hasMembers, tried.isEmpty || !self.firstTryOnly else { return nil }
        return (key: "m", address: self.address)
    }
    func connected(_ peer: String) { self.events.append("connected") }
    func connectFailed(_ peer: String, reason: ConnectFailure) { self.events.append("failed") }
    func closed(_ peer: String) { self.events.append("closed") }
    func noLiveUpstreams() { self.events.append("none") }
}
