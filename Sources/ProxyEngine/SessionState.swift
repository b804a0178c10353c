/// One end of a proxied session.
public enum Side: Int, Sendable {
    case client = 0
    case upstream = 1

    var peer: Side { self == .client ? .upstream : .client }

    /// Both sides, for loops (a global array: iterating it allocates nothing).
    static let both: [Side] = [.client, .upstream]
}

/// A value with one part per side, read and written by side: a session's I/O (`SideIO`) and its
/// decisions (`SessionState.SideState`) are both kept this way.
protocol PerSide {
    associatedtype Part
    var client: Part { get set }
    var upstream: Part { get set }
}

extension PerSide {
    subscript(side: Side) -> Part {
        get { side == .client ? self.client : self.upstream }
        set {
            if side == .client {
                self.client = newValue
            } else {
                self.upstream = newValue
            }
        }
    }
}

/// The decisions of one proxied session, with no I/O: when a side may be read (backpressure, half-close,
/// lingering), what an EOF or an error leads to, when a FIN or a close is due, and what a timer means.
/// The worker reports what happened (`received`, `setPending`, `inputEnded`, `failed`, `connected`)
/// and then carries out `nextAction()` until it returns nil; times are monotonic milliseconds given
/// by the caller, so tests drive it with exact clocks.
///
/// The rules are the NIO glue's, kept by the black-box tests, and nginx's stream proxy:
/// - `proxy_half_close on`: an EOF is passed on as a FIN once what that side sent is written; the
///   session closes when both directions are done.
/// - `proxy_half_close off` (nginx's default): an EOF ends the session. The side that sent it is
///   closed once what is queued for it is written (at most `flushLimit`); its peer gets what was sent
///   and then a FIN, and is read and dropped until its own EOF (at most `lingerLimit`), so closing it
///   never resets a peer that may still be reading.
/// - An error (reset) on a side closes it at once; its peer gets what is queued for it, then a close.
/// - A side is read only while its peer has less than `bufferLimit` bytes queued.
public struct SessionState: Sendable, Equatable, PerSide {
    public enum Phase: Sendable, Equatable {
        case connecting
        case established
        case closed
    }

    public struct SideState: Sendable, Equatable {
        /// This side sent its EOF.
        public var inputClosed = false
        /// Bytes queued to be written to this side.
        public var pending = 0
        /// A FIN goes to this side once `pending` is written.
        public var finQueued = false
        public var finSent = false
        /// The session ended on the other side's EOF: what this side sends is read and dropped.
        public var lingering = false
        /// This side is closed once `pending` is written.
        public var closeQueued = false
        public var closed = false
        /// When a lingering or flushing side is closed regardless (0 = none).
        public var closeDeadline: Int64 = 0
        /// How fast this side is read, bytes per second (0 = no limit): `proxy_upload_rate` for the
        /// client, `proxy_download_rate` for the member.
        public var rate = 0
        /// Bytes read from this side while it has a rate.
        public var received: Int64 = 0
        /// While reading this side waits for its rate (0 = it does not).
        public var delayedUntil: Int64 = 0
    }

    /// What the worker does next for this session.
    public enum Action: Sendable, Equatable {
        case shutdownWrite(Side)
        case close(Side)
    }

    /// What a due timer means.
    public enum Expiry: Sendable, Equatable {
        /// Nothing yet; the timer moves to the deadline given.
        case rearm(Int64)
        /// The upstream connect took longer than `proxy_connect_timeout`.
        case connectTimedOut
        /// Neither side moved data for `proxy_timeout`: both close.
        case idle
        /// A lingering or flushing side ran out of time: it closes now.
        case closeNow(Side)
        /// A side that waited for its rate may be read again.
        case readAgain
        /// No timer is needed.
        case none
    }

