import CProxyEngine
import ProxyProtocolCodec

#if canImport(Glibc)
import Glibc
#endif

/// The event loop of one worker: its epoll instance, connection table, timers, read buffer and
/// buffer pool. Runs on its own thread; everything here belongs to that thread. A struct, so the
/// hot path has no class-property exclusivity checks and no reference counting of its own state.
///
/// Why not SwiftNIO here: per proxied connection NIO costs two Channels, two pipelines, promises and
/// closures, and 39 system calls (13 of them `epoll_ctl`) against nginx's 17 (bench/TUNING.md). This
/// loop registers each socket once for its whole life (`EPOLLIN|EPOLLOUT|EPOLLRDHUP|EPOLLET`), reads
/// into one buffer per worker and writes straight to the peer, keeps bytes only while a peer is slow,
/// and takes its timeouts from one heap per worker through `epoll_wait`'s timeout.
struct WorkerCore {
    let index: Int
    let epollFD: Int32
    let mailbox: WorkerMailbox
    let shared: EngineShared
    private let events: UnsafeMutableRawPointer
    private let maxEvents: Int32
    let readBuffer: UnsafeMutableRawPointer
    let readBufferSize = 64 * 1024
    private let clock: () -> Int64

    var sessions = SessionTable(capacity: 1024)
    /// Parallel to `sessions`, grown only for sessions that are recorded (an access log, a pick key or `return`).
    var records = SlotTable<SessionRecord>(capacity: 16)
    /// Sessions started by this worker, for `$connection`.
    private var serials: UInt64 = 0
    /// Parallel to `sessions`: what each session holds by reference.
    var links: [SessionLinks] = []
    private var freeSlots: [Int32] = []
    var timers = TimerHeap()
    private var pool = BufferPool()
    private var posted: [Int32] = []
    private var postedNext: [Int32] = []
    var listeners: [Listener] = []
    /// Listeners out of this worker's epoll set until their `accept_rate` allows the next client.
    var pausedListeners = 0
    private(set) var now: Int64
    private(set) var running = true
    private var stopWaiter: CheckedContinuation<Void, Never>?

    /// Accepts per listener per wake-up (the bounded accept loop).
    static let acceptBatch = 64
    /// Reads per side per wake-up before the session yields to the others (posted for the next turn).
    static let readBatch = 16

    struct Listener {
        var id: Int
        var fd: Int32
        var noDelay: Bool
        var route: any ProxyRoute
        /// Its epoll registration, to add it again after a pause.
        var flags: UInt32
        /// While paused by `accept_rate`: when to accept again (worker ms), else 0.
        var pausedUntil: Int64 = 0
        /// In the epoll set (false from a pause until the worker has accepted what queued meanwhile).
        var watched = true
    }

    // epoll data: kind in bits 62-63; for sessions the slot in bits 0-31, the side in bit 32 and the
    // generation in bits 33-61, so an event left over from a closed session never reaches its successor.
    private static let kindSession: UInt64 = 0
    static let kindListener: UInt64 = 1 << 62
    private static let kindMailbox: UInt64 = 2 << 62
    private static let kindMask: UInt64 = 3 << 62
    private static let generationMask: UInt32 = (1 << 29) - 1

    init(index: Int, mailbox: WorkerMailbox, shared: EngineShared, clock: @escaping () -> Int64 = { cpe_monotonic_ms() })
        throws(EngineError)
    {
        let fd = cpe_epoll_create()
        guard fd >= 0 else { throw EngineError.system(call: "epoll_create1", errno: -fd) }
        self.index = index
        self.epollFD = fd
        self.mailbox = mailbox
        self.shared = shared
        self.maxEvents = 512
        self.events = cpe_events_alloc(512)!
        self.readBuffer = UnsafeMutableRawPointer.allocate(byteCount: 64 * 1024, alignment: 16)
        self.clock = clock
        self.now = clock()
        self.links.reserveCapacity(1024)
        self.freeSlots.reserveCapacity(1024)
        self.posted.reserveCapacity(64)
        self.postedNext.reserveCapacity(64)
        _ = cpe_epoll_add(fd, mailbox.eventFD, CPE_EPOLLIN, Self.kindMailbox)
    }

    /// Runs until a `stop` command; then frees everything.
    mutating func run() {
        while self.running {
            self.turn()
        }
        self.teardown()
    }

