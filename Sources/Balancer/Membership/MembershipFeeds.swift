import Logging
import MusterBase
import NIOConcurrencyHelpers
import ServiceLifecycle

/// The running membership feeds, one per group fed from ZooKeeper. Every feed starts and stops on
/// one path: ``start(_:feed:)`` runs it in its own `ServiceGroup`, a child task of the one task
/// group that ``run()`` holds for the balancer's life; ``stop(_:)`` (a reload) and ``stopAll()``
/// (shutdown) both end it by that group's graceful shutdown, which ends the feed's watch and
/// closes its client.
final class MembershipFeeds: Sendable {
    private enum Command: Sendable {
        case start(name: String, group: ServiceGroup)
    }

    private struct State {
        var groups: [String: ServiceGroup] = [:]
        var accepting = true
        var ended = false
        var endWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private let commands: AsyncStream<Command>
    private let continuation: AsyncStream<Command>.Continuation
    private let state = NIOLockedValueBox(State())
    private let logger: Logger

    init(logger: Logger) {
        (self.commands, self.continuation) = AsyncStream.makeStream(of: Command.self)
        self.logger = logger
    }

    /// Hosts the feeds until ``stopAll()`` has stopped them all (or the task is cancelled).
    func run() async {
        await withDiscardingTaskGroup { tasks in
            for await command in self.commands {
                switch command {
                case .start(let name, let group):
                    let logger = self.logger
                    tasks.addTask {
                        do {
                            try await group.run()
                        } catch {
                            logger.error("membership feed stopped", metadata: [LogKey.upstream: "\(name)", LogKey.error: "\(error)"])
                        }
                    }
                }
            }
        }
        let waiters: [CheckedContinuation<Void, Never>] = self.state.withLockedValue { state in
            state.ended = true
            defer { state.endWaiters = [] }
            return state.endWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Starts `feed` for group `name` (whose earlier feed, if any, was stopped).
    func start(_ name: String, feed: MembershipFeed) {
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(services: [.init(service: feed)], logger: self.logger))
        let accepted = self.state.withLockedValue { state in
            guard state.accepting else { return false }
            state.groups[name] = group
            return true
        }
        if accepted {
            self.continuation.yield(.start(name: name, group: group))
        }
    }

    /// Stops group `name`'s feed; it ends on its own time (closing a ZooKeeper client can take a
    /// while), and the group's next feed does not wait for it.
    func stop(_ name: String) async {
        let group = self.state.withLockedValue { $0.groups.removeValue(forKey: name) }
        await group?.triggerGracefulShutdown()
    }

    /// Stops every feed, takes no new ones, and returns when all have ended.
    func stopAll() async {
        let groups = self.state.withLockedValue { state in
            state.accepting = false
            defer { state.groups = [:] }
            return Array(state.groups.values)
        }
        for group in groups {
            await group.triggerGracefulShutdown()
        }
        self.continuation.finish()
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            let ended = self.state.withLockedValue { state in
                if !state.ended { state.endWaiters.append(waiter) }
                return state.ended
            }
            if ended { waiter.resume() }
        }
    }
}