    /// The most a side may have queued for it before its peer is no longer read, unless the listener
    /// sets `proxy_buffer_size` (`bufferLimit`): the size of a pool chunk.
    public static let backpressureLimit = 64 * 1024
    /// How long the peer of a side that ended the session may take to send its own EOF (ms).
    public static let lingerLimit: Int64 = 5_000
    /// How long a closing side may take to read what is queued for it (ms).
    public static let flushLimit: Int64 = 30_000

    public private(set) var phase: Phase = .connecting
    public let halfClose: Bool
    /// `proxy_timeout` in ms, 0 = none.
    public let idleTimeout: Int64
    /// How many bytes one read takes and how many may wait for a side before its peer is no longer
    /// read: nginx's `proxy_buffer_size` (the size of its buffer per direction), at most
    /// `backpressureLimit`.
    public let bufferLimit: Int
    /// Whether either side has a read rate: the one check the data path makes per read without one.
    public let rateLimited: Bool
    public private(set) var lastActivity: Int64
    /// When the member was connected: where the rates' seconds count from, as nginx's `start_sec`.
    public private(set) var start: Int64 = 0
    /// When the current connect attempt times out (0 = none).
    public private(set) var connectDeadline: Int64 = 0
    public internal(set) var client = SideState()
    public internal(set) var upstream = SideState()

    /// - Parameters:
    ///   - uploadRate: `proxy_upload_rate`, bytes per second read from the client (0 = no limit).
    ///   - downloadRate: `proxy_download_rate`, bytes per second read from the member (0 = no limit).
    public init(
        halfClose: Bool, idleTimeout: Int64, bufferLimit: Int = SessionState.backpressureLimit,
        uploadRate: Int = 0, downloadRate: Int = 0, now: Int64
    ) {
        self.halfClose = halfClose
        self.idleTimeout = idleTimeout
        self.bufferLimit = min(max(1, bufferLimit), Self.backpressureLimit)
        self.lastActivity = now
        self.client.rate = max(0, uploadRate)
        self.upstream.rate = max(0, downloadRate)
        self.rateLimited = uploadRate > 0 || downloadRate > 0
    }

    // MARK: Connecting

    /// A connect attempt starts; it fails at `deadline`.
    public mutating func connecting(deadline: Int64) {
        self.phase = .connecting
        self.connectDeadline = deadline
    }

    /// The upstream is connected: data may flow. Early client bytes wait in the client's socket
    /// until now (the kernel holds them; its window pauses the client), so they are sent first.
    public mutating func connected(now: Int64) {
        guard self.phase == .connecting else { return }
        self.phase = .established
        self.connectDeadline = 0
        self.lastActivity = now
        self.start = now
    }

    // MARK: Data

    /// Whether to read `side` now. A lingering side is read (and dropped) until its EOF.
    @inline(__always)
    public func readAllowed(_ side: Side) -> Bool {
        guard self.phase == .established else { return false }
        let this = self[side]
        guard !this.inputClosed, !this.closed, !this.closeQueued else { return false }
        if this.lingering { return true }
        if this.delayedUntil > 0 { return false }
        let peer = self[side.peer]
        return !peer.closed && !peer.closeQueued && !peer.finQueued && peer.pending < self.bufferLimit
    }

    /// Whether what is read from `side` is dropped (a lingering side).
    public func discards(_ side: Side) -> Bool {
        self[side].lingering
    }

    /// Bytes came from `side`: the connection is not idle. A side with a rate then waits as long as
    /// those bytes take at that rate, as nginx's `ngx_stream_proxy_process` delays its read event.
    public mutating func received(from side: Side, count: Int = 0, now: Int64) {
        self.lastActivity = now
        guard self.rateLimited else { return }
        let rate = self[side].rate
        guard rate > 0, !self[side].lingering else { return }
        self[side].received += Int64(count)
        let delay = Int64(count) * 1_000 / Int64(rate)
        if delay > 0 {
            self[side].delayedUntil = now + delay
        }
    }

