import CZooKeeper
import Logging

// The C callbacks and the one table they reach. The C library calls the functions below on its
// own completion thread: they are nonisolated top-level functions matching the C signatures (a
// closure formed in an isolated context would trap there); each copies what it was given out of
// the C library's memory and hands it to the client's ``CallbackTable`` through the context
// pointer of its request, and the table's handler yields it to the Swift side that waits
// (a request's continuation, a ``NodeWatch``, the session machine).

/// What a C completion delivered, already copied out of the C library's memory.
enum CompletionPayload: Sendable {
    case none
    case stat(NodeStat?)
    case data([UInt8]?, NodeStat?)
    case strings([String], NodeStat?)
    case string(String?)
    case acl([ACLEntry])
}

private func complete(_ rc: Int32, _ data: UnsafeRawPointer?, _ payload: () -> CompletionPayload) {
    guard case .completion(let handler)? = CallbackTable.take(data) else { return }
    if let code = outcome(rc) {
        handler(.failure(code))
    } else {
        handler(.success(payload()))
    }
}

func nodeStat(_ stat: UnsafePointer<Stat>?) -> NodeStat? {
    guard let s = stat?.pointee else { return nil }
    return NodeStat(
        czxid: s.czxid, mzxid: s.mzxid, version: s.version, cversion: s.cversion,
        ephemeralOwner: s.ephemeralOwner, dataLength: s.dataLength, numChildren: s.numChildren
    )
}

func voidCompletion(rc: Int32, data: UnsafeRawPointer?) {
    complete(rc, data) { .none }
}

func statCompletion(rc: Int32, stat: UnsafePointer<Stat>?, data: UnsafeRawPointer?) {
    complete(rc, data) { .stat(nodeStat(stat)) }
}

func dataCompletion(rc: Int32, value: UnsafePointer<CChar>?, length: Int32, stat: UnsafePointer<Stat>?, data: UnsafeRawPointer?) {
    complete(rc, data) {
        var bytes: [UInt8]? = nil
        if let value, length >= 0 {
            bytes = value.withMemoryRebound(to: UInt8.self, capacity: Int(length)) {
                Array(UnsafeBufferPointer(start: $0, count: Int(length)))
            }
        }
        return .data(bytes, nodeStat(stat))
    }
}

func stringsStatCompletion(rc: Int32, strings: UnsafePointer<String_vector>?, stat: UnsafePointer<Stat>?, data: UnsafeRawPointer?) {
    complete(rc, data) {
        var names: [String] = []
        if let vector = strings?.pointee, let items = vector.data, vector.count > 0 {
            names.reserveCapacity(Int(vector.count))
            for index in 0..<Int(vector.count) {
                if let item = items[index] { names.append(String(cString: item)) }
            }
        }
        return .strings(names, nodeStat(stat))
    }
}

func stringCompletion(rc: Int32, value: UnsafePointer<CChar>?, data: UnsafeRawPointer?) {
    complete(rc, data) { .string(value.map { String(cString: $0) }) }
}

func aclCompletion(rc: Int32, acl: UnsafeMutablePointer<ACL_vector>?, stat: UnsafeMutablePointer<Stat>?, data: UnsafeRawPointer?) {
    complete(rc, data) {
        var entries: [ACLEntry] = []
        if let vector = acl?.pointee, let items = vector.data, vector.count > 0 {
            for index in 0..<Int(vector.count) {
                let item = items[index]
                entries.append(ACLEntry(
                    scheme: item.id.scheme.map { String(cString: $0) } ?? "",
                    id: item.id.id.map { String(cString: $0) } ?? "",
                    permissions: ACLEntry.Permissions(rawValue: item.perms)))
            }
        }
        return .acl(entries)
    }
}

