import Logging
import MusterBase

/// An async client for ZooKeeper over the C library (libzookeeper-mt).
///
/// One `ZooKeeperClient` is one logical connection. A plain disconnect keeps the session (its
/// ephemeral nodes and watches survive if the client reconnects within the session timeout).
/// When the session expires, the client reports `.expired` and opens a new session by itself;
/// owners of ephemeral nodes (``Registration``) and watches (``MembershipWatch``) react to that.
///
/// Every request is `async throws` and throws ``ZooKeeperError``. Requests are bounded by the C
/// library: a request in flight when the connection drops fails with `.connectionLoss`.
///
/// The layers, each in its own file: ``HandleOwner`` owns the C handle and runs every C call off
/// the cooperative pool; ``CallbackTable`` (one per client) and the C callbacks beside it connect
/// C to Swift; ``SessionMachine`` decides what a session event means; ``Chroot`` maps paths; this
/// file carries out the machine's actions and offers the session API, and
/// `ZooKeeperClient+Requests.swift` the requests. CConstants.swift holds the C boundary's values.
public final class ZooKeeperClient: Sendable {
    private struct Core {
        var machine = SessionMachine()
        var subscribers: [Int: Subscriber] = [:]
        var nextSubscriber = 0
    }

    /// One subscriber of the session stream: of states only, or of states with the session id.
    private enum Subscriber: Sendable {
        case states(AsyncStream<SessionState>.Continuation)
        case sessions(AsyncStream<Session>.Continuation)

        func yield(_ session: Session) {
            switch self {
            case .states(let continuation): continuation.yield(session.state)
            case .sessions(let continuation): continuation.yield(session)
            }
        }

        func finish() {
            switch self {
            case .states(let continuation): continuation.finish()
            case .sessions(let continuation): continuation.finish()
            }
        }
    }

    public let configuration: ZooKeeperConfiguration
    let logger: Logger
    let chroot: Chroot
    let owner = HandleOwner()
    private let hosts: String
    private let core = Locked(Core())

    /// Starts connecting at once; use ``waitUntilConnected(timeout:)`` or ``sessionStates()`` to
    /// learn when the session is up. Throws only for a malformed connection string.
    public convenience init(configuration: ZooKeeperConfiguration, logger: Logger) throws {
        try self.init(configuration: configuration, logger: logger, resuming: nil)
    }

    /// Opens a handle that attaches to an existing session (tests use this to force an expiry).
    package init(configuration: ZooKeeperConfiguration, logger: Logger, resuming session: (id: Int64, password: [UInt8])?) throws {
        let (hosts, chroot) = try configuration.parsed()
        self.configuration = configuration
        self.logger = logger
        self.hosts = hosts
        self.chroot = Chroot(prefix: chroot)
        quietCLibrary()
        if let generation = core.withLock({ $0.machine.nextHandle() }) {
            owner.perform { [weak self] in _ = self?.openHandle(generation: generation, resuming: session) }
        }
    }

    deinit {
        let subscribers = core.withLock { core -> [Subscriber] in
            _ = core.machine.close()
            defer { core.subscribers = [:] }
            return Array(core.subscribers.values)
        }
        // Outside the lock, as in `close()`.
        for continuation in subscribers { continuation.finish() }
        owner.closeForGood()
    }

    // MARK: Session

    /// The current session state.
    public var state: SessionState { core.withLock { $0.machine.state } }

    /// The current session id (0 before the first session is established).
    public var sessionID: Int64 { core.withLock { $0.machine.sessionID } }

    /// The id and password of the current session, for attaching a second handle (tests).
    package func sessionCredentials() -> (id: Int64, password: [UInt8])? {
        owner.sessionCredentials()
    }

    /// The session state now, then every change, until the client closes.
    public func sessionStates() -> AsyncStream<SessionState> {
        let (stream, continuation) = AsyncStream<SessionState>.makeStream(bufferingPolicy: .unbounded)
        if let key = subscribe(.states(continuation)) {
            continuation.onTermination = { [weak self] _ in self?.unsubscribe(key) }
        }
        return stream
    }

    /// ``sessionStates()`` with the session's id: what a reconciler needs to tell a new session
    /// (every watch gone) from a reconnect, and its own ephemeral nodes from a dead session's,
    /// without reading the client's properties again (the stream is the one source).
    public func sessions() -> AsyncStream<Session> {
        let (stream, continuation) = AsyncStream<Session>.makeStream(bufferingPolicy: .unbounded)
        if let key = subscribe(.sessions(continuation)) {
            continuation.onTermination = { [weak self] _ in self?.unsubscribe(key) }
        }
        return stream
    }

    /// Yields the session now to `subscriber` and keeps it for every change until the client
    /// closes: its key, to forget it when its stream is dropped, or nil if the client is closed.
    private func subscribe(_ subscriber: Subscriber) -> Int? {
        core.withLock { core in
            subscriber.yield(Session(state: core.machine.state, id: core.machine.sessionID))
            if core.machine.isClosed {
                subscriber.finish()
                return nil
            }
            let key = core.nextSubscriber
            core.nextSubscriber += 1
            core.subscribers[key] = subscriber
            return key
        }
    }

    private func unsubscribe(_ key: Int) {
        _ = core.withLock { $0.subscribers.removeValue(forKey: key) }
    }