    /// One `epoll_wait` and what it reported, posted sessions, then due timers.
    mutating func turn(maxWait: Int32 = -1) {
        var timeout = self.posted.isEmpty ? self.timers.timeout(now: self.now) : 0
        if self.pausedListeners > 0 {
            timeout = self.acceptResumeTimeout(timeout)
        }
        if maxWait >= 0 && (timeout < 0 || timeout > maxWait) {
            timeout = maxWait
        }
        let count = cpe_epoll_wait(self.epollFD, self.events, self.maxEvents, timeout)
        self.now = self.clock()
        if count > 0 {
            for index in 0..<Int(count) {
                let event = cpe_event_at(self.events, Int32(index))
                self.dispatch(event)
            }
        }
        if !self.posted.isEmpty {
            swap(&self.posted, &self.postedNext)
            for slot in self.postedNext {
                self.sessions[Int(slot)].posted = false
                self.resume(slot)
            }
            self.postedNext.removeAll(keepingCapacity: true)
        }
        while let slot = self.timers.popExpired(now: self.now) {
            self.timerFired(slot)
        }
        if self.pausedListeners > 0 {
            self.resumeListeners()
        }
    }

    private mutating func dispatch(_ event: cpe_event) {
        let data = event.data
        switch data & Self.kindMask {
        case Self.kindSession:
            let slot = Int32(truncatingIfNeeded: data & 0xFFFF_FFFF)
            let side: Side = (data >> 32) & 1 == 0 ? .client : .upstream
            let generation = UInt32(truncatingIfNeeded: data >> 33) & Self.generationMask
            self.sessionEvent(slot: slot, side: side, generation: generation, events: event.events)
        case Self.kindListener:
            self.accept(listenerID: Int(data & 0xFFFF_FFFF))
        default:
            for command in self.mailbox.takeAll() {
                self.execute(command)
            }
        }
    }

    private func token(_ slot: Int32, _ side: Side) -> UInt64 {
        let generation = UInt64(self.sessions[Int(slot)].generation & Self.generationMask)
        return Self.kindSession | generation << 33 | UInt64(side.rawValue) << 32 | UInt64(UInt32(bitPattern: slot))
    }

    // MARK: Commands

    mutating func execute(_ command: WorkerCommand) {
        switch command {
        case .addListener(let id, let fd, let exclusive, let noDelay, let route):
            var flags = CPE_EPOLLIN
            if exclusive {
                flags |= CPE_EPOLLEXCLUSIVE
            }
            _ = cpe_epoll_add(self.epollFD, fd, flags, Self.kindListener | UInt64(UInt32(truncatingIfNeeded: id)))
            self.listeners.append(Listener(id: id, fd: fd, noDelay: noDelay, route: route, flags: flags))
        case .updateRoute(let id, let route):
            for index in self.listeners.indices where self.listeners[index].id == id {
                self.listeners[index].route = route
            }
        case .removeListener(let id, let done):
            for listener in self.listeners where listener.id == id {
                _ = cpe_epoll_del(self.epollFD, listener.fd)
            }
            self.listeners.removeAll { $0.id == id }
            self.countPausedListeners()
            done.resume()
        case .closeAll:
            self.closeAll()
        case .stop(let done):
            self.closeAll()
            for listener in self.listeners {
                _ = cpe_epoll_del(self.epollFD, listener.fd)
            }
            self.listeners.removeAll()
            self.countPausedListeners()
            self.running = false
            self.stopWaiter = done
        }
    }

    private mutating func closeAll() {
        for slot in self.sessions.indices where self.sessions[slot].inUse {
            let slot = Int32(slot)
            if self.sessions[slot].state.phase == .connecting {
                self.abandon(slot, status: 200)
            } else {
                self.sessions[slot].state.abort()
                self.settle(slot)
            }
        }
    }

    private mutating func teardown() {
        self.pool.releaseAll()
        cpe_close(self.epollFD)
        cpe_events_free(self.events)
        self.readBuffer.deallocate()
        // The thread ends after this: nothing reads the table again.
        self.sessions.deallocate()
        self.records.deallocate()
        self.stopWaiter?.resume()
        self.stopWaiter = nil
    }

    // MARK: Accepting

