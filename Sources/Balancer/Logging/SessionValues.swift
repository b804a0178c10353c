import MusterBase
import ProxyEngine

#if canImport(Glibc)
import Glibc
#endif

/// The variables' values for one session, formatted as nginx formats them: a session record plus
/// what is the same for every record (host name, pid, the offset from the workers' monotonic clock
/// to wall-clock time). nil is nginx's `not_found` (`-` in a default-escaped log line).
public struct SessionValues {
    public var record: SessionRecord
    public var host: Host
    /// The name of the upstream group the session's listener passes to (`proxy_pass`'s text), for
    /// a try that found no live member (nginx's `peers->name` in `$upstream_addr`).
    public var upstreamName: [UInt8]

    /// What every session of this process shares.
    public struct Host: Sendable {
        public var hostname: [UInt8]
        public var pid: Int32
        /// Add to a record's monotonic ms for wall-clock ms since the epoch.
        public var wallOffset: Int64

        public init(hostname: [UInt8], pid: Int32, wallOffset: Int64) {
            self.hostname = hostname
            self.pid = pid
            self.wallOffset = wallOffset
        }

        /// This process, its host name and the clocks' offset now.
        public static func current() -> Host {
            var name = [CChar](repeating: 0, count: 256)
            let length = gethostname(&name, 255) == 0 ? strlen(name) : 0
            return Host(
                hostname: name[0..<length].map { UInt8(bitPattern: $0) }, pid: getpid(),
                wallOffset: SessionLog.wallClockOffset())
        }
    }

    public init(record: SessionRecord, host: Host, upstreamName: [UInt8] = []) {
        self.record = record
        self.host = host
        self.upstreamName = upstreamName
    }

    public func value(_ variable: StreamVariable) -> [UInt8]? {
        let record = self.record
        switch variable {
        case .remoteAddr: return Self.text(record.client)
        case .remotePort: return Self.port(record.client)
        case .binaryRemoteAddr: return record.client.addressBytes
        case .serverAddr: return Self.text(record.server)
        case .serverPort: return Self.port(record.server)
        case .protocol: return Array("TCP".utf8)
        case .status: return Self.decimal(Int64(record.status), width: 3)
        case .bytesSent: return Self.decimal(record.bytesSent)
        case .bytesReceived: return Self.decimal(record.bytesReceived)
        case .sessionTime: return Self.seconds(max(0, record.end - record.start))
        case .connection: return Array(String(record.serial).utf8)
        case .msec: return Self.seconds(record.end + self.host.wallOffset)
        case .timeLocal: return Self.timeLocal(Self.local(self.wallSeconds))
        case .timeISO8601: return Self.timeISO8601(Self.local(self.wallSeconds))
        case .hostname: return self.host.hostname
        case .pid: return Self.decimal(Int64(self.host.pid))
        case .nginxVersion: return Array(StreamVariable.nginxRelease.utf8)
        case .upstreamAddr: return self.perTry { $0.noLiveMember ? self.upstreamName : Self.addressWithPort($0.address) }
        case .upstreamBytesSent: return self.perTry { Self.decimal($0.bytesSent) }
        case .upstreamBytesReceived: return self.perTry { Self.decimal($0.bytesReceived) }
        case .upstreamConnectTime: return self.perTry { Self.time($0.connectTime) }
        case .upstreamFirstByteTime: return self.perTry { Self.time($0.firstByteTime) }
        case .upstreamSessionTime: return self.perTry { Self.time($0.sessionTime) }
        case .proxyProtocolAddr:
            return record.proxyProtocol.family == .none ? nil : Self.text(record.proxyProtocol)
        case .proxyProtocolPort:
            return record.proxyProtocol.family == .none ? nil : Self.port(record.proxyProtocol)
        case .realipRemoteAddr: return Self.text(record.realipPeer.family == .none ? record.client : record.realipPeer)
        case .realipRemotePort: return Self.port(record.realipPeer.family == .none ? record.client : record.realipPeer)
        }
    }

    private var wallSeconds: Int { Int((self.record.end + self.host.wallOffset) / 1000) }

