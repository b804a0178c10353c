import Logging
import MusterBase

/// The member set under a path at one moment.
public struct MembershipSnapshot: Sendable, Hashable {
    /// Valid members, sorted by id.
    public var members: [MemberRecord]
    /// True while the client is disconnected or its session expired: `members` is the last known
    /// set, kept in service, not an authoritative read.
    public var stale: Bool
    /// Children whose data is not a valid member record, or that this identity may not read
    /// (logged once per data version), sorted.
    public var skipped: [String]
    /// Why the members path cannot be read, while that lasts (it is retried with backoff). Set
    /// together with `stale`: `members` is then the last set read, or empty if none was.
    public var error: MembershipReadError?

    public init(members: [MemberRecord], stale: Bool = false, skipped: [String] = [], error: MembershipReadError? = nil) {
        self.members = members
        self.stale = stale
        self.skipped = skipped
        self.error = error
    }
}

/// Why a ``MembershipWatch`` cannot read its path (for reasons other than being disconnected).
public enum MembershipReadError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The path's ACL does not let this identity list it (NOAUTH).
    case notAuthorized(ZooKeeperAuthorizationError)
    /// Any other error that is not cured by reconnecting.
    case failed(String)

    public var description: String {
        switch self {
        case .notAuthorized(let error): error.description
        case .failed(let why): "membership read failed: \(why)"
        }
    }
}

/// Yields the full member set under a path each time it changes.
///
/// ZooKeeper 3.8's C client has one-shot watches only, so each pass re-lists the children (arming
/// a children watch) and fetches data only for new children and for children whose data watch
/// fired. It tells a change by the node's data version (`mzxid`), never by comparing records: the
/// pool that takes the snapshot is the one place that compares a record with what it has, and it
/// passes what changed on (`MembershipChange`). What it read stays in its cache until a later read
/// replaces it, so it never yields an empty set because ZooKeeper is unreachable: while
/// disconnected it yields what it last read marked `stale`, and what stale means (keep every member)
/// is the pool's rule. After a session expiry (all watches gone) it re-reads everything.
public final class MembershipWatch: Sendable {
    public let client: ZooKeeperClient
    public let path: String
    /// How often the children are listed again even with no watch event. ZooKeeper sends no
    /// event to a client that lost READ on the path (an ACL change fires nothing either), so
    /// without this a balancer whose access was withdrawn would never learn it (the audit timer of
    /// ``ReconcileLoop``).
    public let auditInterval: Duration
    private let logger: Logger

    public init(client: ZooKeeperClient, path: String, auditInterval: Duration = .seconds(30), logger: Logger) {
        self.client = client
        self.path = path
        self.auditInterval = auditInterval
        var logger = logger
        logger[metadataKey: "zk.path"] = "\(UntrustedText.escaped(path))"
        self.logger = logger
    }

