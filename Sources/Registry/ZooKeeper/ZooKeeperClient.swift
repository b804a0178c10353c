import CZooKeeper
import Dispatch
import Foundation
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
public final class ZooKeeperClient: Sendable {
    /// A raw C handle. `@unchecked Sendable`: the pointer is only used while `Core` is locked or by
    /// the one task that took it out of `Core` to close it; the C library itself is thread-safe.
    struct Handle: @unchecked Sendable {
        let raw: OpaquePointer
    }

    /// The retained handle context. `@unchecked Sendable`: released exactly once, after close.
    struct RetainedContext: @unchecked Sendable {
        let unmanaged: Unmanaged<HandleContext>
    }

    private struct Core {
        var handle: Handle?
        var context: RetainedContext?
        var generation = 0
        var state: SessionState = .connecting
        var sessionID: Int64 = 0
        var subscribers: [Int: AsyncStream<SessionState>.Continuation] = [:]
        var nextSubscriber = 0
        var closed = false
        var renewing = false
    }

    public let configuration: ZooKeeperConfiguration
    let logger: Logger
    private let hosts: String
    private let chroot: String
    private let core = Locked(Core())
    /// Blocking C calls (`zookeeper_close`) run here, never on the cooperative pool or in a callback.
    private let blockingQueue = DispatchQueue(label: "muster.zookeeper.handle")

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
        self.chroot = chroot
        muster_zoo_quiet()
        openHandle(resuming: session)
    }

    deinit {
        let leftovers = core.withLock { core -> (Handle?, RetainedContext?, [AsyncStream<SessionState>.Continuation]) in
            let taken = (core.handle, core.context, Array(core.subscribers.values))
            core.handle = nil
            core.context = nil
            core.subscribers = [:]
            return taken
        }
        // Outside the lock, as in `close()`.
        for continuation in leftovers.2 { continuation.finish() }
        for handler in CallbackRegistry.shared.takeWatches(owner: ObjectIdentifier(self)) { handler(.sessionLost) }
        if let handle = leftovers.0 {
            let context = leftovers.1
            blockingQueue.async {
                zookeeper_close(handle.raw)
                context?.unmanaged.release()
            }
        }
    }

    // MARK: Session

    /// The current session state.
    public var state: SessionState { core.withLock { $0.state } }

    /// The current session id (0 before the first session is established).
    public var sessionID: Int64 { core.withLock { $0.sessionID } }

    /// The id and password of the current session, for attaching a second handle (tests).
    package func sessionCredentials() -> (id: Int64, password: [UInt8])? {
        core.withLock { core in
            guard let handle = core.handle, let id = zoo_client_id(handle.raw) else { return nil }
            let password = withUnsafeBytes(of: id.pointee.passwd) { Array($0) }
            return (id.pointee.client_id, password)
        }
    }

    /// The session state now, then every change, until the client closes.
    public func sessionStates() -> AsyncStream<SessionState> {
        let (stream, continuation) = AsyncStream<SessionState>.makeStream(bufferingPolicy: .unbounded)
        let key: Int? = core.withLock { core in
            continuation.yield(core.state)
            if core.closed {
                continuation.finish()
                return nil
            }
            let key = core.nextSubscriber
            core.nextSubscriber += 1
            core.subscribers[key] = continuation
            return key
        }
        if let key {
            continuation.onTermination = { [weak self] _ in
                _ = self?.core.withLock { $0.subscribers.removeValue(forKey: key) }
            }
        }
        return stream
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

    /// Closes the session: its ephemeral nodes are deleted by the server at once. Runs the blocking
    /// C close off the cooperative thread pool.
    public func close() async {
        let closing = core.withLock { core -> (handle: Handle?, context: RetainedContext?, subscribers: [AsyncStream<SessionState>.Continuation])? in
            guard !core.closed else { return nil }
            core.closed = true
            core.state = .closed
            let subscribers = Array(core.subscribers.values)
            core.subscribers = [:]
            let taken = (core.handle, core.context, subscribers)
            core.handle = nil
            core.context = nil
            return taken
        }
        guard let closing else { return }
        // Outside the lock: finishing a stream runs its termination handler at once, and that
        // handler takes the lock (the lock is not recursive: finishing inside it deadlocked).
        for continuation in closing.subscribers {
            continuation.yield(.closed)
            continuation.finish()
        }
        let taken = (closing.handle, closing.context)
        for handler in CallbackRegistry.shared.takeWatches(owner: ObjectIdentifier(self)) { handler(.sessionLost) }
        guard let handle = taken.0 else { return }
        let context = taken.1
        let queue = blockingQueue
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            queue.async {
                zookeeper_close(handle.raw)
                context?.unmanaged.release()
                continuation.resume()
            }
        }
        logger.debug("ZooKeeper client closed")
    }

    private func openHandle(resuming session: (id: Int64, password: [UInt8])? = nil) {
        let timeoutMs = Int32(clamping: configuration.sessionTimeout.components.seconds * 1000
            + configuration.sessionTimeout.components.attoseconds / 1_000_000_000_000_000)
        let generation = core.withLock { core -> Int in
            core.generation += 1
            return core.generation
        }
        let context = Unmanaged.passRetained(HandleContext(client: self, generation: generation))
        var clientID = clientid_t()
        if let session {
            clientID.client_id = session.id
            withUnsafeMutableBytes(of: &clientID.passwd) { buffer in
                for (index, byte) in session.password.prefix(buffer.count).enumerated() { buffer[index] = byte }
            }
        }
        let raw: OpaquePointer? = hosts.withCString { hostsPointer in
            withUnsafePointer(to: &clientID) { idPointer in
                zookeeper_init2(hostsPointer, sessionWatcher, timeoutMs, session == nil ? nil : idPointer,
                                context.toOpaque(), 0, zookeeperLog)
            }
        }
        guard let raw else {
            let code = errno
            context.release()
            logger.error("cannot create ZooKeeper handle; retrying", metadata: [
                "zk.hosts": "\(hosts)", "error": "\(String(cString: strerror(code)))",
            ])
            blockingQueue.asyncAfter(deadline: .now() + 1) { [weak self] in
                guard let self, !self.core.withLock({ $0.closed }) else { return }
                self.openHandle()
            }
            return
        }
        let handle = Handle(raw: raw)
        let stillOpen = core.withLock { core -> Bool in
            guard !core.closed else { return false }
            core.handle = handle
            core.context = RetainedContext(unmanaged: context)
            return true
        }
        guard stillOpen else {
            let retained = RetainedContext(unmanaged: context)
            blockingQueue.async {
                zookeeper_close(handle.raw)
                retained.unmanaged.release()
            }
            return
        }
        if let credentials = configuration.credentials {
            addDigestAuth(credentials, handle: handle)
        }
    }

    private func addDigestAuth(_ credentials: DigestCredentials, handle: Handle) {
        let logger = self.logger
        let user = credentials.user
        let token = CallbackRegistry.shared.addCompletion { rc, _ in
            guard rc != 0 else { return }
            let code = ZooKeeperError.Code(rawCode: rc)
            if code.isTransient {
                // Not a verdict on the credentials: the C client sends them again on reconnect.
                logger.debug("ZooKeeper digest authentication interrupted", metadata: ["zk.user": "\(user)", "zk.error": "\(code)"])
            } else {
                logger.error("ZooKeeper digest authentication failed", metadata: ["zk.user": "\(user)", "zk.error": "\(code)"])
            }
        }
        let scheme = credentials.scheme
        let rc = core.withLock { _ in
            scheme.withCString { cert in
                zoo_add_auth(handle.raw, "digest", cert, Int32(strlen(cert)), voidCompletion, tokenPointer(token))
            }
        }
        if rc != 0 {
            _ = CallbackRegistry.shared.takeCompletion(token)
            logger.error("cannot add ZooKeeper digest credentials", metadata: ["zk.error": "\(ZooKeeperError.Code(rawCode: rc))"])
        }
    }

    /// Called on the C completion thread for every session event of every handle this client opened.
    func handleSessionEvent(state cState: Int32, sessionID: Int64, generation: Int) {
        let newState: SessionState
        switch cState {
        case muster_state_connected(), muster_state_readonly(): newState = .connected
        case muster_state_expired(): newState = .expired
        case muster_state_auth_failed(): newState = .authFailed
        default: newState = .connecting
        }
        var renew = false
        var previousSession: Int64 = 0
        let changed = core.withLock { core -> Bool in
            guard generation == core.generation, !core.closed else { return false }
            previousSession = core.sessionID
            if newState == .connected, sessionID != 0 { core.sessionID = sessionID }
            if newState == .expired, !core.renewing {
                core.renewing = true
                renew = true
            }
            guard core.state != newState else { return false }
            core.state = newState
            for continuation in core.subscribers.values { continuation.yield(newState) }
            return true
        }
        if changed {
            var metadata: Logger.Metadata = ["zk.state": "\(newState)", "zk.hosts": "\(hosts)"]
            if newState == .connected { metadata["zk.session"] = "0x\(String(UInt64(bitPattern: sessionID), radix: 16))" }
            switch newState {
            case .connected where previousSession != 0 && previousSession != sessionID:
                logger.notice("ZooKeeper session established (new session)", metadata: metadata)
            case .connected:
                logger.info("ZooKeeper session connected", metadata: metadata)
            case .expired:
                logger.warning("ZooKeeper session expired; opening a new session", metadata: metadata)
            case .authFailed:
                logger.error("ZooKeeper rejected the credentials; check the auth file", metadata: metadata)
            case .connecting:
                logger.warning("ZooKeeper connection lost; reconnecting", metadata: metadata)
            case .closed:
                break
            }
        }
        if renew {
            blockingQueue.async { [weak self] in self?.renewSession() }
        }
    }

    /// After expiry: a new handle first (so requests can go on), then close the dead one.
    private func renewSession() {
        let old = core.withLock { core -> (Handle?, RetainedContext?) in
            let taken = (core.handle, core.context)
            core.handle = nil
            core.context = nil
            core.renewing = false
            core.state = .connecting
            for continuation in core.subscribers.values { continuation.yield(.connecting) }
            return taken
        }
        guard !core.withLock({ $0.closed }) else { return }
        openHandle()
        if let handle = old.0 {
            zookeeper_close(handle.raw)
        }
        old.1?.unmanaged.release()
    }

    // MARK: Paths

    func fullPath(_ path: String, operation: String) throws -> String {
        guard ServicePath.zooKeeperProblem(with: path) == nil else {
            throw ZooKeeperError(.badArguments, operation: operation, path: path)
        }
        if chroot.isEmpty { return path }
        return path == "/" ? chroot : chroot + path
    }

    func clientPath(_ full: String) -> String {
        guard !chroot.isEmpty, full.hasPrefix(chroot) else { return full }
        let rest = String(full.dropFirst(chroot.count))
        return rest.isEmpty ? "/" : rest
    }

    // MARK: Requests

    /// Issues one asynchronous C request and waits for its completion.
    func request<T: Sendable>(
        _ operation: String, _ path: String,
        watch: WatchHandler? = nil,
        issue: (Handle, UnsafePointer<CChar>, UnsafeRawPointer?, UnsafeMutableRawPointer?) -> Int32,
        decode: @escaping @Sendable (CompletionPayload) -> T?
    ) async throws -> T {
        let full = try fullPath(path, operation: operation)
        let watchToken = watch.map { CallbackRegistry.shared.addWatch(owner: ObjectIdentifier(self), $0) }
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let token = CallbackRegistry.shared.addCompletion { rc, payload in
                if rc == 0, let value = decode(payload) {
                    continuation.resume(returning: value)
                } else {
                    // exists() on a missing node still sets its watch; every other failure does not.
                    if let watchToken, !(operation == "exists" && rc == -101) {
                        _ = CallbackRegistry.shared.takeWatch(watchToken)
                    }
                    if operation == "exists", rc == -101, let value = decode(.stat(nil)) {
                        continuation.resume(returning: value)
                        return
                    }
                    continuation.resume(throwing: ZooKeeperError(ZooKeeperError.Code(rawCode: rc == 0 ? -5 : rc), operation: operation, path: path))
                }
            }
            // The C calls below only queue the request (they never wait for the completion thread),
            // so they may run under the lock that keeps the handle from being closed meanwhile.
            let rc: Int32 = core.withLock { core in
                if core.closed { return -116 }
                guard let handle = core.handle else { return -4 }
                return full.withCString { cPath in
                    issue(handle, cPath, tokenPointer(token), watchToken.map { UnsafeMutableRawPointer(bitPattern: $0) } ?? nil)
                }
            }
            if rc != 0 {
                if let watchToken { _ = CallbackRegistry.shared.takeWatch(watchToken) }
                CallbackRegistry.shared.takeCompletion(token)?(rc, .none)
            }
        }
    }

    /// Creates a node and returns its path (with the sequence suffix for sequential modes).
    /// With `makeParents`, missing ancestors are created as persistent nodes with `parentACL`.
    @discardableResult
    public func create(_ path: String, data: [UInt8] = [], mode: CreateMode = .persistent, acl: NodeACL = .open,
                       makeParents: Bool = false, parentACL: NodeACL = .open) async throws -> String {
        do {
            return try await createOnce(path, data: data, mode: mode, acl: acl)
        } catch let error as ZooKeeperError where error.code == .noNode && makeParents {
            try await createParents(of: path, acl: parentACL)
            return try await createOnce(path, data: data, mode: mode, acl: acl)
        }
    }

    /// Creates every missing ancestor of `path` (and the chroot) as a persistent node.
    public func createParents(of path: String, acl: NodeACL = .open) async throws {
        let full = try fullPath(path, operation: "create")
        var components = full.split(separator: "/").map(String.init)
        components.removeLast()
        var prefix = ""
        for component in components {
            prefix += "/" + component
            let clientSide = clientPath(prefix)
            if !chroot.isEmpty, prefix.count < chroot.count || prefix == chroot {
                try await createRaw(fullPath: prefix, label: clientSide)
                continue
            }
            do {
                try await createOnce(clientSide, data: [], mode: .persistent, acl: acl)
            } catch let error as ZooKeeperError where error.code == .nodeExists {
                continue
            }
        }
    }

    /// Creates a chroot component, which lies outside the client-visible tree.
    private func createRaw(fullPath: String, label: String) async throws {
        do {
            _ = try await request("create", label, issue: { handle, _, token, _ in
                fullPath.withCString { cPath in
                    withACL(.open) { acl in
                        zoo_acreate(handle.raw, cPath, nil, -1, acl, muster_zoo_persistent(), stringCompletion, token)
                    }
                }
            }, decode: { _ in () })
        } catch let error as ZooKeeperError where error.code == .nodeExists {
            return
        }
    }

    @discardableResult
    private func createOnce(_ path: String, data: [UInt8], mode: CreateMode, acl: NodeACL) async throws -> String {
        let flags: Int32 = switch mode {
        case .persistent: muster_zoo_persistent()
        case .ephemeral: muster_zoo_ephemeral()
        case .persistentSequential: muster_zoo_sequence()
        case .ephemeralSequential: muster_zoo_ephemeral() | muster_zoo_sequence()
        }
        let created: String = try await request("create", path, issue: { handle, cPath, token, _ in
            withACL(acl) { aclVector in
                data.withUnsafeBytes { buffer in
                    zoo_acreate(handle.raw, cPath, buffer.baseAddress?.assumingMemoryBound(to: CChar.self),
                                Int32(buffer.count), aclVector, flags, stringCompletion, token)
                }
            }
        }, decode: { payload in
            if case .string(let name) = payload { return name ?? path }
            return nil
        })
        return clientPath(created)
    }

    /// Deletes a node; `version` -1 matches any version.
    public func delete(_ path: String, version: Int32 = -1) async throws {
        let _: Void = try await request("delete", path, issue: { handle, cPath, token, _ in
            zoo_adelete(handle.raw, cPath, version, voidCompletion, token)
        }, decode: { _ in () })
    }

    /// The node's stat, or nil if it does not exist.
    public func exists(_ path: String) async throws -> NodeStat? {
        let result: NodeStat?? = try await request("exists", path, issue: { handle, cPath, token, _ in
            zoo_aexists(handle.raw, cPath, 0, statCompletion, token)
        }, decode: { payload in
            if case .stat(let stat) = payload { return .some(stat) }
            return nil
        })
        return result ?? nil
    }

    /// The node's stat (nil if missing) and a watch that fires when it is created, deleted or changed.
    public func existsWatching(_ path: String) async throws -> (stat: NodeStat?, watch: NodeWatch) {
        let (watch, handler) = NodeWatch.make(mapPath: clientPath)
        let result: NodeStat?? = try await request("exists", path, watch: handler, issue: { handle, cPath, token, watchContext in
            zoo_awexists(handle.raw, cPath, nodeWatcher, watchContext, statCompletion, token)
        }, decode: { payload in
            if case .stat(let stat) = payload { return .some(stat) }
            return nil
        })
        return (result ?? nil, watch)
    }

    /// The node's data and stat.
    public func getData(_ path: String) async throws -> (data: [UInt8], stat: NodeStat) {
        try await request("get", path, issue: { handle, cPath, token, _ in
            zoo_aget(handle.raw, cPath, 0, dataCompletion, token)
        }, decode: Self.decodeData)
    }

    /// The node's data and stat, and a watch that fires when it changes or is deleted.
    public func getDataWatching(_ path: String) async throws -> (data: [UInt8], stat: NodeStat, watch: NodeWatch) {
        let (watch, handler) = NodeWatch.make(mapPath: clientPath)
        let (data, stat) = try await request("get", path, watch: handler, issue: { handle, cPath, token, watchContext in
            zoo_awget(handle.raw, cPath, nodeWatcher, watchContext, dataCompletion, token)
        }, decode: Self.decodeData)
        return (data, stat, watch)
    }

    private static let decodeData: @Sendable (CompletionPayload) -> ([UInt8], NodeStat)? = { payload in
        if case .data(let bytes, let stat) = payload { return (bytes ?? [], stat ?? NodeStat()) }
        return nil
    }

    /// Replaces the node's data; `version` -1 matches any version. Returns the new stat.
    @discardableResult
    public func setData(_ path: String, data: [UInt8], version: Int32 = -1) async throws -> NodeStat {
        try await request("set", path, issue: { handle, cPath, token, _ in
            data.withUnsafeBytes { buffer in
                zoo_aset(handle.raw, cPath, buffer.baseAddress?.assumingMemoryBound(to: CChar.self),
                         Int32(buffer.count), version, statCompletion, token)
            }
        }, decode: { payload in
            if case .stat(let stat) = payload { return stat ?? NodeStat() }
            return nil
        })
    }

    /// The names of the node's children (unsorted, as the server returns them).
    public func getChildren(_ path: String) async throws -> [String] {
        try await request("children", path, issue: { handle, cPath, token, _ in
            zoo_aget_children2(handle.raw, cPath, 0, stringsStatCompletion, token)
        }, decode: Self.decodeChildren).children
    }

    /// The node's children and stat, and a watch that fires when a child is added or removed
    /// (or the node itself is deleted).
    public func getChildrenWatching(_ path: String) async throws -> (children: [String], stat: NodeStat, watch: NodeWatch) {
        let (watch, handler) = NodeWatch.make(mapPath: clientPath)
        let (children, stat) = try await request("children", path, watch: handler, issue: { handle, cPath, token, watchContext in
            zoo_awget_children2(handle.raw, cPath, nodeWatcher, watchContext, stringsStatCompletion, token)
        }, decode: Self.decodeChildren)
        return (children, stat, watch)
    }

    private static let decodeChildren: @Sendable (CompletionPayload) -> (children: [String], stat: NodeStat)? = { payload in
        if case .strings(let names, let stat) = payload { return (names, stat ?? NodeStat()) }
        return nil
    }
}

