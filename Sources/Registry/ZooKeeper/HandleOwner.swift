import CZooKeeper
import Dispatch
import Foundation

/// The one owner of a client's C handle (`zhandle_t`): it opens, uses and closes it.
///
/// Every C call runs on `queue`, one serial queue per client, never on Swift's cooperative pool
/// or in a C callback: `zookeeper_init2` may block (it resolves host names), `zookeeper_close`
/// blocks until the C library's threads end, and issuing a request there keeps requests in the
/// order they were made, each after the handle it needs was opened. Completions and watches come
/// back on the C library's completion thread through ``callbacks``.
final class HandleOwner: Sendable {
    /// A raw C handle and its generation. `@unchecked Sendable`: the pointer is only used on
    /// `queue` (or read under `current`'s lock); the C library itself is thread-safe.
    struct Handle: @unchecked Sendable {
        let raw: OpaquePointer
        let generation: Int
    }

    private struct Current {
        var handle: Handle?
        var closed = false
    }

    /// What one C request call needs: the handle, the server path, and the context pointers of
    /// its completion and (if any) its watch.
    struct Issue: @unchecked Sendable {
        let handle: OpaquePointer
        let path: UnsafePointer<CChar>
        let completion: UnsafeMutableRawPointer
        let watch: UnsafeMutableRawPointer?
    }

    let callbacks = CallbackTable()
    private let current = Locked(Current())
    private let queue = DispatchQueue(label: "muster.zookeeper.handle")

    /// Runs `body` on the queue.
    func perform(_ body: @escaping @Sendable () -> Void) {
        queue.async(execute: body)
    }

    /// Runs `body` on the queue after `delay`.
    func perform(after delay: Duration, _ body: @escaping @Sendable () -> Void) {
        let nanoseconds = Int(delay.components.seconds) * 1_000_000_000 + Int(delay.components.attoseconds / 1_000_000_000)
        queue.asyncAfter(deadline: .now() + .nanoseconds(nanoseconds), execute: body)
    }

    enum Opened {
        /// The handle is current; `previous` is the one it replaced, for ``close(_:)``.
        case opened(Handle, previous: Handle?)
        /// The C library could not create a handle (`errno`).
        case failed(errno: Int32)
        /// Closed for good meanwhile; the new handle was closed at once.
        case closed
    }

    /// Opens the handle of `generation` (on the queue) and makes it current; its session events
    /// go to `events` (through ``callbacks``, like every other C callback).
    func open(hosts: String, sessionTimeout: Duration, generation: Int, events: @escaping SessionHandler,
              resuming session: (id: Int64, password: [UInt8])?) -> Opened {
        dispatchPrecondition(condition: .onQueue(queue))
        let timeoutMs = Int32(clamping: sessionTimeout.components.seconds * 1000
            + sessionTimeout.components.attoseconds / 1_000_000_000_000_000)
        let sessionEntry = callbacks.add(.session(events), generation: generation)
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
                                sessionEntry.context, 0, zookeeperLog)
            }
        }
        guard let raw else {
            let code = errno
            callbacks.remove(sessionEntry.token)
            return .failed(errno: code)
        }
        let handle = Handle(raw: raw, generation: generation)
        let previous = current.withLock { current -> Handle?? in
            guard !current.closed else { return .none }
            defer { current.handle = handle }
            return .some(current.handle)
        }
        guard let previous else {
            close(handle)
            return .closed
        }
        return .opened(handle, previous: previous)
    }

    /// Closes a handle (on the queue): blocks until the C library's threads end, then ends every
    /// callback still waiting on it.
    func close(_ handle: Handle) {
        dispatchPrecondition(condition: .onQueue(queue))
        zookeeper_close(handle.raw)
        callbacks.drain(generation: handle.generation)
    }

    /// Closes the current handle for good; no handle opens after this.
    func closeForGood() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            closeForGood { continuation.resume() }
        }
    }

    /// Closes the current handle for good (queued; `done` runs once it is closed).
    func closeForGood(done: @escaping @Sendable () -> Void = {}) {
        queue.async { [self] in
            let handle = current.withLock { current -> Handle? in
                current.closed = true
                defer { current.handle = nil }
                return current.handle
            }
            if let handle { close(handle) }
            callbacks.drain(generation: nil)
            done()
        }
    }

    /// Issues one C request on the queue. `issue` returns the C call's result; on failure the C
    /// library will not call back, so the completion is told at once (`.closing` once closed,
    /// `.connectionLoss` while no handle is open). `watchSurvives` says whether a failed request
    /// still armed its watch (exists on a missing node does).
    func request(path: String, watch: WatchHandler?, watchSurvives: @escaping @Sendable (ZooKeeperError.Code) -> Bool,
                 completion: @escaping CompletionHandler, issue: @escaping @Sendable (Issue) -> Int32) {
        queue.async { [self] in
            let (handle, closed) = current.withLock { ($0.handle, $0.closed) }
            guard let handle else {
                completion(.failure(closed ? .closing : .connectionLoss))
                return
            }
            let callbacks = self.callbacks
            let watchEntry = watch.map { callbacks.add(.watch($0), generation: handle.generation) }
            let completionEntry = callbacks.add(.completion { result in
                if case .failure(let code) = result, let watchEntry, !watchSurvives(code) {
                    callbacks.remove(watchEntry.token)
                }
                completion(result)
            }, generation: handle.generation)
            let rc = path.withCString { cPath in
                issue(Issue(handle: handle.raw, path: cPath, completion: completionEntry.context, watch: watchEntry?.context))
            }
            if let code = outcome(rc) {
                // The C library will not call back for a request it refused.
                callbacks.remove(completionEntry.token)
                if let watchEntry { callbacks.remove(watchEntry.token) }
                completion(.failure(code))
            }
        }
    }

    /// The id and password of the current session (tests attach a second handle with them).
    func sessionCredentials() -> (id: Int64, password: [UInt8])? {
        current.withLock { current in
            guard let handle = current.handle, let id = zoo_client_id(handle.raw) else { return nil }
            let password = withUnsafeBytes(of: id.pointee.passwd) { Array($0) }
            return (id.pointee.client_id, password)
        }
    }

    /// Adds digest credentials to a freshly opened handle (on the queue); `done` hears the
    /// server's answer, if one comes.
    func addDigestAuth(_ scheme: String, to handle: Handle, done: @escaping CompletionHandler) -> ZooKeeperError.Code? {
        dispatchPrecondition(condition: .onQueue(queue))
        let entry = callbacks.add(.completion(done), generation: handle.generation)
        let rc = scheme.withCString { cert in
            zoo_add_auth(handle.raw, "digest", cert, Int32(strlen(cert)), voidCompletion, entry.context)
        }
        guard let code = outcome(rc) else { return nil }
        callbacks.remove(entry.token)
        return code
    }
}
