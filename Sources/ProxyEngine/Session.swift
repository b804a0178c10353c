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

/// One proxied session: a record in its worker's table, addressed by slot and generation. No object
/// per connection: the route is a reference shared by every connection of a listener, the member key
/// a string the pool already holds.
struct Session {
    var generation: UInt32 = 0
    var inUse = false
    var state = SessionState(halfClose: false, idleTimeout: 0, now: 0)
    var client = SideIO()
    var upstream = SideIO()
    var route: (any ProxyRoute)?
    /// The member whose slot this session holds (picked, not yet released).
    var peer: String?
    var peerConnected = false
    /// Members tried and failed; empty (no allocation) unless a connect failed.
    var tried: [String] = []
    var attempts = 0
    /// `proxy_next_upstream_timeout`'s end, 0 = none.
    var triesDeadline: Int64 = 0
    var clientAddress: String?
    var posted = false

    subscript(side: Side) -> SideIO {
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