    mutating func accept(listenerID: Int) {
        guard let at = self.listeners.firstIndex(where: { $0.id == listenerID }) else { return }
        let listener = self.listeners[at]
        let limiter = listener.route.acceptLimiter
        var address = sockaddr_storage()
        var length = socklen_t(0)
        // multi_accept off: one client per wake-up, so no accept4 ends in EAGAIN (the listener is
        // level-triggered: one still holding clients is reported again at once).
        for _ in 0..<(self.shared.multiAccept ? Self.acceptBatch : 1) {
            var receipt: Int64 = 0
            if let limiter {
                guard let taken = limiter.take(at: self.now &* AcceptLimiter.workerTick) else {
                    self.pauseAccepting(at, limiter: limiter)
                    return
                }
                receipt = taken
            }
            let fd = cpe_accept(listener.fd, &address, &length)
            guard fd >= 0 else {
                limiter?.giveBack(receipt)
                return
            }
            if !self.shared.admit() {
                self.shared.counters.add(.refused, 1, worker: self.index)
                cpe_close(fd)
                continue
            }
            self.start(clientFD: fd, address: &address, listener: listener)
        }
    }

    private mutating func allocateSlot() -> Int32 {
        if let slot = self.freeSlots.popLast() {
            return slot
        }
        self.sessions.append(Session())
        self.links.append(SessionLinks())
        return Int32(self.sessions.count - 1)
    }

    private mutating func start(clientFD fd: Int32, address: inout sockaddr_storage, listener: Listener) {
        let route = listener.route
        let settings = route.settings
        if settings.tcpNoDelay != listener.noDelay {
            _ = cpe_set_nodelay(fd, settings.tcpNoDelay ? 1 : 0)
        }
        var clientAddress: String?
        if settings.needsClientAddress {
            clientAddress = withUnsafeTemporaryAllocation(of: CChar.self, capacity: 64) { text in
                let length = cpe_address_text(&address, text.baseAddress, 64)
                return length > 0 ? String(cString: text.baseAddress!) : nil
            }
        }
        // The client's own address only where an edge check or a PROXY header sent on needs it.
        let endpoint = route.edge == nil ? nil : ProxyProtocolEndpoint(socketAddress: address)
        var client = RecordAddress()
        var server = RecordAddress()
        if route.keepsRecord {
            client = RecordAddress(address)
            if route.sessionLog?.needsServerAddress == true || route.pickKey?.needsServerAddress == true
                || route.edge?.returnValue?.needsServerAddress == true
            {
                var local = sockaddr_storage()
                if cpe_local_address(fd, &local) > 0 {
                    server = RecordAddress(local)
                }
            }
        }
        self.adopt(
            clientFD: fd, route: route, clientAddress: clientAddress, clientEndpoint: endpoint, client: client, server: server)
    }

    /// Starts a session for an accepted (or, in tests, any connected) client socket.
    @discardableResult
    mutating func adopt(
        clientFD fd: Int32, route: any ProxyRoute, clientAddress: String? = nil, clientEndpoint: ProxyProtocolEndpoint? = nil,
        client: RecordAddress = RecordAddress(), server: RecordAddress = RecordAddress()
    ) -> Int32 {
        let settings = route.settings
        let slot = self.allocateSlot()
        let generation = self.sessions[Int(slot)].generation
        var session = Session()
        session.generation = generation
        session.inUse = true
        self.serials &+= 1
        // A pick key and `return` read the record too, but only an access log sends it on, and only
        // the logs need its byte counts and member addresses.
        let errorLog = route.errorLog
        if route.keepsRecord {
            session.recording = route.sessionLog != nil || errorLog != nil
            var record = SessionRecord()
            // Interleaved per worker: unique across the engine without a shared counter.
            record.serial = (self.serials &- 1) &* UInt64(self.shared.counters.workers) &+ UInt64(self.index) &+ 1
            record.client = client
            record.server = server
            record.start = self.now
            self.records.ensure(slot, filler: SessionRecord())
            self.records[slot] = record
        }
        session.state = SessionState(
            halfClose: settings.halfClose, idleTimeout: settings.idleTimeout, bufferLimit: settings.bufferSize,
            uploadRate: settings.uploadRate, downloadRate: settings.downloadRate, now: self.now)
        session.client.fd = fd
        self.links[Int(slot)] = SessionLinks(route: route, counters: route.counters, clientAddress: clientAddress)
        self.links[Int(slot)].clientEndpoint = clientEndpoint
        self.links[Int(slot)].errorLog = errorLog
        if settings.nextUpstreamTimeout > 0 {
            session.triesDeadline = self.now + settings.nextUpstreamTimeout
        }
        self.sessions[Int(slot)] = session
        _ = cpe_epoll_add(
            self.epollFD, fd, CPE_EPOLLIN | CPE_EPOLLOUT | CPE_EPOLLRDHUP | CPE_EPOLLET, self.token(slot, .client))
        self.report(slot, .clientConnected, .info)
        if let edge = route.edge {
            self.links[Int(slot)].edge = edge
            self.beginEdge(slot, edge)
        } else {
            self.connectNext(slot)
        }
        return slot
    }

