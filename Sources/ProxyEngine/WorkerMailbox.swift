import CProxyEngine
import Synchronization

/// What the control plane asks of a worker.
enum WorkerCommand: Sendable {
    /// Start accepting on `fd`; `exclusive` for a socket shared by every worker (EPOLLEXCLUSIVE).
    case addListener(id: Int, fd: Int32, exclusive: Bool, noDelay: Bool, route: any ProxyRoute)
    /// New connections of listener `id` use `route` (a reload); established ones keep theirs.
    case updateRoute(id: Int, route: any ProxyRoute)
    /// Stop accepting on listener `id`; `done` resumes once the worker no longer watches its socket.
    case removeListener(id: Int, done: CheckedContinuation<Void, Never>)
    /// Close every connection now (the end of a drain).
    case closeAll
    /// Close everything and end the worker's thread.
    case stop(done: CheckedContinuation<Void, Never>)
}

/// A worker's command queue: a locked array and an eventfd that wakes the worker's `epoll_wait`
/// (as NIO wakes its selector). Used by the control plane only: reloads, drains, shutdown.
final class WorkerMailbox: Sendable {
    let eventFD: Int32
    private let queue = Mutex<[WorkerCommand]>([])

    init() throws(EngineError) {
        let fd = cpe_eventfd()
        guard fd >= 0 else { throw EngineError.system(call: "eventfd", errno: -fd) }
        self.eventFD = fd
    }

    func send(_ command: WorkerCommand) {
        self.queue.withLock { $0.append(command) }
        cpe_eventfd_signal(self.eventFD)
    }

    func takeAll() -> [WorkerCommand] {
        cpe_eventfd_drain(self.eventFD)
        return self.queue.withLock { queue in
            defer { queue.removeAll() }
            return queue
        }
    }
}
