import Foundation
import Synchronization
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// A plain blocking client socket to 127.0.0.1, for tests that must misbehave exactly (write
/// without reading, send one byte at a time) where a NIO client would be too polite, and for
/// clients whose pace must not hang on the cooperative pool (a chat line exchange, a client that
/// keeps a connection busy). The `blocking…` calls are for ``offPool(_:)`` bodies; the async ones
/// run there by themselves.
final class RawSocket: Sendable {
    let descriptor: Int32
    /// Bytes read past the last line ``readLine(timeout:)`` returned.
    private let pending = Mutex<[UInt8]>([])

    /// `receiveBuffer`/`sendBuffer` (bytes) are set before connecting, so the kernel's share of
    /// what a non-reading client holds stays small.
    init(port: Int, receiveBuffer: Int32? = nil, sendBuffer: Int32? = nil) throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw TestSupportError("socket() failed: errno \(errno)") }
        if var size = receiveBuffer {
            setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        if var size = sendBuffer {
            setsockopt(descriptor, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        guard connectLoopback(descriptor, port: port) == 0 else {
            let code = errno
            close(descriptor)
            throw TestSupportError("connect to 127.0.0.1:\(port) failed: errno \(code)")
        }
        // Set only now: an init that throws after every property is set runs deinit, which would
        // close the descriptor a second time (by then perhaps another thread's, e.g. glibc's
        // netlink socket in getaddrinfo, which aborts the process on EBADF).
        self.descriptor = descriptor
    }

    deinit { close(self.descriptor) }

    /// Writes all of `text` (blocking).
    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.send(self.descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard written > 0 else { throw TestSupportError("send failed: errno \(errno)") }
            offset += written
        }
    }

    /// Writes as much of `bytes` as the socket takes without blocking; returns the count.
    func sendWithoutBlocking(_ bytes: ArraySlice<UInt8>) -> Int {
        let written = bytes.withUnsafeBytes {
            Glibc.send(self.descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
        }
        return max(0, written)
    }

    /// Reads what arrives until the peer closes, `limit` bytes are in, or `timeout` passes.
    /// `closed` is true if the peer closed (EOF or reset).
    func receive(limit: Int = 1 << 20, timeout: Duration) async -> (bytes: [UInt8], closed: Bool) {
        await offPool { self.blockingReceive(limit: limit, timeout: timeout) }
    }

    /// Reads one response head and its Content-Length body; nil if the peer closed first.
    func response(timeout: Duration = .seconds(30)) async -> (status: Int, body: String)? {
        await offPool { self.blockingResponse(timeout: timeout) }
    }

    /// ``receive(limit:timeout:)`` on the calling thread.
    func blockingReceive(limit: Int = 1 << 20, timeout: Duration) -> (bytes: [UInt8], closed: Bool) {
        let deadline = ContinuousClock.now + timeout
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while out.count < limit {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { return (out, false) }
            var poller = pollfd(fd: self.descriptor, events: Int16(POLLIN), revents: 0)
            let milliseconds = Int32(left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000) + 1
            guard poll(&poller, 1, milliseconds) > 0 else { continue }
            let count = buffer.withUnsafeMutableBytes { recv(self.descriptor, $0.baseAddress, $0.count, 0) }
            if count <= 0 { return (out, true) }
            out += buffer[0..<count]
        }
        return (out, false)
    }

    /// ``response(timeout:)`` on the calling thread.
    func blockingResponse(timeout: Duration = .seconds(30)) -> (status: Int, body: String)? {
        let deadline = ContinuousClock.now + timeout
        var data: [UInt8] = []
        while ContinuousClock.now < deadline {
            let text = String(decoding: data, as: UTF8.self)
            if let range = text.range(of: "\r\n\r\n") {
                let head = text[..<range.lowerBound]
                let status = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
                let length = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                    .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
                let body = text[range.upperBound...]
                if body.utf8.count >= length { return (status, String(body.prefix(length))) }
            }
            let (bytes, closed) = self.blockingReceive(limit: 1, timeout: deadline - ContinuousClock.now)
            data += bytes
            if closed && bytes.isEmpty { return nil }
        }
        return nil
    }

    /// The next line, without its line ending; nil on EOF or when `timeout` passes first (blocking).
    func readLine(timeout: Duration = .seconds(30)) -> String? {
        let deadline = ContinuousClock.now + timeout
        while true {
            let line: String? = self.pending.withLock { pending in
                guard let newline = pending.firstIndex(of: UInt8(ascii: "\n")) else { return nil }
                let line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                return line.hasSuffix("\r") ? String(line.dropLast()) : line
            }
            if let line { return line }
            let left = deadline - ContinuousClock.now
            guard left > .zero else { return nil }
            let (bytes, closed) = self.blockingReceive(limit: 1, timeout: left)
            self.pending.withLock { $0 += bytes }
            if closed && bytes.isEmpty { return nil }
        }
    }
}