/// The watcher passed with a single request (exists/get/children). It is also called for every
/// session event of its handle; only a node event or the session's end consume it.
func nodeWatcher(zh: OpaquePointer?, type: Int32, state: Int32, path: UnsafePointer<CChar>?, context: UnsafeMutableRawPointer?) {
    guard let event = watchEvent(type: type, state: state, path: path.map { String(cString: $0) } ?? "") else { return }
    guard case .watch(let handler)? = CallbackTable.take(UnsafeRawPointer(context)) else { return }
    handler(event)
}

/// The handle's default watcher: session events only.
func sessionWatcher(zh: OpaquePointer?, type: Int32, state: Int32, path: UnsafePointer<CChar>?, context: UnsafeMutableRawPointer?) {
    guard isSessionEvent(type: type), let handler = CallbackTable.session(context) else { return }
    var sessionID: Int64 = 0
    if isConnected(cState: state), let zh, let id = zoo_client_id(zh) {
        sessionID = id.pointee.client_id
    }
    handler(SessionMachine.HandleEvent(cState: state, sessionID: sessionID))
}

/// The C library's own log lines, routed to swift-log at debug level: it logs every ordinary
/// disconnect as an error, and this client logs each session transition itself.
func zookeeperLog(message: UnsafePointer<CChar>?) {
    guard let message else { return }
    cLibraryLogger.debug("libzookeeper", metadata: ["zk.message": "\(String(cString: message))"])
}

let cLibraryLogger = Logger(label: "muster.zookeeper.c")

/// Keeps the C library's own stderr logging to errors (its lines go to ``zookeeperLog(message:)``).
func quietCLibrary() {
    muster_zoo_quiet()
}

/// How a C request ended: its payload, or the named error.
enum CompletionOutcome: Sendable {
    case success(CompletionPayload)
    case failure(ZooKeeperError.Code)
}

typealias CompletionHandler = @Sendable (CompletionOutcome) -> Void
typealias WatchHandler = @Sendable (WatchEvent) -> Void
typealias SessionHandler = @Sendable (SessionMachine.HandleEvent) -> Void

/// One client's table of the C callbacks it is waiting for, by token; one table per client.
///
/// A C completion or watcher receives one opaque context pointer: every pointer this client
/// hands the C library (a request's completion, its watch, a handle's session watcher) points to
/// a ``Tag`` (the table and the token) that the table keeps alive while the entry stands, so the
/// C side never owns a Swift object: a completion that never comes (a request that failed at
/// once, an auth reply cut off by a close) or a watcher that never fires (the C library frees its
/// watchers silently on close) leaves an entry, and ``drain(generation:)`` ends those once the handle's
/// `zookeeper_close` has returned and no C call can reach them any more. An entry is taken out
/// exactly once: by its C callback, by the caller when the C library will not call (the request
/// failed at once; a watch the failed request did not arm), or by the drain.
final class CallbackTable: Sendable {
    enum Callback: Sendable {
        case completion(CompletionHandler)
        case watch(WatchHandler)
        /// A handle's session events: called for each, until the handle is closed.
        case session(SessionHandler)
    }

    /// What a C context pointer points to.
    final class Tag: Sendable {
        weak let table: CallbackTable?
        let token: Int

        init(table: CallbackTable, token: Int) {
            self.table = table
            self.token = token
        }
    }

    /// `@unchecked Sendable`: the retained tag is only released by the one caller that removed
    /// its entry from the table.
    private struct Entry: @unchecked Sendable {
        var generation: Int
        var callback: Callback
        var tag: Unmanaged<Tag>
    }

    private struct State {
        var nextToken = 1
        var entries: [Int: Entry] = [:]
    }

    private let state = Locked(State())

    /// A registered callback: its token (for Swift to take it out) and its context pointer (for
    /// the C call, and only the C callback dereferences it).
    struct Registered: @unchecked Sendable {
        let token: Int
        let context: UnsafeMutableRawPointer
    }

