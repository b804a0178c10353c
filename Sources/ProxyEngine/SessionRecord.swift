import CProxyEngine
import ProxyProtocolCodec

#if canImport(Glibc)
import Glibc
#endif

/// An IPv4 or IPv6 address and port in 20 bytes of plain data (a `sockaddr_storage` is 128), for
/// session records: copied into a queue slot with the record, formatted by the log writer.
public struct RecordAddress: Sendable, Equatable, BitwiseCopyable {
    public enum Family: UInt8, Sendable, BitwiseCopyable {
        case none = 0
        case inet = 4
        case inet6 = 6
    }

    public var family: Family = .none
    /// Host order.
    public var port: UInt16 = 0
    /// The address bytes in network order: IPv4 in the first 4 of `bytes`.
    public var bytes: (UInt64, UInt64) = (0, 0)

    public init() {}

    public init(family: Family, port: UInt16, bytes: [UInt8]) {
        self.family = family
        self.port = port
        withUnsafeMutableBytes(of: &self.bytes) { raw in
            for (index, byte) in bytes.prefix(16).enumerated() { raw[index] = byte }
        }
    }

    /// The address of a `sockaddr_in` or `sockaddr_in6`; `.none` for any other family.
    init(_ storage: sockaddr_storage) {
        var copy = storage
        withUnsafeBytes(of: &copy) { raw in
            let family = raw.load(fromByteOffset: 0, as: sa_family_t.self)
            // sin_port and sin6_port both sit at offset 2, in network order.
            let port = UInt16(raw[2]) << 8 | UInt16(raw[3])
            switch Int32(family) {
            case AF_INET:
                self.family = .inet
                self.port = port
                withUnsafeMutableBytes(of: &self.bytes) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[4..<8])) }
            case AF_INET6:
                self.family = .inet6
                self.port = port
                withUnsafeMutableBytes(of: &self.bytes) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[8..<24])) }
            default:
                break
            }
        }
    }

    /// A PROXY protocol header's address.
    public init(_ endpoint: ProxyProtocolEndpoint) {
        self.port = endpoint.port
        switch endpoint.address {
        case .v4(let value):
            self.family = .inet
            self.bytes.0 = UInt64(value.bigEndian)
        case .v6(let high, let low):
            self.family = .inet6
            self.bytes = (high.bigEndian, low.bigEndian)
        }
    }

    /// The address bytes: 4 for IPv4, 16 for IPv6, none otherwise (`$binary_remote_addr`).
    public var addressBytes: [UInt8] {
        let count = self.family == .inet ? 4 : self.family == .inet6 ? 16 : 0
        var copy = self.bytes
        return withUnsafeBytes(of: &copy) { Array($0.prefix(count)) }
    }

    public static func == (lhs: RecordAddress, rhs: RecordAddress) -> Bool {
        lhs.family == rhs.family && lhs.port == rhs.port && lhs.bytes == rhs.bytes
    }
}

/// One upstream attempt of a session (nginx's `ngx_stream_upstream_state_t`): times in ms from
/// the attempt's start, -1 while unknown ("-" in logs).
public struct UpstreamTry: Sendable, Equatable, BitwiseCopyable {
    public var address = RecordAddress()
    /// Worker monotonic ms when the connect began.
    public var start: Int64 = 0
    public var connectTime: Int64 = -1
    public var firstByteTime: Int64 = -1
    public var sessionTime: Int64 = -1
    /// Bytes written to the member and read from it.
    public var bytesSent: Int64 = 0
    public var bytesReceived: Int64 = 0
    /// No member could be picked for this try (nginx's `NGX_BUSY`: "no live upstreams"): it has no
    /// address, and `$upstream_addr` names the upstream group instead, as nginx's `peers->name`.
    public var noLiveMember = false

    public init() {}
}

/// What a finished session leaves for the access log: fixed size, plain data, filled by its worker
/// at accept, connect, first byte and close from the worker's own clock reads, and handed to the log
/// writer through a `SessionLog` queue. Only sessions of a listener with an access log have one.
public struct SessionRecord: Sendable, BitwiseCopyable {
    /// The last `UpstreamTry.capacity` attempts are kept; `attempts` counts all of them.
    public static let tryCapacity = 4

    /// `$connection`: unique per engine (per-worker counters interleaved, no shared atomic).
    public var serial: UInt64 = 0
    /// `$status` as nginx's stream modules set it: 200, 400, 403, 500, 502, 503.
    public var status: UInt16 = 200
    /// The client address (`$remote_addr`): the socket's peer, or the PROXY header's source where
    /// realip took it (`set_real_ip_from`).
    public var client = RecordAddress()
    /// The socket's peer when realip replaced `client` (nginx's realip context), `.none` otherwise:
    /// `$realip_remote_addr` is this, else `client`.
    public var realipPeer = RecordAddress()
    /// The listening side of the client's connection (`$server_addr`), `.none` unless the log asks for it.
    public var server = RecordAddress()
    /// The address a PROXY protocol header gave, `.none` without one.
    public var proxyProtocol = RecordAddress()
    /// Worker monotonic ms at accept and at close.
    public var start: Int64 = 0
    public var end: Int64 = 0
    /// Bytes written to the client and read from it.
    public var bytesSent: Int64 = 0
    public var bytesReceived: Int64 = 0
    public var attempts = 0
    private var tried: (UpstreamTry, UpstreamTry, UpstreamTry, UpstreamTry) = (.init(), .init(), .init(), .init())

    public init() {}

    /// The attempts kept, oldest first.
    public var tries: [UpstreamTry] {
        (0..<min(self.attempts, Self.tryCapacity)).map { self.attempt(at: $0) }
    }

    func attempt(at index: Int) -> UpstreamTry {
        var copy = self.tried
        return withUnsafeBytes(of: &copy) { $0.load(fromByteOffset: index * MemoryLayout<UpstreamTry>.stride, as: UpstreamTry.self) }
    }

    /// The current (last) attempt; nothing happens without one.
    @inline(__always)
    public mutating func withCurrentTry(_ body: (inout UpstreamTry) -> Void) {
        guard self.attempts > 0 else { return }
        let index = min(self.attempts, Self.tryCapacity) - 1
        withUnsafeMutableBytes(of: &self.tried) { raw in
            let pointer = raw.baseAddress!.assumingMemoryBound(to: UpstreamTry.self) + index
            body(&pointer.pointee)
        }
    }

    /// A new attempt begins: the oldest kept one makes room when all are taken.
    public mutating func beginTry(_ address: RecordAddress, now: Int64) {
        if self.attempts >= Self.tryCapacity {
            withUnsafeMutableBytes(of: &self.tried) { raw in
                let pointer = raw.baseAddress!.assumingMemoryBound(to: UpstreamTry.self)
                pointer.update(from: pointer + 1, count: Self.tryCapacity - 1)
            }
        }
        self.attempts += 1
        var attempt = UpstreamTry()
        attempt.address = address
        attempt.start = now
        self.withCurrentTry { $0 = attempt }
    }

    /// A pick found no member: a try without an address, as nginx pushes an upstream state before
    /// it asks for a peer; it ends with the session (connect and first-byte times unknown).
    public mutating func noLiveMemberTry(now: Int64) {
        self.beginTry(RecordAddress(), now: now)
        self.withCurrentTry { $0.noLiveMember = true }
    }

    /// The current attempt ended (failed, or the session closed): its session time, once.
    public mutating func endTry(now: Int64) {
        self.withCurrentTry { attempt in
            if attempt.sessionTime < 0 { attempt.sessionTime = max(0, now - attempt.start) }
        }
    }
}
