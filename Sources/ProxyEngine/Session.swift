import ProxyProtocolCodec

/// The I/O half of one side of a session: its socket, what waits to be written to it, and the
/// readiness edge-triggered epoll reported (nginx's `ev->ready`): with `EPOLLET` an event comes once
/// per change, so a side that was readable and not read to EAGAIN stays `readable` until it is.
struct SideIO {
    var fd: Int32 = -1
    /// The pool chunk holding bytes for this side, -1 for none.
    var buffer: Int32 = -1
    var start = 0
    var end = 0
    var readable = false
    var writable = false
    /// EPOLLRDHUP was seen: a short read does not mean drained, the EOF still has to be read.
    var eofSeen = false

    var pending: Int { self.end - self.start }
}

/// One proxied session: a record in its worker's table, addressed by slot and generation. Plain
/// data only (no reference, string or array), so reading or copying a record is a memcpy: no
/// retain/release, no value-witness call. What holds references lives beside it in `SessionLinks`,
/// touched a few times per connection, not per event (cachegrind showed the copies of a record
/// with references inside at 30% of the instructions per proxied connection).
struct Session: PerSide {
    var generation: UInt32 = 0
    var inUse = false
    var state = SessionState(halfClose: false, idleTimeout: 0, now: 0)
    var client = SideIO()
    var upstream = SideIO()
    /// A member's slot is held (picked, not yet released); its key is in `SessionLinks.peer`.
    var hasPeer = false
    var peerConnected = false
    var attempts = 0
    /// `proxy_next_upstream_timeout`'s end, 0 = none.
    var triesDeadline: Int64 = 0
    var posted = false
    /// A PROXY protocol header is awaited (`listen ... proxy_protocol`): nothing else happens yet.
    var readingHeader = false
    /// Why the edge ended the session, if it did.
    var edgeStatus = EdgeStatus.none
    /// The listener has an access log or an error log: the worker keeps this session's `SessionRecord`.
    var recording = false
    /// Its end went to the error log already (an idle timeout): no `disconnected` message follows.
    var endReported = false
}

/// The references of one session, in a table parallel to the sessions: the route is shared by every
/// connection of a listener, the member key a string the pool already holds.
struct SessionLinks {
    var route: (any ProxyRoute)?
    /// The route's counters, taken once per connection rather than through the protocol per read.
    var counters: EngineCounters?
    /// The member whose slot this session holds (picked, not yet released).
    var peer: String?
    /// Members tried and failed; empty (no allocation) unless a connect failed.
    var tried: [String] = []
    var clientAddress: String?
    /// The listener's edge checks, nil for none.
    var edge: SessionEdge?
    /// The listener's error log, taken once per connection; nil for none.
    var errorLog: SessionErrorLog?
    /// The client's address where the edge needs it: the socket's peer, or the PROXY header's
    /// source once realip took it.
    var clientEndpoint: ProxyProtocolEndpoint?
    /// The `limit_conn` counts held until the session is freed.
    var limitHolds: [LimitHold] = []
}