    /// Snapshots until the consuming task is cancelled or the stream is dropped. A slow consumer
    /// gets the newest snapshots (each is complete, so no change is lost by skipping older ones).
    public func snapshots() -> AsyncStream<MembershipSnapshot> {
        let (stream, continuation) = AsyncStream<MembershipSnapshot>.makeStream(bufferingPolicy: .bufferingNewest(8))
        let task = Task { [self] in
            await self.run { continuation.yield($0) }
            continuation.finish()
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    /// Runs the watch loop in the calling task, handing each snapshot to `yield`.
    public func run(yield: @escaping @Sendable (MembershipSnapshot) -> Void) async {
        let wake = WakeSignal()
        var passes = Passes(watch: self, wake: wake, dirty: DirtyChildren(), yield: yield)
        await ReconcileLoop(client: client, wake: wake, audit: auditInterval).run(&passes)
    }

    /// What a yielded snapshot said of the read, apart from its members.
    private struct Announced: Equatable {
        var stale: Bool
        var error: MembershipReadError?
    }

    private struct Cached {
        var mzxid: Int64
        var record: MemberRecord?
    }

    /// What the shared loop runs: each pass re-lists or re-reads what changed and publishes.
    private struct Passes: Reconciler {
        let watch: MembershipWatch
        let wake: WakeSignal
        let dirty: DirtyChildren
        let yield: @Sendable (MembershipSnapshot) -> Void

        /// What was last read of each child; kept while disconnected and across sessions (the
        /// last known set) until a read replaces it.
        var cache: [String: Cached] = [:]
        /// The data version (`mzxid`) of each child last looked at, so a skipped node or a note is
        /// logged once.
        var reported: [String: Int64] = [:]
        /// The cache changed since the last snapshot yielded.
        var cacheChanged = true
        /// What the last snapshot yielded said of the read (nil before the first).
        var announced: Announced?
        /// A new session: every child is fetched again at the next listing (arming its data watch).
        var refetch = false
        var needsListing = true
        /// Whether a children (or exists) watch on the path is armed and has not fired yet.
        var listingWatchArmed = false

        init(watch: MembershipWatch, wake: WakeSignal, dirty: DirtyChildren, yield: @escaping @Sendable (MembershipSnapshot) -> Void) {
            self.watch = watch
            self.wake = wake
            self.dirty = dirty
            self.yield = yield
        }

        var client: ZooKeeperClient { watch.client }
        var logger: Logger { watch.logger }

        mutating func disconnected() {
            markStale()
            needsListing = true
        }

        /// A new session has none of the old watches: read everything again (the cache stays the
        /// last known set until then).
        mutating func sessionChanged() {
            refetch = true
            needsListing = true
        }

        mutating func failed(_ error: any Error, retryAfter: Duration) -> ReconcileLoop.Verdict {
            if let zkError = error as? ZooKeeperError, zkError.code.isTransient {
                logger.debug("membership read interrupted; will retry", metadata: ["error": "\(zkError)"])
            } else {
                failed(error)
            }
            needsListing = true
            return .retry
        }

        /// A read failed for a reason reconnecting does not cure (NOAUTH, say): keep the last
        /// members, marked stale, with the error, so it never looks like an empty healthy group.
        /// Logged when it starts or changes, not on every retry.
        private mutating func failed(_ error: any Error) {
            let readError: MembershipReadError
            if let denied = ZooKeeperAuthorizationError(error, credentials: client.configuration.credentials) {
                readError = .notAuthorized(denied)
            } else {
                readError = .failed("\(error)")
            }
            if announced?.error != readError {
                logger.error(
                    "membership read failed; keeping the last known members and retrying",
                    metadata: [
                        "error": "\(readError)", "members": "\(cache.values.count { $0.record != nil })",
                        "retry.max_interval": "\(ReconcileLoop.maximumBackoff)",
                    ])
            }
            announce(Announced(stale: true, error: readError))
        }

        private mutating func markStale() {
            guard let announced, !announced.stale else { return }
            let members = announce(Announced(stale: true, error: nil))
            logger.warning("registry unreachable; keeping the last known members", metadata: ["members": "\(members)"])
        }

        mutating func pass(audit: Bool, session: Int64) async throws {
            let changed = dirty.take()
            if changed.contains("") {
                // The children (or exists) watch fired: it is used up.
                needsListing = true
                listingWatchArmed = false
            }
            var children: [String]? = nil
            if needsListing || !listingWatchArmed || announced == nil || announced?.stale == true {
                listingWatchArmed = false
                var relist = false
                do {
                    let (names, _, childrenWatch) = try await client.getChildrenWatching(watch.path)
                    watchFires(childrenWatch, child: "")
                    children = names
                } catch let error as ZooKeeperError where error.code == .noNode {
                    // No members path yet: an authoritative empty set. Watch for its creation.
                    let (stat, existsWatch) = try await client.existsWatching(watch.path)
                    watchFires(existsWatch, child: "")
                    // Created meanwhile: list it on the next pass (this exists watch only sees
                    // its data change or deletion).
                    relist = stat != nil
                    if relist { wake.signal() }
                    children = []
                }
                listingWatchArmed = true
                needsListing = relist
            } else if audit {
                // The periodic listing: without a watch, since the armed one still stands (a new
                // watch each time would pile up in the C client until the children change).
                do {
                    children = try await client.getChildren(watch.path)
                } catch let error as ZooKeeperError where error.code == .noNode {
                    needsListing = true
                    wake.signal()
                }
            }
            if let children {
                let present = Set(children)
                for name in cache.keys where !present.contains(name) {
                    cache.removeValue(forKey: name)
                    cacheChanged = true
                }
                for name in reported.keys where !present.contains(name) { reported.removeValue(forKey: name) }
                for name in children where cache[name] == nil || refetch {
                    try await fetch(name)
                }
                refetch = false
            }
            for name in changed where !name.isEmpty && (children == nil || cache[name] != nil) {
                try await fetch(name)
            }
            publish()
        }

        /// Reads one child's data, arming its data watch.
        private mutating func fetch(_ name: String) async throws {
            let childPath = ServicePath.child(name, of: watch.path)
            do {
                let (data, stat, dataWatch) = try await client.getDataWatching(childPath)
                watchFires(dataWatch, child: name)
                if let previous = cache[name], previous.mzxid == stat.mzxid { return }
                cache[name] = Cached(mzxid: stat.mzxid, record: read(data, node: name, mzxid: stat.mzxid))
                cacheChanged = true
            } catch let error as ZooKeeperError where error.code == .noNode {
                if cache.removeValue(forKey: name) != nil { cacheChanged = true }
                reported.removeValue(forKey: name)
            } catch let error as ZooKeeperError where error.code == .noAuth {
                // One node this identity may not read is skipped, not the whole group: a node
                // created with a hostile ACL must not freeze everyone's membership.
                let denied = ZooKeeperAuthorizationError(error, credentials: client.configuration.credentials)
                if reported[name] != Self.unreadable {
                    logger.warning(
                        "skipping a member node this identity may not read",
                        metadata: ["zk.node": "\(UntrustedText.escaped(name))", "error": "\(denied.map { "\($0)" } ?? "\(error)")"])
                }
                reported[name] = Self.unreadable
                if cache[name]?.mzxid != Self.unreadable { cacheChanged = true }
                cache[name] = Cached(mzxid: Self.unreadable, record: nil)
            }
        }

        /// The `mzxid` recorded for a child whose data may not be read.
        static let unreadable: Int64 = -1

        /// The record in a child's data, or nil (skipped). A skipped node is logged once per version
        /// of its data (`mzxid`), even across sessions: a storm of membership changes beside junk
        /// nodes must not repeat them. Everything from the node is escaped (`UntrustedText`).
        private mutating func read(_ data: [UInt8], node name: String, mzxid: Int64) -> MemberRecord? {
            let firstLook = reported[name] != mzxid
            reported[name] = mzxid
            var metadata: Logger.Metadata = ["zk.node": "\(UntrustedText.escaped(name))", "zk.mzxid": "\(mzxid)"]
            do {
                let (record, notes) = try MemberRecord.decodeNoting(data)
                guard record.id == name else {
                    if firstLook {
                        metadata["member.id"] = "\(UntrustedText.escaped(record.id))"
                        logger.warning("skipping member record whose id differs from its node name", metadata: metadata)
                    }
                    return nil
                }
                if firstLook, !notes.isEmpty {
                    metadata["notes"] = "\(notes.joined(separator: "; "))"
                    logger.notice("member record read with adjustments", metadata: metadata)
                }
                return record
            } catch {
                if firstLook {
                    metadata["error"] = "\(error)"
                    logger.warning("skipping invalid member record", metadata: metadata)
                }
                return nil
            }
        }

        private func watchFires(_ nodeWatch: NodeWatch, child: String) {
            let wake = self.wake
            let dirty = self.dirty
            Task {
                let event = await nodeWatch.event()
                if event == .sessionLost { return }
                dirty.insert(child)
                wake.signal()
            }
        }

        /// A pass read the path: the cache is current.
        private mutating func publish() {
            let was = announced
            let members = announce(Announced(stale: false, error: nil))
            if was?.error != nil {
                logger.notice("membership read succeeds again; membership is current", metadata: ["members": "\(members)"])
            } else if was?.stale == true {
                logger.info("registry reachable again; membership is current", metadata: ["members": "\(members)"])
            }
        }

        /// Yields the cache as a snapshot that says `status`, if the cache or the status changed
        /// since the last one; returns how many members the cache holds.
        @discardableResult
        private mutating func announce(_ status: Announced) -> Int {
            var members: [MemberRecord] = []
            var skipped: [String] = []
            for (name, entry) in cache {
                if let record = entry.record { members.append(record) } else { skipped.append(name) }
            }
            guard cacheChanged || announced != status else { return members.count }
            members.sort { $0.id < $1.id }
            skipped.sort()
            yield(MembershipSnapshot(members: members, stale: status.stale, skipped: skipped, error: status.error))
            announced = status
            cacheChanged = false
            return members.count
        }
    }
}

/// Children whose data watch fired ("" stands for the children list itself), shared between the
/// watch-waiting tasks and the loop.
final class DirtyChildren: Sendable {
    private let names = Locked(Set<String>())

    func insert(_ name: String) {
        names.withLock { _ = $0.insert(name) }
    }

    func take() -> Set<String> {
        names.withLock { names in
            defer { names.removeAll() }
            return names
        }
    }
}