    /// Registers a callback for a request on the handle of `generation`.
    func add(_ callback: Callback, generation: Int) -> Registered {
        state.withLock { state in
            let token = state.nextToken
            state.nextToken += 1
            let tag = Unmanaged.passRetained(Tag(table: self, token: token))
            state.entries[token] = Entry(generation: generation, callback: callback, tag: tag)
            return Registered(token: token, context: tag.toOpaque())
        }
    }

    /// Takes out the entry behind a C callback's context pointer; nil if it was already taken.
    /// Only for C callbacks: the C library calls each context once, while its entry stands.
    static func take(_ context: UnsafeRawPointer?) -> Callback? {
        guard let context else { return nil }
        // The entry holds the tag, so it is alive until the entry is taken out below.
        let tag = Unmanaged<Tag>.fromOpaque(context).takeUnretainedValue()
        return tag.table?.remove(tag.token)
    }

    /// The session handler behind a handle's context pointer, left in place (it stands until the
    /// handle's close, after which the C library calls nothing).
    static func session(_ context: UnsafeRawPointer?) -> SessionHandler? {
        guard let context else { return nil }
        let tag = Unmanaged<Tag>.fromOpaque(context).takeUnretainedValue()
        return tag.table?.state.withLock { state in
            if case .session(let handler)? = state.entries[tag.token]?.callback { return handler }
            return nil
        }
    }

    /// Takes out an entry the C library will not call (the request failed at once, or failed
    /// without arming its watch); nil if it was already taken.
    @discardableResult
    func remove(_ token: Int) -> Callback? {
        guard let entry = state.withLock({ $0.entries.removeValue(forKey: token) }) else { return nil }
        entry.tag.release()
        return entry.callback
    }

    /// Ends every callback still waiting on the handle of `generation` (every handle if nil),
    /// after its `zookeeper_close` returned: completions fail with `.closing`, watches report
    /// `.sessionLost`.
    func drain(generation: Int?) {
        let drained = state.withLock { state -> [Entry] in
            let tokens = state.entries.filter { generation == nil || $0.value.generation == generation }.map(\.key)
            return tokens.compactMap { state.entries.removeValue(forKey: $0) }
        }
        for entry in drained {
            entry.tag.release()
            switch entry.callback {
            case .completion(let handler): handler(.failure(.closing))
            case .watch(let handler): handler(.sessionLost)
            case .session: break
            }
        }
    }

    /// How many callbacks are waiting (tests).
    var count: Int { state.withLock { $0.entries.count } }
}

// A watch callback reaches its waiter through one of these: the handler that the table keeps
// for the C watcher yields into the stream that the request returned.

/// A one-shot ZooKeeper watch as an async sequence: it yields exactly one ``WatchEvent`` and ends.
/// If the session expires or the client closes first, the event is `.sessionLost`.
public struct NodeWatch: AsyncSequence, Sendable {
    public typealias Element = WatchEvent
    private let stream: AsyncStream<WatchEvent>

    static func make(mapPath: @escaping @Sendable (String) -> String) -> (NodeWatch, WatchHandler) {
        let (stream, continuation) = AsyncStream<WatchEvent>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let handler: WatchHandler = { event in
            let mapped: WatchEvent = switch event {
            case .created(let path): .created(path: mapPath(path))
            case .deleted(let path): .deleted(path: mapPath(path))
            case .dataChanged(let path): .dataChanged(path: mapPath(path))
            case .childrenChanged(let path): .childrenChanged(path: mapPath(path))
            case .sessionLost: .sessionLost
            }
            continuation.yield(mapped)
            continuation.finish()
        }
        return (NodeWatch(stream: stream), handler)
    }

    public func makeAsyncIterator() -> AsyncStream<WatchEvent>.AsyncIterator {
        stream.makeAsyncIterator()
    }

    /// Waits for the event. Returns `.sessionLost` if the watch ended without one (or the waiting
    /// task was cancelled).
    public func event() async -> WatchEvent {
        for await event in stream { return event }
        return .sessionLost
    }
}