    // MARK: Connecting

    mutating func connectNext(_ slot: Int32) {
        guard let route = self.links[Int(slot)].route else { return }
        let settings = route.settings
        if let pickKey = route.pickKey, self.sessions[slot].attempts == 0 {
            self.links[Int(slot)].clientAddress = pickKey.evaluate(self.records[slot])
        }
        let picked = route.pick(clientAddress: self.links[Int(slot)].clientAddress, tried: self.links[Int(slot)].tried)
        guard let peer = picked else {
            self.report(slot, .noLiveUpstreams, .error)
            route.noLiveUpstreams()
            route.counters.add(.noLiveUpstreams, 1, worker: self.index)
            if self.sessions[slot].recording, self.sessions[slot].attempts == 0 || self.sessions[slot].attempts < route.peerTries {
                self.records[slot].noLiveMemberTry(now: self.now)
            }
            self.abandon(slot, status: 502)
            return
        }
        self.links[Int(slot)].peer = peer.key
        self.sessions[slot].hasPeer = true
        self.sessions[slot].attempts += 1
        if self.sessions[slot].recording {
            self.records[slot].beginTry(RecordAddress(peer.address.storage), now: self.now)
        }
        guard peer.address.isValid else {
            self.attemptFailed(slot, .badAddress)
            return
        }
        let fd = cpe_socket(peer.address.family)
        guard fd >= 0 else {
            self.attemptFailed(slot, .error(-fd))
            return
        }
        if settings.tcpNoDelay {
            _ = cpe_set_nodelay(fd, 1)
        }
        var address = peer.address
        let result = cpe_connect(fd, &address.storage, address.length)
        guard result == 0 || result == -EINPROGRESS else {
            cpe_close(fd)
            self.attemptFailed(slot, .error(-result))
            return
        }
        self.sessions[slot].upstream = SideIO()
        self.sessions[slot].upstream.fd = fd
        var deadline = self.now + max(1, settings.connectTimeout)
        let triesDeadline = self.sessions[slot].triesDeadline
        if triesDeadline > 0 {
            deadline = min(deadline, max(triesDeadline, self.now + 1))
        }
        self.sessions[slot].state.connecting(deadline: deadline)
        _ = cpe_epoll_add(
            self.epollFD, fd, CPE_EPOLLIN | CPE_EPOLLOUT | CPE_EPOLLRDHUP | CPE_EPOLLET, self.token(slot, .upstream))
        if result == 0 {
            self.connected(slot)
        } else {
            self.timers.schedule(slot, at: deadline)
        }
    }

    private mutating func attemptFailed(_ slot: Int32, _ reason: ConnectFailure) {
        guard let route = self.links[Int(slot)].route else { return }
        self.report(slot, .connectFailed, .error, error: reason.errorNumber)
        let upstreamFD = self.sessions[slot].upstream.fd
        if upstreamFD >= 0 {
            cpe_close(upstreamFD)
        }
        self.sessions[slot].upstream = SideIO()
        self.sessions[slot].state.upstreamAttemptEnded()
        if self.sessions[slot].recording {
            self.records[slot].endTry(now: self.now)
        }
        if let peer = self.links[Int(slot)].peer {
            self.links[Int(slot)].peer = nil
            self.sessions[slot].hasPeer = false
            route.connectFailed(peer, reason: reason)
            route.counters.add(.connectFailures, 1, worker: self.index)
            self.links[Int(slot)].tried.append(peer)
        }
        let settings = route.settings
        let session = self.sessions[slot]
        let triesLeft = settings.nextUpstreamTries == 0 || session.attempts < settings.nextUpstreamTries
        let timeLeft = session.triesDeadline == 0 || self.now < session.triesDeadline
        if settings.nextUpstream && triesLeft && timeLeft {
            self.connectNext(slot)
        } else {
            self.abandon(slot, status: 502)
        }
    }