    /// How many bytes the next read of `side` may take (`Int.max`: no limit): what its rate allows
    /// since the session began, counted in whole seconds plus the current one, as nginx counts it
    /// (`rate * (now - start_sec + 1) - received`). 0: nothing now; the side waits until what it
    /// took is paid for (`delayedUntil`, a deadline of the session's timer).
    public mutating func readRoom(_ side: Side, now: Int64) -> Int {
        let rate = Int64(self[side].rate)
        guard rate > 0, !self[side].lingering else { return .max }
        let limit = rate * ((now - self.start) / 1_000 + 1) - self[side].received
        if limit <= 0 {
            self[side].delayedUntil = now + (-limit * 1_000 / rate + 1)
            return 0
        }
        return Int(clamping: limit)
    }

    /// Bytes queued for `side` (written to it later, when it is writable).
    public mutating func setPending(_ side: Side, _ bytes: Int) {
        self[side].pending = bytes
    }

    /// `side` sent its EOF.
    public mutating func inputEnded(_ side: Side, now: Int64) {
        guard !self[side].inputClosed, !self[side].closed else { return }
        self[side].inputClosed = true
        if self[side].lingering {
            // The end of a lingering close: both of this side's directions are done.
            self.queueClose(side, now: now)
            return
        }
        if self.halfClose {
            self.queueFIN(side.peer)
            return
        }
        self.endSession(endedBy: side, now: now)
    }

    /// Reading or writing `side` failed (reset, broken pipe): it closes at once, and its peer once
    /// what is queued for the peer is written.
    public mutating func failed(_ side: Side, now: Int64) {
        self[side].pending = 0
        self[side].closeQueued = true
        self[side].closeDeadline = 0
        let peer = side.peer
        if !self[peer].lingering {
            self.queueClose(peer, now: now)
        }
    }

    /// `side` was to linger (get a FIN, then be read and dropped until its EOF), but the worker
    /// found that it holds every byte sent to it: it is closed now instead, with nothing queued.
    public mutating func lingerNotNeeded(_ side: Side) {
        guard self[side].lingering, !self[side].closed else { return }
        self[side].lingering = false
        self[side].pending = 0
        self[side].closeQueued = true
        self[side].closeDeadline = 0
    }

    /// Both sides close now (idle timeout, drain deadline, shutdown).
    public mutating func abort() {
        for side in Side.both {
            self[side].pending = 0
            self[side].closeQueued = true
            self[side].closeDeadline = 0
        }
    }

    private mutating func endSession(endedBy side: Side, now: Int64) {
        self.queueClose(side, now: now)
        let peer = side.peer
        guard !self[peer].closed, !self[peer].closeQueued else { return }
        if self[peer].inputClosed {
            self.queueClose(peer, now: now)
        } else {
            self[peer].lingering = true
            self.queueFIN(peer)
            self[peer].closeDeadline = now + Self.lingerLimit
        }
    }

    private mutating func queueFIN(_ side: Side) {
        guard !self[side].closed, !self[side].finSent else { return }
        self[side].finQueued = true
    }

    private mutating func queueClose(_ side: Side, now: Int64) {
        guard !self[side].closed, !self[side].closeQueued else { return }
        self[side].closeQueued = true
        self[side].closeDeadline = now + Self.flushLimit
    }

    // MARK: Settling

    /// The next thing to do for this session, or nil when it is waiting for I/O or a timer. The worker
    /// calls it after every change and carries the action out; each action is returned once.
    public mutating func nextAction(now: Int64) -> Action? {
        // The two sides spelled out rather than a loop over `Side.both`: this runs after every
        // event, and the global array's lazy initialisation check and retain cost more than the rest.
        if let action = self.nextAction(for: .client, now: now) {
            return action
        }
        if let action = self.nextAction(for: .upstream, now: now) {
            return action
        }
        // proxy_half_close on: both directions done (each side sent its EOF and got its FIN).
        if self.halfClose, self.phase == .established,
            self.client.inputClosed, self.client.finSent, self.upstream.inputClosed, self.upstream.finSent,
            !self.client.closeQueued || !self.upstream.closeQueued
        {
            self.client.closeQueued = true
            self.upstream.closeQueued = true
            return self.nextAction(now: now)
        }
        return nil
    }

