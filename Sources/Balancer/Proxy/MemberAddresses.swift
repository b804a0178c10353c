import Dispatch
import Foundation
import ProxyEngine
import Synchronization

/// Addresses of member hosts that are names rather than IP literals (a ZooKeeper record may carry
/// one), resolved off the workers. The data path only looks a name up here: a name that has not
/// resolved (yet) gives no address, the connect counts as failed for passive health, so the member
/// gets no clients until its name resolves; a lookup that finds nothing asks for a new resolution
/// at most every `retryInterval`. The membership feed resolves the names of new members before it
/// adds them (`prepare`), so a member that resolves never sees that failure.
final class MemberAddresses: Sendable {
    private enum Entry: Sendable {
        /// Resolved; port 0, the member's port is set per pick.
        case resolved(EngineAddress)
        case failed(since: ContinuousClock.Instant, reason: String)
        case resolving
    }

    private let table = Mutex<[String: Entry]>([:])
    private let retryInterval: Duration
    private let resolve: @Sendable (String) -> Result<[EngineAddress], ResolveError>

    init(
        retryInterval: Duration = .seconds(5),
        resolve: @escaping @Sendable (String) -> Result<[EngineAddress], ResolveError> = {
            EngineAddress.resolve(host: $0, port: 0)
        }
    ) {
        self.retryInterval = retryInterval
        self.resolve = resolve
    }

    /// The address of `host` (a name) with `port`, nil while it has not resolved. Never blocks: a
    /// miss starts a resolution on a dispatch thread.
    func address(host: String, port: Int) -> EngineAddress? {
        let now = ContinuousClock.now
        let (found, start): (EngineAddress?, Bool) = self.table.withLock { table in
            switch table[host] {
            case .resolved(let address):
                return (address, false)
            case .resolving:
                return (nil, false)
            case .failed(let since, _) where now - since < self.retryInterval:
                return (nil, false)
            case .failed, nil:
                table[host] = .resolving
                return (nil, true)
            }
        }
        if start {
            DispatchQueue.global().async { self.store(host, self.resolve(host)) }
        }
        return found?.withPort(port)
    }

    /// Resolves the names among `hosts` that have no address yet (on a dispatch thread, not the
    /// caller's) and forgets names no longer in use. Returns the names that did not resolve, with
    /// the reason, for the caller to log.
    func prepare(hosts: Set<String>) async -> [String: String] {
        let missing: [String] = self.table.withLock { table in
            for name in table.keys where !hosts.contains(name) {
                table[name] = nil
            }
            return hosts.filter { host in
                if case .resolved = table[host] { return false }
                return true
            }.sorted()
        }
        guard !missing.isEmpty else { return [:] }
        let resolve = self.resolve
        let results: [(String, Result<[EngineAddress], ResolveError>)] = await withCheckedContinuation { done in
            DispatchQueue.global().async {
                done.resume(returning: missing.map { ($0, resolve($0)) })
            }
        }
        var failures: [String: String] = [:]
        for (host, result) in results {
            self.store(host, result)
            if case .failure(let error) = result {
                failures[host] = error.problem
            }
        }
        return failures
    }

    private func store(_ host: String, _ result: Result<[EngineAddress], ResolveError>) {
        let now = ContinuousClock.now
        self.table.withLock { table in
            switch result {
            case .success(let addresses) where !addresses.isEmpty:
                // One record is one member: its first address, as a client connecting by name would.
                table[host] = .resolved(addresses[0])
            case .success:
                table[host] = .failed(since: now, reason: "no address")
            case .failure(let error):
                table[host] = .failed(since: now, reason: error.problem)
            }
        }
    }
}
