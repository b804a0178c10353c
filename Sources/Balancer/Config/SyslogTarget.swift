import MusterBase
import ProxyEngine

/// `syslog:server=ADDR[:PORT][,facility=F][,severity=S][,tag=T][,nohostname]`, as nginx's
/// `ngx_syslog.c` reads it: a syslog server that takes RFC 3164 messages over UDP.
public struct SyslogTarget: Sendable, Hashable {
    /// The server; port 514 when none is given.
    public var server: Endpoint
    /// 0-23 (`kern` … `local7`), nginx's default 23 (`local7`).
    public var facility: Int
    /// `severity=`: nginx reads it for access logs only; an error-log message has its own level's.
    public var severity: Int
    /// 1-32 letters, digits or `_`, nginx's default `nginx` (kept, so syslog rules written for
    /// nginx go on matching).
    public var tag: String
    /// `nohostname`: the header leaves the host name out.
    public var noHostname: Bool

    public init(server: Endpoint, facility: Int = 23, severity: Int = 6, tag: String = "nginx", noHostname: Bool = false) {
        self.server = server
        self.facility = facility
        self.severity = severity
        self.tag = tag
        self.noHostname = noHostname
    }

    public static let defaultPort = 514

    static let facilities = [
        "kern", "user", "mail", "daemon", "auth", "intern", "lpr", "news", "uucp", "clock", "authpriv", "ftp", "ntp",
        "audit", "alert", "cron", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
    ]
    /// nginx's names: `error` and `warn`, as in nginx.conf (not syslog's `err` and `warning`).
    static let severities = ["emerg", "alert", "crit", "error", "warn", "notice", "info", "debug"]

    /// The syslog severity of a message of `level` (nginx's level minus one: crit 2 … debug 7).
    public static func messageSeverity(_ level: LogLevel) -> Int {
        switch level {
        case .critical: 2
        case .error: 3
        case .warning: 4
        case .notice: 5
        case .info: 6
        case .debug: 7
        }
    }

    /// The parameters after `syslog:`; the error is nginx's message.
    static func parse(_ parameters: Substring) -> Result<SyslogTarget, SyslogTargetError> {
        var server: Endpoint?
        var facility: Int?
        var severity: Int?
        var tag: String?
        var noHostname = false
        for parameter in parameters.split(separator: ",", omittingEmptySubsequences: false) {
            if let value = parameter.dropping("server=") {
                guard server == nil else { return .failure(.init("duplicate syslog \"server\"")) }
                do throws(Endpoint.ParseError) {
                    server = try Self.endpoint(value)
                } catch {
                    return .failure(.init("\(error.problem) in syslog server \"\(ConfigError.shown(value))\""))
                }
            } else if let value = parameter.dropping("facility=") {
                guard facility == nil else { return .failure(.init("duplicate syslog \"facility\"")) }
                guard let index = Self.facilities.firstIndex(of: String(value)) else {
                    return .failure(.init("unknown syslog facility \"\(ConfigError.shown(value))\""))
                }
                facility = index
            } else if let value = parameter.dropping("severity=") {
                guard severity == nil else { return .failure(.init("duplicate syslog \"severity\"")) }
                guard let index = Self.severities.firstIndex(of: String(value)) else {
                    return .failure(.init("unknown syslog severity \"\(ConfigError.shown(value))\""))
                }
                severity = index
            } else if let value = parameter.dropping("tag=") {
                guard tag == nil else { return .failure(.init("duplicate syslog \"tag\"")) }
                guard value.utf8.count <= 32 else { return .failure(.init("syslog tag length exceeds 32")) }
                guard !value.isEmpty, value.utf8.allSatisfy(Self.isTagCharacter) else {
                    return .failure(.init("syslog \"tag\" only allows alphanumeric characters and underscore"))
                }
                tag = String(value)
            } else if parameter == "nohostname" {
                noHostname = true
            } else {
                return .failure(.init("unknown syslog parameter \"\(ConfigError.shown(parameter))\""))
            }
        }
        guard let server else { return .failure(.init("no syslog server specified")) }
        return .success(SyslogTarget(server: server, facility: facility ?? 23, severity: severity ?? 6, tag: tag ?? "nginx", noHostname: noHostname))
    }

    /// `HOST[:PORT]` or `[IPv6][:PORT]`, port 514 by default.
    private static func endpoint(_ text: Substring) throws(Endpoint.ParseError) -> Endpoint {
        do throws(Endpoint.ParseError) {
            return try Endpoint.parse(text, .dial)
        } catch where error.problem == .missingPort && !text.hasSuffix(":") && !text.isEmpty {
            return try Endpoint.parse("\(text):\(Self.defaultPort)", .dial)
        }
    }

    /// nginx's tag characters: ASCII letters, digits and `_`.
    private static func isTagCharacter(_ byte: UInt8) -> Bool {
        let lower = byte | 0x20
        return (byte >= 0x30 && byte <= 0x39) || byte == 0x5F || (lower >= 0x61 && lower <= 0x7A)
    }
}

/// A `syslog:` destination that cannot be read, in nginx's words.
struct SyslogTargetError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}

extension Substring {
    /// The rest after `prefix`, nil when it does not start with it.
    fileprivate func dropping(_ prefix: String) -> Substring? {
        self.hasPrefix(prefix) ? self.dropFirst(prefix.count) : nil
    }
}
