import CZooKeeper
import Foundation
import Logging

// The C boundary's functions: the C library calls these on its own completion thread. They are
// nonisolated top-level functions matching the C signatures (a closure formed in an isolated
// context would trap there); each copies what it was given out of the C library's memory and
// hands it to the client's ``CallbackTable`` through the context pointer of its request.

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

func describeErrno(_ code: Int32) -> String {
    String(cString: strerror(code))
}

/// Builds a C ACL vector for the duration of `body` (the C library copies it while marshalling).
func withACL<R>(_ acl: NodeACL, _ body: (UnsafePointer<ACL_vector>) -> R) -> R {
    let entries = acl.entries
    let items = UnsafeMutablePointer<ACL>.allocate(capacity: entries.count)
    var strings: [UnsafeMutablePointer<CChar>?] = []
    for (index, entry) in entries.enumerated() {
        let scheme = strdup(entry.scheme)
        let id = strdup(entry.id)
        strings.append(scheme)
        strings.append(id)
        (items + index).initialize(to: ACL(perms: entry.permissions.rawValue, id: Id(scheme: scheme, id: id)))
    }
    defer {
        items.deinitialize(count: entries.count)
        items.deallocate()
        for string in strings { free(string) }
    }
    var vector = ACL_vector(count: Int32(entries.count), data: items)
    return withUnsafePointer(to: &vector) { body($0) }
}
