#if canImport(Glibc)
import Glibc
#endif
import Logging
import Synchronization

/// One `error_log` destination: a file opened for appending (or standard error), written a whole
/// line per `write(2)` so lines from several threads never interleave, and reopened on SIGUSR1;
/// or a syslog server, a datagram per line (``SyslogSender``).
public final class ErrorLogFile: Sendable {
    public let destination: ErrorLogConfiguration.Destination
    /// The file, or the syslog socket.
    private let fd: Mutex<Int32>
    private let syslog: SyslogSender?

    /// Opens (creating, mode 0644) the file, or a socket for the syslog server (its name resolved
    /// now); throws the destination and the system's reason.
    public init(_ destination: ErrorLogConfiguration.Destination) throws(ErrorLogError) {
        self.destination = destination
        switch destination {
        case .standardError:
            self.fd = Mutex(STDERR_FILENO)
            self.syslog = nil
        case .file(let path):
            self.fd = Mutex(try Self.open(path))
            self.syslog = nil
        case .syslog(let target):
            let sender = try SyslogSender(target)
            self.fd = Mutex(try sender.socket())
            self.syslog = sender
        }
    }

    private static func open(_ path: String) throws(ErrorLogError) -> Int32 {
        let fd = Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ErrorLogError(path: path, reason: String(cString: strerror(errno))) }
        return fd
    }

    /// Writes one whole line (with its newline); `level` is the message's, for a syslog server.
    func write(_ line: [UInt8], level: Logger.Level) {
        if let syslog {
            fd.withLock { syslog.send(line, level: level, time: time(nil), from: $0) }
            return
        }
        fd.withLock { fd in
            line.withUnsafeBytes { bytes in
                var offset = 0
                // Bounded: a write that makes no progress ends the line.
                while offset < bytes.count {
                    let written = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                    if written <= 0 {
                        if written < 0, errno == EINTR { continue }
                        return
                    }
                    offset += written
                }
            }
        }
    }

    /// Opens the path again and swaps it in; on failure the old file stays and the reason is returned.
    @discardableResult
    public func reopen() -> ErrorLogError? {
        guard case .file(let path) = destination else { return nil }
        let fresh: Int32
        do {
            fresh = try Self.open(path)
        } catch {
            return error
        }
        let old = fd.withLock { fd in
            let old = fd
            fd = fresh
            return old
        }
        close(old)
        return nil
    }

    deinit {
        let fd = self.fd.withLock { $0 }
        if fd != STDERR_FILENO { close(fd) }
    }
}

/// An error log that cannot be opened.
public struct ErrorLogError: Error, Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var description: String { "cannot open error log \(path): \(reason)" }
}