    private mutating func connected(_ slot: Int32) {
        guard let route = self.links[Int(slot)].route, let peer = self.links[Int(slot)].peer else { return }
        route.connected(peer)
        route.counters.add(.connectionsOpened, 1, worker: self.index)
        self.sessions[slot].peerConnected = true
        self.sessions[slot].state.connected(now: self.now)
        if self.sessions[slot].recording {
            let now = self.now
            self.records[slot].withCurrentTry { $0.connectTime = max(0, now - $0.start) }
        }
        self.reportConnected(slot)
        self.sessions[slot].upstream.writable = true
        self.sessions[slot].client.writable = true
        if self.links[Int(slot)].edge?.sendsProxyProtocol == true && !self.sendProxyHeader(slot) {
            self.sessions[slot].state.failed(.upstream, now: self.now)
            self.settle(slot)
            return
        }
        // Bytes the client sent meanwhile waited in its socket (the kernel held them, its window
        // paused the client): they go first. A greeting from the member may be there already too.
        self.pump(slot, from: .client)
        self.pump(slot, from: .upstream)
        self.settle(slot)
    }

    /// Ends a session that has no established upstream: releases a reserved member, closes both
    /// sockets. `status` is the session's `$status`: 502 when no member could be reached (nginx's
    /// `NGX_STREAM_BAD_GATEWAY`), 200 when the client left or the engine closes.
    mutating func abandon(_ slot: Int32, status: UInt16 = 200) {
        if self.sessions[slot].recording {
            self.records[slot].status = status
        }
        self.releasePeer(slot)
        let upstreamFD = self.sessions[slot].upstream.fd
        if upstreamFD >= 0 {
            cpe_close(upstreamFD)
        }
        let clientFD = self.sessions[slot].client.fd
        if clientFD >= 0 {
            cpe_close(clientFD)
            self.shared.release()
        }
        self.sessions[slot].client.fd = -1
        self.sessions[slot].upstream.fd = -1
        self.sessions[slot].state.clientGoneWhileConnecting()
        self.free(slot)
    }

    /// Gives the member's slot back to the pool. Called before either socket of the session is
    /// closed, so a client that reconnects the moment it sees its end is balanced on a fresh count.
    private mutating func releasePeer(_ slot: Int32) {
        guard self.sessions[slot].hasPeer, let peer = self.links[Int(slot)].peer, let route = self.links[Int(slot)].route
        else { return }
        self.links[Int(slot)].peer = nil
        self.sessions[slot].hasPeer = false
        route.closed(peer)
        if self.sessions[slot].peerConnected {
            route.counters.add(.connectionsClosed, 1, worker: self.index)
        }
    }

    private mutating func free(_ slot: Int32) {
        self.timers.cancel(slot)
        for hold in self.links[Int(slot)].limitHolds {
            hold.zone.release(hold.key)
        }
        if self.sessions[slot].recording {
            self.reportEnd(slot)
        }
        var session = self.sessions[Int(slot)]
        if session.recording, let log = self.links[Int(slot)].route?.sessionLog {
            self.records[slot].endTry(now: self.now)
            self.records[slot].end = self.now
            if session.edgeStatus != .none {
                self.records[slot].status = session.edgeStatus.rawValue
            }
            log.push(self.records[slot], worker: self.index)
        }
        if session.client.buffer >= 0 {
            self.pool.give(session.client.buffer)
        }
        if session.upstream.buffer >= 0 {
            self.pool.give(session.upstream.buffer)
        }
        session = Session()
        session.generation = (self.sessions[Int(slot)].generation &+ 1) & Self.generationMask
        self.sessions[Int(slot)] = session
        self.links[Int(slot)] = SessionLinks()
        self.freeSlots.append(slot)
    }

    // MARK: Events

