import CProxyEngine
import ProxyProtocolCodec

#if canImport(Glibc)
import Glibc
#endif

/// A session's first stages where its listener has a ``SessionEdge``: the PROXY header read, the
/// access and limit checks, `return`, and the PROXY header sent to the member.
///
/// The header is looked at with `recv(MSG_PEEK)` into the worker's read buffer and consumed with
/// one `read` of exactly its length once it is whole, so a connection waiting for its header holds
/// no buffer of its own, and the client's bytes after the header stay in its socket for the proxy.
extension WorkerCore {
    mutating func beginEdge(_ slot: Int32, _ edge: SessionEdge) {
        guard edge.readsProxyProtocol else {
            self.admitEdge(slot, edge)
            return
        }
        // Bytes already there are reported by epoll for the registration just made.
        self.sessions[slot].readingHeader = true
        self.timers.schedule(slot, at: self.now + max(1, edge.proxyProtocolTimeout))
    }

    /// The client is readable (or failed) while its PROXY header is awaited.
    mutating func readHeader(_ slot: Int32, failed: Bool) {
        guard let edge = self.links[Int(slot)].edge else { return }
        let fd = self.sessions[slot].client.fd
        var count = cpe_peek(fd, self.readBuffer, UInt(ProxyProtocol.maxHeader))
        for _ in 0..<4 where count == -Int(EINTR) {
            count = cpe_peek(fd, self.readBuffer, UInt(ProxyProtocol.maxHeader))
        }
        if count == -Int(EAGAIN) || count == -Int(EWOULDBLOCK) {
            if failed { self.refuse(slot, .badRequest) }
            return
        }
        guard count > 0 else {
            // EOF or an error before a whole header.
            self.refuse(slot, .badRequest)
            return
        }
        switch ProxyProtocol.parse(UnsafeRawBufferPointer(start: self.readBuffer, count: count)) {
        case .incomplete:
            // The next bytes bring a new edge; an EOF after a partial header ends it.
            if failed || self.sessions[slot].client.eofSeen {
                self.report(slot, .badProxyHeader, .error)
                self.refuse(slot, .badRequest)
            }
        case .invalid:
            // nginx's `broken header` (error), without the bytes: an event is fixed-size data made
            // on the data path, and the bytes are the client's, untrusted.
            self.report(slot, .badProxyHeader, .error)
            self.refuse(slot, .badRequest)
        case .header(let header):
            guard cpe_read(fd, self.readBuffer, UInt(header.length)) == header.length else {
                self.refuse(slot, .badRequest)
                return
            }
            self.sessions[slot].readingHeader = false
            self.timers.cancel(slot)
            if let source = header.source {
                self.takeProxySource(slot, source, edge)
            }
            self.sessions[slot].client.readable = count > header.length || self.sessions[slot].client.eofSeen
            self.admitEdge(slot, edge)
        }
    }

    /// The PROXY header's source is `$proxy_protocol_addr`; from a trusted peer (realip, as
    /// `ngx_stream_realip_handler` replaces `c->sockaddr`) it becomes the session's client address.
    /// The one place that address changes after accept: allow/deny, limit_conn, the hash, `return`,
    /// the access log and the PROXY line sent on all read what is set here, never the header.
    private mutating func takeProxySource(_ slot: Int32, _ source: ProxyProtocolEndpoint, _ edge: SessionEdge) {
        let route = self.links[Int(slot)].route
        let recorded = route?.keepsRecord == true
        if recorded {
            self.records[slot].proxyProtocol = RecordAddress(source)
        }
        guard edge.trusts(self.links[Int(slot)].clientEndpoint?.address) else { return }
        self.links[Int(slot)].clientEndpoint = source
        if recorded {
            self.records[slot].realipPeer = self.records[slot].client
            self.records[slot].client = RecordAddress(source)
        }
        if route?.settings.needsClientAddress == true {
            self.links[Int(slot)].clientAddress = source.address.text
        }
    }

    /// allow/deny (403), then limit_conn (503), then `return` or the upstream, on the client address
    /// realip left.
    mutating func admitEdge(_ slot: Int32, _ edge: SessionEdge) {
        let remote = self.links[Int(slot)].clientEndpoint?.address
        if !edge.access.isEmpty && !edge.access.allows(remote) {
            self.report(slot, .forbidden, .error)
            self.refuse(slot, .forbidden)
            return
        }
        if !edge.limits.isEmpty {
            var refused = 0
            guard let holds = edge.acquireLimits(remote: remote, refused: &refused) else {
                self.report(slot, .limited, edge.limitLogLevel, limit: refused)
                self.refuse(slot, .serviceUnavailable)
                return
            }
            self.links[Int(slot)].limitHolds = holds
        }
        if let value = edge.returnValue {
            var record = self.records[slot]
            record.end = self.now
            self.respond(slot, value.render(record))
            return
        }
        self.connectNext(slot)
    }

    /// `return VALUE`: what the client sent so far is read and dropped (closing over unread bytes
    /// would reset the connection and could lose the value), the value is sent, then a FIN and close.
    private mutating func respond(_ slot: Int32, _ value: [UInt8]) {
        let fd = self.sessions[slot].client.fd
        for _ in 0..<16 where cpe_read(fd, self.readBuffer, UInt(self.readBufferSize)) > 0 {}
        let sent = value.withUnsafeBytes { cpe_send(fd, $0.baseAddress, UInt($0.count)) }
        self.sessions[slot].edgeStatus = sent == value.count || value.isEmpty ? .ok : .badRequest
        _ = cpe_shutdown_write(fd)
        self.abandon(slot)
    }

    /// Ends a session at the edge with `status`: nothing is sent, the client is closed.
    mutating func refuse(_ slot: Int32, _ status: EdgeStatus) {
        self.sessions[slot].edgeStatus = status
        self.abandon(slot)
    }

    /// `proxy_protocol on`: the v1 line goes to the member before any client byte, as
    /// `ngx_proxy_protocol_write` writes it: the session's client address (the socket's peer, or the
    /// PROXY header's source where realip took it) and the address the client connected to on this
    /// side (never the incoming header's destination). Not an IP connection: the spec's UNKNOWN line.
    /// A line is shorter than an MSS and the socket was just connected, so one send writes it whole.
    mutating func sendProxyHeader(_ slot: Int32) -> Bool {
        let buffer = UnsafeMutableRawBufferPointer(start: self.readBuffer, count: ProxyProtocol.v1MaxWritten)
        var length: Int
        if let client = self.links[Int(slot)].clientEndpoint, let local = self.localEndpoint(self.sessions[slot].client.fd) {
            length = ProxyProtocol.writeV1(source: client, destination: local, into: buffer)
        } else {
            let unknown = "PROXY UNKNOWN\r\n".utf8
            length = unknown.count
            _ = buffer.initializeMemory(as: UInt8.self, from: unknown)
        }
        return cpe_send(self.sessions[slot].upstream.fd, self.readBuffer, UInt(length)) == length
    }

    private func localEndpoint(_ fd: Int32) -> ProxyProtocolEndpoint? {
        var storage = sockaddr_storage()
        guard cpe_local_address(fd, &storage) > 0 else { return nil }
        return ProxyProtocolEndpoint(socketAddress: storage)
    }
}