/// Builds a C ACL vector for the duration of `body` (the C library copies it while marshalling).
func withACL<R>(_ acl: NodeACL, _ body: (UnsafePointer<ACL_vector>) -> R) -> R {
    let entries: [(Int32, String, String)] = switch acl {
    case .open: [(muster_perm_all(), "world", "anyone")]
    case .creatorAll: [(muster_perm_all(), "auth", "")]
    case .creatorAllWorldRead: [(muster_perm_all(), "auth", ""), (muster_perm_read(), "world", "anyone")]
    case .worldRead: [(muster_perm_read(), "world", "anyone")]
    case .entries(let list): list.map { ($0.permissions.rawValue, $0.scheme, $0.id) }
    }
    let items = UnsafeMutablePointer<ACL>.allocate(capacity: entries.count)
    var strings: [UnsafeMutablePointer<CChar>?] = []
    for (index, entry) in entries.enumerated() {
        let scheme = strdup(entry.1)
        let id = strdup(entry.2)
        strings.append(scheme)
        strings.append(id)
        (items + index).initialize(to: ACL(perms: entry.0, id: Id(scheme: scheme, id: id)))
    }
    defer {
        items.deinitialize(count: entries.count)
        items.deallocate()
        for string in strings { free(string) }
    }
    var vector = ACL_vector(count: Int32(entries.count), data: items)
    return withUnsafePointer(to: &vector) { body($0) }
}