    @inline(__always)
    private mutating func nextAction(for side: Side, now: Int64) -> Action? {
        var this = self[side]
        guard !this.closed else { return nil }
        if this.closeQueued && (this.pending == 0 || self.phase != .established) {
            this.closed = true
            this.pending = 0
            self[side] = this
            self.sideClosed(side, now: now)
            return .close(side)
        }
        if this.finQueued && !this.finSent && this.pending == 0 && self.phase == .established {
            this.finSent = true
            self[side] = this
            return .shutdownWrite(side)
        }
        return nil
    }

    private mutating func sideClosed(_ side: Side, now: Int64) {
        let other = side.peer
        if self.phase == .connecting || self[other].closed {
            self.phase = .closed
            return
        }
        // One side is gone: the other only finishes what is queued for it (a lingering one its EOF).
        if !self[other].lingering {
            self.queueClose(other, now: now)
        }
    }

    /// The upstream attempt is abandoned (failed, timed out) while the client waits for the next one.
    public mutating func upstreamAttemptEnded() {
        self.upstream = SideState()
        self.connectDeadline = 0
    }

    /// The client is closed while no upstream is connected.
    public mutating func clientGoneWhileConnecting() {
        self.client.closed = true
        self.upstream.closed = true
        self.phase = .closed
    }

    // MARK: Timers

    /// The one deadline this session needs, or nil.
    public func deadline() -> Int64? {
        switch self.phase {
        case .closed:
            return nil
        case .connecting:
            return self.connectDeadline > 0 ? self.connectDeadline : nil
        case .established:
            var nearest: Int64?
            func consider(_ value: Int64) {
                if value > 0 { nearest = min(nearest ?? value, value) }
            }
            if self.idleTimeout > 0 && !self.ending {
                consider(self.lastActivity + self.idleTimeout)
            }
            if !self.client.closed && (self.client.closeQueued || self.client.lingering) {
                consider(self.client.closeDeadline)
            }
            if !self.upstream.closed && (self.upstream.closeQueued || self.upstream.lingering) {
                consider(self.upstream.closeDeadline)
            }
            if self.rateLimited {
                consider(self.client.delayedUntil)
                consider(self.upstream.delayedUntil)
            }
            return nearest
        }
    }

    /// Whether the session has ended and only finishes its closes.
    private var ending: Bool {
        self.client.closeQueued || self.upstream.closeQueued || self.client.lingering || self.upstream.lingering
    }

    /// The timer fired at `now`: what it means.
    public mutating func expired(now: Int64) -> Expiry {
        switch self.phase {
        case .closed:
            return .none
        case .connecting:
            if self.connectDeadline > 0 && now >= self.connectDeadline {
                return .connectTimedOut
            }
        case .established:
            var readAgain = false
            for side in Side.both where self.rateLimited && self[side].delayedUntil > 0 && now >= self[side].delayedUntil {
                self[side].delayedUntil = 0
                readAgain = true
            }
            for side in Side.both {
                let this = self[side]
                if !this.closed, this.closeQueued || this.lingering, this.closeDeadline > 0, now >= this.closeDeadline {
                    self[side].pending = 0
                    self[side].closeQueued = true
                    self[side].closeDeadline = 0
                    return .closeNow(side)
                }
            }
            if self.idleTimeout > 0 && !self.ending && now >= self.lastActivity + self.idleTimeout {
                self.abort()
                return .idle
            }
            if readAgain {
                return .readAgain
            }
        }
        return self.deadline().map { .rearm($0) } ?? .none
    }
}