    private mutating func sessionEvent(slot: Int32, side: Side, generation: UInt32, events: UInt32) {
        guard Int(slot) < self.sessions.count, self.sessions[slot].inUse,
            self.sessions[slot].generation == generation
        else { return }
        let failed = events & (CPE_EPOLLERR | CPE_EPOLLHUP) != 0
        if events & (CPE_EPOLLIN | CPE_EPOLLRDHUP) != 0 || failed {
            self.sessions[slot][side].readable = true
        }
        if events & (CPE_EPOLLRDHUP | CPE_EPOLLHUP) != 0 {
            self.sessions[slot][side].eofSeen = true
        }
        if events & CPE_EPOLLOUT != 0 || failed {
            self.sessions[slot][side].writable = true
        }
        if self.sessions[slot].readingHeader {
            if side == .client {
                self.readHeader(slot, failed: failed)
            }
            return
        }
        if self.sessions[slot].state.phase == .connecting {
            if side == .upstream {
                // Linux reports a failed non-blocking connect as EPOLLERR (with EPOLLHUP), a finished
                // one as EPOLLOUT alone: the event itself is the result, so a successful connect
                // costs no getsockopt(SO_ERROR); only a failure asks for its errno, for the log.
                if events & (CPE_EPOLLERR | CPE_EPOLLHUP) != 0 {
                    let error = cpe_socket_error(self.sessions[slot].upstream.fd)
                    self.attemptFailed(slot, .error(error == 0 ? ECONNREFUSED : error))
                } else if events & CPE_EPOLLOUT != 0 {
                    self.connected(slot)
                }
            } else if events & CPE_EPOLLERR != 0 || events & CPE_EPOLLHUP != 0 {
                // The client is gone (reset) before its member was connected.
                self.abandon(slot, status: 200)
            }
            return
        }
        self.resume(slot, wrote: side)
    }

    /// Continues whatever a session can do: write what is pending, read what is readable.
    private mutating func resume(_ slot: Int32, wrote side: Side? = nil) {
        guard self.sessions[slot].inUse, self.sessions[slot].state.phase == .established else { return }
        // Both sides spelled out (no loop over the global `Side.both`): this runs on every event.
        if self.sessions[slot].client.writable && self.sessions[slot].client.pending > 0 {
            self.flush(slot, to: .client)
        }
        if self.sessions[slot].upstream.writable && self.sessions[slot].upstream.pending > 0 {
            self.flush(slot, to: .upstream)
        }
        if self.sessions[slot].client.readable {
            self.pump(slot, from: .client)
        }
        if self.sessions[slot].upstream.readable {
            self.pump(slot, from: .upstream)
        }
        self.settle(slot)
    }

    /// Carries out what the session's state asks for, frees it when both sides are closed, and keeps
    /// its timer no later than its next deadline (an earlier timer just fires and re-arms).
    private mutating func settle(_ slot: Int32) {
        guard self.sessions[slot].inUse else { return }
        while let action = self.sessions[slot].state.nextAction(now: self.now) {
            switch action {
            case .shutdownWrite(let side):
                // The member has ended and its socket is about to close: give its slot back before
                // the client's FIN, which the client may answer by reconnecting at once (the client
                // side's actions come first, so otherwise the pick saw a stale count; nginx-tests'
                // stream_upstream_least_conn.t showed 6/4 instead of 5/5).
                if side == .client, self.sessions[slot].state.upstream.inputClosed,
                    self.sessions[slot].state.upstream.closeQueued
                {
                    self.releasePeer(slot)
                }
                let fd = self.sessions[slot][side].fd
                // The client ended the session (proxy_half_close off) and the member was to linger:
                // FIN, then read and dropped until its EOF. When the member's kernel has acknowledged
                // every byte we wrote (SIOCOUTQ 0), it is closed at once instead, as nginx does: its
                // bytes are all delivered, so nothing of ours can be lost, even if what it still sends
                // draws a reset (Linux keeps acknowledged data readable after one); what it sends was
                // to be dropped anyway. That saves the shutdown, the read of its EOF and the wake-up
                // bringing it. With bytes unacknowledged a close could lose them (a reset purges the
                // send queue), so the member lingers. Clients always linger: some stacks drop data
                // received but not yet read when a reset comes.
                if side == .upstream, fd >= 0, self.sessions[slot].state.upstream.lingering,
                    cpe_unacknowledged(fd) == 0
                {
                    self.sessions[slot].state.lingerNotNeeded(.upstream)
                    continue
                }
                if fd >= 0 {
                    _ = cpe_shutdown_write(fd)
                }
            case .close(let side):
                self.closeSide(slot, side)
            }
        }
        if self.sessions[slot].state.phase == .closed {
            self.free(slot)
            return
        }
        // A side that was waiting for its peer to drain may read again.
        if !self.sessions[slot].posted
            && ((self.sessions[slot].client.readable && self.sessions[slot].state.readAllowed(.client))
                || (self.sessions[slot].upstream.readable && self.sessions[slot].state.readAllowed(.upstream)))
        {
            self.post(slot)
        }
        if let deadline = self.sessions[slot].state.deadline() {
            if let armed = self.timers.deadline(of: slot), armed <= deadline {
                return
            }
            self.timers.schedule(slot, at: deadline)
        }
    }

