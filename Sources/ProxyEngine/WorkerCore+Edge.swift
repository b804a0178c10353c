import CProxyEngine

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
            if failed || self.sessions[slot].client.eofSeen { self.refuse(slot, .badRequest) }
        case .invalid:
            self.refuse(slot, .badRequest)
        case .header(let header):
            guard cpe_read(fd, self.readBuffer, UInt(header.length)) == header.length else {
                self.refuse(slot, .badRequest)
                return
            }
            self.sessions[slot].readingHeader = false
            self.timers.cancel(slot)
            self.links[Int(slot)].proxyHeader = header
            if let source = header.source, self.links[Int(slot)].route?.settings.needsClientAddress == true {
                self.links[Int(slot)].clientAddress = source.address.text
            }
            self.sessions[slot].client.readable = count > header.length || self.sessions[slot].client.eofSeen
            self.admitEdge(slot, edge)
        }
    }

    /// realip, then allow/deny (403), then limit_conn (503), then `return` or the upstream.
    mutating func admitEdge(_ slot: Int32, _ edge: SessionEdge) {
        let remote = edge.remoteAddress(
            peer: self.links[Int(slot)].clientEndpoint?.address, proxySource: self.links[Int(slot)].proxyHeader?.source?.address)
        if !edge.access.isEmpty && !edge.access.allows(remote) {
            self.refuse(slot, .forbidden)
            return
        }
        if !edge.limits.isEmpty {
            guard let holds = edge.acquireLimits(remote: remote) else {
                self.refuse(slot, .serviceUnavailable)
                return
            }
            self.links[Int(slot)].limitHolds = holds
        }
        if let value = edge.returnValue {
            self.respond(slot, value.render(self.returnRecord(slot, edge)))
            return
        }
        self.connectNext(slot)
    }

    /// What `return`'s variables read: the accept-time record, with the PROXY header's address and,
    /// from a trusted peer (realip), the client's address and port taken from it.
    private func returnRecord(_ slot: Int32, _ edge: SessionEdge) -> SessionRecord {
        var record = self.records[slot]
        record.end = self.now
        let links = self.links[Int(slot)]
        if let source = links.proxyHeader?.source {
            record.proxyProtocol = RecordAddress(source)
            if edge.trusts(links.clientEndpoint?.address) { record.client = RecordAddress(source) }
        }
        return record
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

    /// `proxy_protocol on`: the v1 line goes to the member before any client byte. Its source is
    /// the PROXY header's client when one came in, else the client socket's; its destination
    /// goes with it (the header's, else the address the client connected to). A line is shorter
    /// than an MSS and the socket was just connected, so one send writes it whole.
    mutating func sendProxyHeader(_ slot: Int32) -> Bool {
        let links = self.links[Int(slot)]
        let buffer = UnsafeMutableRawBufferPointer(start: self.readBuffer, count: ProxyProtocol.v1MaxWritten)
        var length: Int
        if let source = links.proxyHeader?.source, let destination = links.proxyHeader?.destination {
            length = ProxyProtocol.writeV1(source: source, destination: destination, into: buffer)
        } else if let client = links.clientEndpoint, let local = self.localEndpoint(self.sessions[slot].client.fd) {
            length = ProxyProtocol.writeV1(source: client, destination: local, into: buffer)
        } else {
            // Not an IP connection (a UNIX socket): the spec's UNKNOWN line.
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