    /// One value per upstream attempt, joined with ", "; not found without an attempt.
    private func perTry(_ format: (UpstreamTry) -> [UInt8]) -> [UInt8]? {
        let tries = self.record.tries
        guard !tries.isEmpty else { return nil }
        var out: [UInt8] = []
        for (index, attempt) in tries.enumerated() {
            if index > 0 { out.append(contentsOf: [UInt8(ascii: ","), UInt8(ascii: " ")]) }
            out.append(contentsOf: format(attempt))
        }
        return out
    }

    // MARK: nginx's formats

    /// The numeric text of an address (inet_ntop), empty without one.
    static func text(_ address: RecordAddress) -> [UInt8] {
        let family: Int32
        switch address.family {
        case .inet: family = AF_INET
        case .inet6: family = AF_INET6
        case .none: return []
        }
        var bytes = address.bytes
        var text = [CChar](repeating: 0, count: 64)
        guard withUnsafeBytes(of: &bytes, { inet_ntop(family, $0.baseAddress, &text, 64) }) != nil else { return [] }
        return text[0..<strlen(text)].map { UInt8(bitPattern: $0) }
    }

    /// `%ui` of a port in 1...65535, else empty (`ngx_stream_variable_remote_port`).
    static func port(_ address: RecordAddress) -> [UInt8] {
        address.port > 0 ? Array(String(address.port).utf8) : []
    }

    /// `ADDR:PORT`, IPv6 in brackets, as nginx names a peer: ``Endpoint``'s rule.
    static func addressWithPort(_ address: RecordAddress) -> [UInt8] {
        let host = String(decoding: Self.text(address), as: UTF8.self)
        return Array(Endpoint(host: host, port: Int(address.port)).description.utf8)
    }

    static func decimal(_ value: Int64, width: Int = 0) -> [UInt8] {
        let digits = Array(String(value).utf8)
        return digits.count < width ? [UInt8](repeating: UInt8(ascii: "0"), count: width - digits.count) + digits : digits
    }

    /// `%T.%03M` of milliseconds: `0.123`, `12.005`.
    static func seconds(_ milliseconds: Int64) -> [UInt8] {
        Self.decimal(milliseconds / 1000) + [UInt8(ascii: ".")] + Self.decimal(milliseconds % 1000, width: 3)
    }

    /// A per-try time: `-` when unknown (-1).
    static func time(_ milliseconds: Int64) -> [UInt8] {
        milliseconds < 0 ? [UInt8(ascii: "-")] : Self.seconds(milliseconds)
    }

    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    static func local(_ seconds: Int) -> tm {
        var time = time_t(seconds)
        var parts = tm()
        localtime_r(&time, &parts)
        return parts
    }

    static func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }

    /// The zone offset as `+HHMM` or, with `separator`, `+HH:MM`.
    private static func zone(_ parts: tm, separator: String) -> String {
        let minutes = parts.tm_gmtoff / 60
        let sign = minutes < 0 ? "-" : "+"
        return sign + Self.two(abs(minutes) / 60) + separator + Self.two(abs(minutes) % 60)
    }

    static func clock(_ t: tm) -> String {
        "\(Self.two(Int(t.tm_hour))):\(Self.two(Int(t.tm_min))):\(Self.two(Int(t.tm_sec)))"
    }

    /// `02/Dec/2026:04:01:55 +0000` (`ngx_cached_http_log_time`).
    static func timeLocal(_ t: tm) -> [UInt8] {
        let date = "\(Self.two(Int(t.tm_mday)))/\(Self.months[Int(t.tm_mon)])/\(1900 + Int(t.tm_year))"
        return Array("\(date):\(Self.clock(t)) \(Self.zone(t, separator: ""))".utf8)
    }

    /// `2026-12-02T04:01:55+00:00` (`ngx_cached_http_log_iso8601`).
    static func timeISO8601(_ t: tm) -> [UInt8] {
        let date = "\(1900 + Int(t.tm_year))-\(Self.two(Int(t.tm_mon) + 1))-\(Self.two(Int(t.tm_mday)))"
        return Array("\(date)T\(Self.clock(t))\(Self.zone(t, separator: ":"))".utf8)
    }
}