    private mutating func post(_ slot: Int32) {
        self.sessions[slot].posted = true
        self.posted.append(slot)
    }

    private mutating func closeSide(_ slot: Int32, _ side: Side) {
        self.releasePeer(slot)
        let io = self.sessions[slot][side]
        if io.buffer >= 0 {
            self.pool.give(io.buffer)
        }
        if io.fd >= 0 {
            cpe_close(io.fd)
            if side == .client {
                self.shared.release()
            }
        }
        self.sessions[slot][side] = SideIO()
    }

    private mutating func timerFired(_ slot: Int32) {
        guard self.sessions[slot].inUse else { return }
        if self.sessions[slot].readingHeader {
            // proxy_protocol_timeout: no complete header in time (nginx: `client timed out`, info).
            self.report(slot, .badProxyHeader, .info, error: ETIMEDOUT)
            self.refuse(slot, .badRequest)
            return
        }
        switch self.sessions[slot].state.expired(now: self.now) {
        case .connectTimedOut:
            self.attemptFailed(slot, .timedOut)
        case .idle:
            self.report(slot, .idleTimedOut, .info, error: ETIMEDOUT)
            self.sessions[slot].endReported = true
            self.settle(slot)
        case .closeNow:
            self.settle(slot)
        case .readAgain:
            self.resume(slot)
        case .rearm(let deadline):
            self.timers.schedule(slot, at: deadline)
        case .none:
            break
        }
    }

    // MARK: Moving bytes

    /// Writes what is pending for `side`; when it is all written the chunk goes back to the pool and
    /// the other side, if it was paused for it, reads again.
    private mutating func flush(_ slot: Int32, to side: Side) {
        var io = self.sessions[slot][side]
        guard io.buffer >= 0, io.fd >= 0 else { return }
        let base = self.pool.pointer(io.buffer)
        while io.pending > 0 {
            let written = cpe_send(io.fd, base + io.start, UInt(io.pending))
            if written > 0 {
                io.start += written
                if self.sessions[slot].recording {
                    self.recordSent(slot, to: side, written)
                }
                continue
            }
            if written == -Int(EAGAIN) || written == -Int(EWOULDBLOCK) {
                io.writable = false
            } else {
                self.sessions[slot][side] = io
                self.sessions[slot].state.failed(side, now: self.now)
                return
            }
            break
        }
        if io.pending == 0 {
            self.pool.give(io.buffer)
            io.buffer = -1
            io.start = 0
            io.end = 0
        }
        self.sessions[slot][side] = io
        self.sessions[slot].state.setPending(side, io.pending)
    }

