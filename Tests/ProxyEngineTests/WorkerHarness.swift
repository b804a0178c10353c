import CProxyEngine
import ProxyProtocolCodec
import Testing

#if canImport(Glibc)
import Glibc
#endif

@testable import ProxyEngine

/// One worker core, turned on the test's thread, and the sockets a test gives it: a loopback listener
/// standing for the route's one member, clients adopted as the balancer's accept does it, and the
/// member's end of each upstream connection. What the test has not closed itself, `closeAll()` closes.
final class WorkerHarness {
    var core: WorkerCore
    let route: TestRoute
    /// The member's listener, which the route dials; -1 for a route that dials nothing.
    let memberListener: Int32
    /// The test's ends of its sockets still open, each closed once (a second close could hit a
    /// descriptor a test running beside this one has been given since).
    private var open: Set<Int32> = []

    /// A worker for `route`, with no member listener: its address is never dialled, or fails.
    init(route: TestRoute) throws {
        self.memberListener = -1
        self.route = route
        self.core = try WorkerCore(index: 0, mailbox: WorkerMailbox(), shared: EngineShared(workers: 1))
    }

    /// A worker for the route that `makeRoute` builds to the port of a new loopback listener, the member.
    init(routeToMember makeRoute: (_ memberPort: Int) -> TestRoute) throws {
        let listener = Self.listen()
        self.memberListener = listener
        self.route = makeRoute(Int(cpe_local_port(listener)))
        self.core = try WorkerCore(index: 0, mailbox: WorkerMailbox(), shared: EngineShared(workers: 1))
    }

    /// A loopback listener on a free port.
    static func listen(backlog: Int32 = 16) -> Int32 {
        var address = EngineAddress(numericHost: "127.0.0.1", port: 0)!
        let fd = cpe_listen(&address.storage, address.length, backlog, 0, 1)
        precondition(fd >= 0)
        return fd
    }

    /// A socketpair client adopted as if accepted from `peer`; returns the test's end.
    @discardableResult
    func client(from peer: ProxyProtocolEndpoint? = nil, sourceLocation: SourceLocation = #_sourceLocation) -> Int32 {
        var pair: [Int32] = [0, 0]
        let flags = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
        #expect(socketpair(AF_UNIX, flags, 0, &pair) == 0, sourceLocation: sourceLocation)
        #expect(self.core.shared.admit(), sourceLocation: sourceLocation)
        self.core.adopt(clientFD: pair[0], route: self.route, clientEndpoint: peer)
        return self.opened(pair[1])
    }

    /// A real TCP client from 127.0.0.1 through a second loopback listener (standing for the
    /// balancer's `listen`), its accepted end adopted as the balancer's accept does it. Returns the
    /// test's end and the two ports the outgoing PROXY line names when no realip applies.
    func tcpClient() -> (fd: Int32, clientPort: Int, frontPort: Int) {
        let front = Self.listen()
        defer { cpe_close(front) }
        let frontPort = Int(cpe_local_port(front))
        let client = self.opened(cpe_socket(AF_INET))
        var target = EngineAddress(numericHost: "127.0.0.1", port: frontPort)!
        _ = cpe_connect(client, &target.storage, target.length)
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        var accepted: Int32 = -1
        for _ in 0..<200 where accepted < 0 {
            accepted = cpe_accept(front, &storage, &length)
            if accepted < 0 { usleep(1_000) }
        }
        precondition(accepted >= 0 && self.core.shared.admit())
        self.core.adopt(
            clientFD: accepted, route: self.route, clientAddress: "127.0.0.1",
            clientEndpoint: ProxyProtocolEndpoint(socketAddress: storage), client: RecordAddress(storage))
        return (client, Int(cpe_local_port(client)), frontPort)
    }

    /// The member's end of the next upstream connection, turning the worker meanwhile; -1 if none came.
    func member() -> Int32 {
        for _ in 0..<400 {
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let fd = cpe_accept(self.memberListener, &storage, &length)
            if fd >= 0 { return self.opened(fd) }
            self.core.turn(maxWait: 2)
        }
        return -1
    }

    /// A client from `peer` that the worker lets through: both of the test's ends, the member's once
    /// it has come (-1 if none did).
    @discardableResult
    func proxied(from peer: ProxyProtocolEndpoint, sourceLocation: SourceLocation = #_sourceLocation) -> (
        client: Int32, member: Int32
    ) {
        let client = self.client(from: peer, sourceLocation: sourceLocation)
        let member = self.member()
        #expect(member >= 0, "no upstream connection came", sourceLocation: sourceLocation)
        return (client, member)
    }

    /// Whether a client from `peer` is closed before it has sent anything.
    func refuses(_ peer: ProxyProtocolEndpoint) -> Bool {
        self.read(self.client(from: peer), 0).eof
    }

    /// Reads until `count` bytes (any, for 0) or EOF, turning the worker.
    func read(_ fd: Int32, _ count: Int) -> (bytes: [UInt8], eof: Bool) {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        for _ in 0..<2_000 {
            self.core.turn(maxWait: 1)
            let n = buffer.withUnsafeMutableBytes { cpe_read(fd, $0.baseAddress, UInt($0.count)) }
            if n > 0 { out += buffer[0..<n] } else if n == 0 { return (out, true) }
            if count > 0 && out.count >= count { return (out, false) }
        }
        return (out, false)
    }

    /// Sends all of `bytes` at once, as a small write to a socket with room does.
    func write(_ fd: Int32, _ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) {
        let sent = bytes.withUnsafeBytes { cpe_send(fd, $0.baseAddress, UInt(bytes.count)) }
        #expect(sent == bytes.count, sourceLocation: sourceLocation)
    }

    func write(_ fd: Int32, _ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        self.write(fd, Array(text.utf8), sourceLocation: sourceLocation)
    }

    /// Turns the worker until no session is open, for a bounded while; whether none is.
    func sessionsEnded() -> Bool {
        for _ in 0..<200 where self.core.openSessions > 0 { self.core.turn(maxWait: 2) }
        return self.core.openSessions == 0
    }

    /// Closes the test's ends `fds` now (an EOF, or an end, for the worker to see).
    func close(_ fds: Int32...) {
        for fd in fds {
            if self.open.remove(fd) != nil { cpe_close(fd) }
        }
    }

    /// Closes every socket of the test's still open, and the member listener.
    func closeAll() {
        for fd in self.open { cpe_close(fd) }
        self.open.removeAll()
        if self.memberListener >= 0 { cpe_close(self.memberListener) }
    }

    private func opened(_ fd: Int32) -> Int32 {
        if fd >= 0 { self.open.insert(fd) }
        return fd
    }
}