    /// Waits until the session is connected. Throws `.timedOut`, `.authFailed` or `.clientClosed`.
    public func waitUntilConnected(timeout: Duration) async throws {
        let states = sessionStates()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await state in states {
                    switch state {
                    case .connected: return
                    case .authFailed: throw ZooKeeperError(.authFailed, operation: "connect")
                    case .closed: throw ZooKeeperError(.clientClosed, operation: "connect")
                    case .connecting, .expired: continue
                    }
                }
                throw ZooKeeperError(.clientClosed, operation: "connect")
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw ZooKeeperError(.timedOut, operation: "connect to \(self.hosts)")
            }
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    /// Closes the session: its ephemeral nodes are deleted by the server at once. The blocking C
    /// close runs on the handle's queue, off the cooperative thread pool.
    public func close() async {
        let (actions, subscribers) = core.withLock { core in
            let actions = core.machine.close()
            defer { if !actions.isEmpty { core.subscribers = [:] } }
            return (actions, actions.isEmpty ? [] : Array(core.subscribers.values))
        }
        guard !actions.isEmpty else { return }
        // Outside the lock: finishing a stream runs its termination handler at once, and that
        // handler takes the lock (the lock is not recursive: finishing inside it deadlocked).
        for subscriber in subscribers {
            subscriber.yield(Session(state: .closed, id: 0))
            subscriber.finish()
        }
        await owner.closeForGood()
        logger.debug("ZooKeeper client closed")
    }

    /// A session event of the handle of `generation` (on the C library's completion thread).
    func received(_ event: SessionMachine.HandleEvent, generation: Int) {
        let actions = core.withLock { core in
            let actions = core.machine.received(event, from: generation)
            publish(actions, in: core)
            return actions
        }
        for action in actions {
            switch action {
            case .log(let transition): log(transition)
            case .renewSession: owner.perform { [weak self] in self?.renewSession() }
            case .publish, .closeHandle: break
            }
        }
    }

    /// Yields the published states; under the lock, which yielding (unlike finishing) may take.
    private func publish(_ actions: [SessionMachine.Action], in core: Core) {
        for case .publish(let state) in actions {
            let session = Session(state: state, id: core.machine.sessionID)
            for subscriber in core.subscribers.values { subscriber.yield(session) }
        }
    }

    private func log(_ transition: SessionMachine.Transition) {
        var metadata: Logger.Metadata = ["zk.hosts": "\(hosts)"]
        switch transition {
        case .connected(let id), .newSession(let id):
            metadata["zk.state"] = "\(SessionState.connected)"
            metadata["zk.session"] = "0x\(String(UInt64(bitPattern: id), radix: 16))"
            if case .newSession = transition {
                logger.notice("ZooKeeper session established (new session)", metadata: metadata)
            } else {
                logger.info("ZooKeeper session connected", metadata: metadata)
            }
        case .expired:
            metadata["zk.state"] = "\(SessionState.expired)"
            logger.warning("ZooKeeper session expired; opening a new session", metadata: metadata)
        case .authFailed:
            metadata["zk.state"] = "\(SessionState.authFailed)"
            logger.error("ZooKeeper rejected the credentials; check the auth file", metadata: metadata)
        case .connectionLost:
            metadata["zk.state"] = "\(SessionState.connecting)"
            logger.warning("ZooKeeper connection lost; reconnecting", metadata: metadata)
        }
    }

    // MARK: Handles (on the owner's queue)

    /// Opens the handle of `generation`; returns the one it replaced.
    private func openHandle(generation: Int, resuming session: (id: Int64, password: [UInt8])? = nil) -> HandleOwner.Handle? {
        let events: SessionHandler = { [weak self] event in self?.received(event, generation: generation) }
        switch owner.open(hosts: hosts, sessionTimeout: configuration.sessionTimeout, generation: generation,
                          events: events, resuming: session) {
        case .opened(let handle, let previous):
            if let credentials = configuration.credentials {
                addDigestAuth(credentials, to: handle)
            }
            return previous
        case .failed(let code):
            logger.error("cannot create ZooKeeper handle; retrying", metadata: [
                "zk.hosts": "\(hosts)", "error": "\(describeErrno(code))",
            ])
            owner.perform(after: .seconds(1)) { [weak self] in
                guard let self, let next = self.core.withLock({ $0.machine.nextHandle() }) else { return }
                _ = self.openHandle(generation: next)
            }
            return nil
        case .closed:
            return nil
        }
    }

    /// After expiry: a new handle first (so requests can go on), then close the dead one.
    private func renewSession() {
        let renewal = core.withLock { core -> Int? in
            guard let (generation, actions) = core.machine.renewalStarted() else { return nil }
            publish(actions, in: core)
            return generation
        }
        guard let renewal else { return }
        if let expired = openHandle(generation: renewal) {
            owner.close(expired)
        }
    }

    private func addDigestAuth(_ credentials: DigestCredentials, to handle: HandleOwner.Handle) {
        let logger = self.logger
        let user = credentials.user
        let refused = owner.addDigestAuth(credentials.scheme, to: handle) { result in
            guard case .failure(let code) = result else { return }
            if code.isTransient {
                // Not a verdict on the credentials: the C client sends them again on reconnect.
                logger.debug("ZooKeeper digest authentication interrupted", metadata: ["zk.user": "\(user)", "zk.error": "\(code)"])
            } else {
                logger.error("ZooKeeper digest authentication failed", metadata: ["zk.user": "\(user)", "zk.error": "\(code)"])
            }
        }
        if let refused {
            logger.error("cannot add ZooKeeper digest credentials", metadata: ["zk.error": "\(refused)"])
        }
    }
}
