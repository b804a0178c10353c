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