    /// Reads `source` and writes what it read to its peer, straight from the worker's read buffer;
    /// what the peer does not take goes to a pool chunk (up to the session's `bufferLimit`, 64 KiB
    /// unless `proxy_buffer_size` says less, then reading pauses).
    private mutating func pump(_ slot: Int32, from source: Side) {
        let target = source.peer
        var reads = 0
        // Fixed for the session: read once per call, not per read.
        let limit = self.sessions[slot].state.bufferLimit
        let rateLimited = self.sessions[slot].state.rateLimited
        while self.sessions[slot][source].readable, self.sessions[slot].state.readAllowed(source) {
            if reads == Self.readBatch {
                if !self.sessions[slot].posted {
                    self.post(slot)
                }
                return
            }
            reads += 1
            let fd = self.sessions[slot][source].fd
            let discard = self.sessions[slot].state.discards(source)
            var into = self.readBuffer
            // A lingering side's bytes are dropped: drained in whole buffers, whatever the limit.
            var room = discard ? self.readBufferSize : min(self.readBufferSize, limit)
            let chunk = self.sessions[slot][target].buffer
            if !discard && chunk >= 0 {
                // The peer is behind: read after what already waits for it.
                var io = self.sessions[slot][target]
                let base = self.pool.pointer(chunk)
                if io.start > 0 {
                    (base).copyMemory(from: base + io.start, byteCount: io.pending)
                    io.end -= io.start
                    io.start = 0
                    self.sessions[slot][target] = io
                }
                into = base + io.end
                room = min(BufferPool.chunkSize, limit) - io.end
                if room <= 0 { return }
            }
            if rateLimited && !discard {
                // proxy_upload_rate / proxy_download_rate: 0 leaves the side waiting for its timer.
                let allowed = self.sessions[slot].state.readRoom(source, now: self.now)
                if allowed == 0 { return }
                room = min(room, allowed)
            }
            let count = cpe_read(fd, into, UInt(room))
            if count > 0 {
                if count < room && !self.sessions[slot][source].eofSeen {
                    // A short read drained the socket: the next data brings a new edge.
                    self.sessions[slot][source].readable = false
                }
                if discard { continue }
                if self.sessions[slot].recording {
                    self.recordReceived(slot, from: source, count)
                }
                self.sessions[slot].state.received(from: source, count: count, now: self.now)
                self.links[Int(slot)].counters?.add(source == .client ? .bytesIn : .bytesOut, count, worker: self.index)
                if chunk >= 0 {
                    self.sessions[slot][target].end += count
                    self.sessions[slot].state.setPending(target, self.sessions[slot][target].pending)
                    if self.sessions[slot][target].writable {
                        self.flush(slot, to: target)
                    }
                } else {
                    self.forward(slot, to: target, count: count)
                }
            } else if count == 0 {
                self.sessions[slot][source].readable = false
                self.sessions[slot].state.inputEnded(source, now: self.now)
            } else if count == -Int(EAGAIN) || count == -Int(EWOULDBLOCK) {
                self.sessions[slot][source].readable = false
            } else if count == -Int(EINTR) {
                continue
            } else {
                self.sessions[slot][source].readable = false
                self.sessions[slot].state.failed(source, now: self.now)
            }
        }
    }

    /// Writes `count` bytes of the read buffer to `target`; the rest goes to a pool chunk.
    private mutating func forward(_ slot: Int32, to target: Side, count: Int) {
        let fd = self.sessions[slot][target].fd
        var written = 0
        if self.sessions[slot][target].writable {
            let result = cpe_send(fd, self.readBuffer, UInt(count))
            if result >= 0 {
                written = result
                if self.sessions[slot].recording {
                    self.recordSent(slot, to: target, result)
                }
            } else if result != -Int(EAGAIN) && result != -Int(EWOULDBLOCK) {
                self.sessions[slot].state.failed(target, now: self.now)
                return
            }
        }
        if written < count {
            let chunk = self.pool.take()
            self.pool.pointer(chunk).copyMemory(from: self.readBuffer + written, byteCount: count - written)
            self.sessions[slot][target].buffer = chunk
            self.sessions[slot][target].start = 0
            self.sessions[slot][target].end = count - written
            self.sessions[slot][target].writable = false
            self.sessions[slot].state.setPending(target, count - written)
        }
    }

    // MARK: Session records

    private mutating func recordSent(_ slot: Int32, to side: Side, _ count: Int) {
        if side == .client {
            self.records[slot].bytesSent += Int64(count)
        } else {
            self.records[slot].withCurrentTry { $0.bytesSent += Int64(count) }
        }
    }

    private mutating func recordReceived(_ slot: Int32, from side: Side, _ count: Int) {
        if side == .client {
            self.records[slot].bytesReceived += Int64(count)
        } else {
            let now = self.now
            self.records[slot].withCurrentTry { attempt in
                attempt.bytesReceived += Int64(count)
                if attempt.firstByteTime < 0 { attempt.firstByteTime = max(0, now - attempt.start) }
            }
        }
    }

    // MARK: For tests and diagnostics

    var openSessions: Int { self.sessions.count - self.freeSlots.count }
    var buffersInUse: Int { self.pool.inUse }
    func sessionState(_ slot: Int32) -> SessionState? {
        self.sessions[Int(slot)].inUse ? self.sessions[Int(slot)].state : nil
    }
}
