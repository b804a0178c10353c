import CZooKeeper
import Logging

/// What a C completion delivered, already copied out of the C library's memory.
enum CompletionPayload: Sendable {
    case none
    case stat(NodeStat?)
    case data([UInt8]?, NodeStat?)
    case strings([String], NodeStat?)
    case string(String?)
    case acl([ACLEntry])
}

typealias CompletionHandler = @Sendable (_ rc: Int32, _ payload: CompletionPayload) -> Void
typealias WatchHandler = @Sendable (WatchEvent) -> Void

/// The table that connects C callbacks to Swift.
///
/// C completions and watchers receive an opaque `data` pointer. Rather than retaining Swift
/// objects by hand (a completion is never called when the request fails synchronously, and a
/// watcher may never be called at all), the pointer carries an integer token that is looked up
/// here. A token that is no longer in the table is ignored, so a late or repeated call is harmless.
final class CallbackRegistry: Sendable {
    static let shared = CallbackRegistry()

    private struct Watch {
        var owner: ObjectIdentifier
        var handler: WatchHandler
    }

    private struct State {
        var nextToken = 1
        var completions: [Int: CompletionHandler] = [:]
        var watches: [Int: Watch] = [:]
    }

    private let state = Locked(State())

    func addCompletion(_ handler: @escaping CompletionHandler) -> Int {
        state.withLock { state in
            let token = state.nextToken
            state.nextToken += 1
            state.completions[token] = handler
            return token
        }
    }

    func takeCompletion(_ token: Int) -> CompletionHandler? {
        state.withLock { $0.completions.removeValue(forKey: token) }
    }

    func addWatch(owner: ObjectIdentifier, _ handler: @escaping WatchHandler) -> Int {
        state.withLock { state in
            let token = state.nextToken
            state.nextToken += 1
            state.watches[token] = Watch(owner: owner, handler: handler)
            return token
        }
    }

    func takeWatch(_ token: Int) -> WatchHandler? {
        state.withLock { $0.watches.removeValue(forKey: token)?.handler }
    }

    /// Removes every watch of one client (on close): the C library frees its watchers silently.
    func takeWatches(owner: ObjectIdentifier) -> [WatchHandler] {
        state.withLock { state in
            let tokens = state.watches.filter { $0.value.owner == owner }.map(\.key)
            return tokens.compactMap { state.watches.removeValue(forKey: $0)?.handler }
        }
    }
}

// MARK: - C callbacks
//
// These are nonisolated top-level functions matching the C signatures: the C library calls them on
// its own completion thread. A closure formed in an actor-isolated context would trap there.

@inline(__always)
func token(from data: UnsafeRawPointer?) -> Int {
    Int(bitPattern: data)
}

@inline(__always)
func tokenPointer(_ token: Int) -> UnsafeRawPointer? {
    UnsafeRawPointer(bitPattern: token)
}

func nodeStat(_ stat: UnsafePointer<Stat>?) -> NodeStat? {
    guard let s = stat?.pointee else { return nil }
    return NodeStat(
        czxid: s.czxid, mzxid: s.mzxid, version: s.version, cversion: s.cversion,
        ephemeralOwner: s.ephemeralOwner, dataLength: s.dataLength, numChildren: s.numChildren
    )
}

func voidCompletion(rc: Int32, data: UnsafeRawPointer?) {
    CallbackRegistry.shared.takeCompletion(token(from: data))?(rc, .none)
}

func statCompletion(rc: Int32, stat: UnsafePointer<Stat>?, data: UnsafeRawPointer?) {
    guard let handler = CallbackRegistry.shared.takeCompletion(token(from: data)) else { return }
    handler(rc, .stat(nodeStat(stat)))
}

func dataCompletion(rc: Int32, value: UnsafePointer<CChar>?, length: Int32, stat: UnsafePointer<Stat>?, data: UnsafeRawPointer?) {
    guard let handler = CallbackRegistry.shared.takeCompletion(token(from: data)) else { return }
    var bytes: [UInt8]? = nil
    if let value, length >= 0 {
        bytes = value.withMemoryRebound(to: UInt8.self, capacity: Int(length)) {
            Array(UnsafeBufferPointer(start: $0, count: Int(length)))
        }
    }
    handler(rc, .data(bytes, nodeStat(stat)))
}

func stringsStatCompletion(rc: Int32, strings: UnsafePointer<String_vector>?, stat: UnsafePointer<Stat>?, data: UnsafeRawPointer?) {
    guard let handler = CallbackRegistry.shared.takeCompletion(token(from: data)) else { return }
    var names: [String] = []
    if let vector = strings?.pointee, let items = vector.data, vector.count > 0 {
        names.reserveCapacity(Int(vector.count))
        for index in 0..<Int(vector.count) {
            if let item = items[index] { names.append(String(cString: item)) }
        }
    }
    handler(rc, .strings(names, nodeStat(stat)))
}

func stringCompletion(rc: Int32, value: UnsafePointer<CChar>?, data: UnsafeRawPointer?) {
    guard let handler = CallbackRegistry.shared.takeCompletion(token(from: data)) else { return }
    handler(rc, .string(value.map { String(cString: $0) }))
}

/// The watcher passed with a single request (exists/get/children). It is also called for every
/// session event of its handle; only a node event or the session's end consume it.
func nodeWatcher(zh: OpaquePointer?, type: Int32, state: Int32, path: UnsafePointer<CChar>?, context: UnsafeMutableRawPointer?) {
    let key = Int(bitPattern: context)
    let event: WatchEvent
    let nodePath = path.map { String(cString: $0) } ?? ""
    switch type {
    case muster_event_created(): event = .created(path: nodePath)
    case muster_event_deleted(): event = .deleted(path: nodePath)
    case muster_event_changed(): event = .dataChanged(path: nodePath)
    case muster_event_child(): event = .childrenChanged(path: nodePath)
    case muster_event_session():
        guard state == muster_state_expired() || state == muster_state_auth_failed() else { return }
        event = .sessionLost
    default:
        event = .sessionLost
    }
    CallbackRegistry.shared.takeWatch(key)?(event)
}

/// The handle's default watcher: session events only.
func sessionWatcher(zh: OpaquePointer?, type: Int32, state: Int32, path: UnsafePointer<CChar>?, context: UnsafeMutableRawPointer?) {
    guard type == muster_event_session(), let context else { return }
    let handleContext = Unmanaged<HandleContext>.fromOpaque(context).takeUnretainedValue()
    var sessionID: Int64 = 0
    if state == muster_state_connected(), let zh, let id = zoo_client_id(zh) {
        sessionID = id.pointee.client_id
    }
    handleContext.client?.handleSessionEvent(state: state, sessionID: sessionID, generation: handleContext.generation)
}

/// The C library's own log lines, routed to swift-log at debug level: it logs every ordinary
/// disconnect as an error, and this client logs each session transition itself.
func zookeeperLog(message: UnsafePointer<CChar>?) {
    guard let message else { return }
    cLibraryLogger.debug("libzookeeper", metadata: ["zk.message": "\(String(cString: message))"])
}

let cLibraryLogger = Logger(label: "muster.zookeeper.c")

/// One per C handle, passed as the handle's context and kept alive until `zookeeper_close` returns.
final class HandleContext: Sendable {
    weak let client: ZooKeeperClient?
    let generation: Int

    init(client: ZooKeeperClient, generation: Int) {
        self.client = client
        self.generation = generation
    }
}
