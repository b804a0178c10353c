import CProxyEngine
#if canImport(Glibc)
import Glibc
#endif
import MusterBase
import Synchronization

/// The balancer's data path: `workers` threads, each an edge-triggered epoll loop (`WorkerCore`)
/// with its own connection table, timers and buffers. The control plane talks to it only through
/// this type: bind and add listeners, swap their routes on reload, remove them, close everything,
/// stop. Each of those is a command on the workers' queues; none touches a connection directly.
///
/// Why it is written by hand rather than on SwiftNIO (which the admin endpoint, the agent and the
/// chat server keep using): NIO's per-connection Channels, pipelines, promises and closures cost 39
/// system calls per proxied connection, 13 of them `epoll_ctl`, against nginx's 17 and 2, and most
/// of 5 KB per idle connection (bench/TUNING.md). Here a connection is a value-type record in a
/// table, each socket is registered once, and an idle connection owns no buffer.
public final class ProxyEngine: Sendable {
    /// A bound `listen`: its sockets (one shared by every worker, or one per worker with `reuseport`).
    public struct Listener: Sendable, Hashable {
        public let id: Int
        public let fds: [Int32]
        /// The bound port (the one the kernel chose for port 0).
        public let port: Int
        public let host: String
        let noDelay: Bool
    }

    public let workerCount: Int
    private let mailboxes: [WorkerMailbox]
    private let shared: EngineShared
    private let nextListenerID = Mutex(1)
    private let stopped = Mutex(false)

    /// Starts `workers` worker threads.
    public init(workers: Int) throws(EngineError) {
        let count = max(1, workers)
        self.workerCount = count
        self.shared = EngineShared(workers: count)
        var mailboxes: [WorkerMailbox] = []
        var cores: [WorkerCore] = []
        for index in 0..<count {
            let mailbox = try WorkerMailbox()
            mailboxes.append(mailbox)
            cores.append(try WorkerCore(index: index, mailbox: mailbox, shared: self.shared))
        }
        self.mailboxes = mailboxes
        for core in cores {
            try Self.startThread(running: core)
        }
    }

    /// One detached pthread per worker, named `balancer-wN` (what `top -H` and `ps -L` show).
    /// Foundation's `Thread` left them named after a libdispatch queue.
    private static func startThread(running core: WorkerCore) throws(EngineError) {
        let context = Unmanaged.passRetained(CoreBox(core)).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(&thread, nil, { context in
            let box = Unmanaged<CoreBox>.fromOpaque(context!).takeRetainedValue()
            var core = box.take()
            cpe_name_thread("balancer-w\(core.index)")
            core.run()
            return nil
        }, context)
        guard result == 0 else {
            Unmanaged<CoreBox>.fromOpaque(context).release()
            throw .system(call: "pthread_create", errno: result)
        }
        pthread_detach(thread)
    }

    /// The most client connections open at once over all workers (`worker_connections`), nil = no limit.
    /// A lower limit applies to new clients only.
    public var connectionLimit: Int? {
        get { self.shared.limit }
        set { self.shared.limit = newValue }
    }

    /// `events { multi_accept on|off; }`: on, each wake-up of a worker accepts what is queued on a
    /// listener (at most `WorkerCore.acceptBatch`, until `accept4` says EAGAIN); off, one client,
    /// as nginx does. The listeners are level-triggered, so with off the next `epoll_wait` reports
    /// a listener that still has clients queued. Read by the workers at each wake-up.
    public var multiAccept: Bool {
        get { self.shared.multiAccept }
        set { self.shared.multiAccept = newValue }
    }

    /// Client connections open now (accepted and not yet closed).
    public var openConnections: Int { self.shared.open }

    /// Clients closed at accept because of `worker_connections`, summed over the workers.
    public var refusedConnections: Int { self.shared.counters.total(.refused) }

    /// Binds the sockets of one `listen` (one, or one per worker with `reusePort`). Nothing accepts
    /// until `add`. `address` names the listen in errors, e.g. `127.0.0.1:8000`.
    public func bind(
        host: String, port: Int, backlog: Int, reusePort: Bool, tcpNoDelay: Bool
    ) throws(EngineError) -> Listener {
        let address = Endpoint(host: host, port: port).description
        guard var socketAddress = EngineAddress(numericHost: host, port: port) else {
            throw EngineError.badListenAddress(address)
        }
        var fds: [Int32] = []
        var boundPort = port
        for _ in 0..<(reusePort ? self.workerCount : 1) {
            // Port 0 picks a free port once; the other workers' sockets join that one.
            if boundPort != port, let again = EngineAddress(numericHost: host, port: boundPort) {
                socketAddress = again
            }
            let fd = cpe_listen(
                &socketAddress.storage, socketAddress.length, Int32(clamping: backlog), reusePort ? 1 : 0,
                tcpNoDelay ? 1 : 0)
            guard fd >= 0 else {
                for open in fds {
                    cpe_close(open)
                }
                throw EngineError.bind(address: address, errno: -fd)
            }
            fds.append(fd)
            if boundPort == 0 {
                boundPort = Int(cpe_local_port(fd))
            }
        }
        let id = self.nextListenerID.withLock { id in
            defer { id += 1 }
            return id
        }
        return Listener(id: id, fds: fds, port: boundPort, host: host, noDelay: tcpNoDelay)
    }

    /// Starts accepting on `listener`, proxying with `route`.
    public func add(_ listener: Listener, route: any ProxyRoute) {
        for (index, mailbox) in self.mailboxes.enumerated() {
            let shared = listener.fds.count == 1
            let fd = shared ? listener.fds[0] : listener.fds[index % listener.fds.count]
            mailbox.send(.addListener(id: listener.id, fd: fd, exclusive: shared, noDelay: listener.noDelay, route: route))
        }
    }

    /// New connections of `listener` use `route`; established ones keep the route they started with.
    public func update(_ listener: Listener, route: any ProxyRoute) {
        for mailbox in self.mailboxes {
            mailbox.send(.updateRoute(id: listener.id, route: route))
        }
    }

    /// Stops accepting on `listener` and closes its sockets; established connections are not affected.
    public func remove(_ listener: Listener) async {
        for mailbox in self.mailboxes {
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                mailbox.send(.removeListener(id: listener.id, done: done))
            }
        }
        for fd in listener.fds {
            cpe_close(fd)
        }
    }

    /// Closes a bound listener that was never added.
    public func discard(_ listener: Listener) {
        for fd in listener.fds {
            cpe_close(fd)
        }
    }

    /// Closes every open connection now (the end of a drain).
    public func closeAll() {
        for mailbox in self.mailboxes {
            mailbox.send(.closeAll)
        }
    }

    /// Returns once no client connection is open, or when `timeout` has passed; true if none is open.
    public func waitUntilEmpty(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while self.openConnections > 0 {
            if ContinuousClock.now >= deadline || Task.isCancelled { return false }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return true
    }

    /// Closes every connection and ends the worker threads. Listeners must have been removed.
    public func shutdown() async {
        let first = self.stopped.withLock { stopped in
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        for mailbox in self.mailboxes {
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                mailbox.send(.stop(done: done))
            }
        }
        for mailbox in self.mailboxes {
            cpe_close(mailbox.eventFD)
        }
    }
}

/// Hands a worker's core to its thread.
private final class CoreBox: @unchecked Sendable {
    // @unchecked Sendable: filled before the thread starts and emptied once by that thread; no other
    // thread touches it after `pthread_create`.
    private var core: WorkerCore?

    init(_ core: WorkerCore) {
        self.core = core
    }

    func take() -> WorkerCore {
        defer { self.core = nil }
        return self.core!
    }
}
