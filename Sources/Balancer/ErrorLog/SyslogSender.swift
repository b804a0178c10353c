#if canImport(Glibc)
import Glibc
#endif
import Logging
import ProxyEngine

/// An `error_log syslog:server=...` destination: each message one UDP datagram in nginx's form
/// (`ngx_syslog.c`, RFC 3164): `<PRI>Dec  2 07:05:01 HOSTNAME TAG: ` and the error-log line
/// without its newline.
///
/// A plain non-blocking UDP socket, not a SwiftNIO datagram channel: the senders are the log
/// writer's thread and whichever thread logs a process message, none of them an event loop, and
/// a datagram is one `sendto` that never waits (`MSG_DONTWAIT`: a full socket buffer drops the
/// message, as a lost UDP datagram would be lost anyway). The socket is not connected, so an
/// ICMP "port unreachable" from a syslog server that is not up yet cannot fail a later send.
struct SyslogSender: Sendable {
    let target: SyslogTarget
    private let address: EngineAddress
    /// The host name nginx puts in the header: `gethostname`, lower-cased.
    private let hostname: String

    /// nginx's longest message: its error-line limit plus the header.
    static let maxMessage = 2048 + 64 + 32

    init(_ target: SyslogTarget) throws(ErrorLogError) {
        self.target = target
        switch EngineAddress.resolve(host: target.server.host, port: target.server.port) {
        case .success(let addresses):
            self.address = addresses[0]
        case .failure(let error):
            throw ErrorLogError(path: "syslog:server=\(target.server)", reason: "\(error)")
        }
        var name = [CChar](repeating: 0, count: 256)
        self.hostname = gethostname(&name, 255) == 0 ? String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self).lowercased() : "localhost"
    }

    /// A new socket for the server's address family, or the system's reason.
    func socket() throws(ErrorLogError) -> Int32 {
        let fd = self.address.datagramSocket()
        guard fd >= 0 else {
            throw ErrorLogError(path: "syslog:server=\(self.target.server)", reason: String(cString: strerror(errno)))
        }
        return fd
    }

    /// Sends `line` (an error-log line, its newline dropped) at `level`'s severity from `fd`.
    /// A failed send is not retried or reported: a syslog server that is down must not slow or
    /// stop the balancer (nginx ignores it too).
    func send(_ line: [UInt8], level: Logger.Level, time seconds: time_t, from fd: Int32) {
        var message = Array(self.header(level: level, time: seconds).utf8)
        let body = line.last == UInt8(ascii: "\n") ? line.dropLast() : line[...]
        message.append(contentsOf: body.prefix(max(0, Self.maxMessage - message.count)))
        _ = message.withUnsafeBytes { self.address.send(datagram: $0, from: fd) }
    }

    /// `<PRI>TIMESTAMP HOSTNAME TAG: `, the time local as RFC 3164 wants it.
    func header(level: Logger.Level, time seconds: time_t) -> String {
        let priority = self.target.facility * 8 + SyslogTarget.messageSeverity(LogLevel(level))
        var time = seconds
        var parts = tm()
        localtime_r(&time, &parts)
        let day = parts.tm_mday < 10 ? " \(parts.tm_mday)" : "\(parts.tm_mday)"
        let stamp = "\(SessionValues.months[Int(parts.tm_mon)]) \(day) \(SessionValues.clock(parts))"
        return self.target.noHostname ? "<\(priority)>\(stamp) \(self.target.tag): " : "<\(priority)>\(stamp) \(self.hostname) \(self.target.tag): "
    }
}

extension LogLevel {
    /// swift-log's level as the engine's (trace is debug).
    init(_ level: Logger.Level) {
        switch level {
        case .trace, .debug: self = .debug
        case .info: self = .info
        case .notice: self = .notice
        case .warning: self = .warning
        case .error: self = .error
        case .critical: self = .critical
        }
    }
}
