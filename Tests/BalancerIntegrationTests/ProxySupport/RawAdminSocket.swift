import Foundation
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// A plain blocking client socket to 127.0.0.1, for tests that must misbehave exactly (write
/// without reading, send one byte at a time) where a NIO client would be too polite.
final class RawAdminSocket {
    let descriptor: Int32

    /// `receiveBuffer`/`sendBuffer` (bytes) are set before connecting, so the kernel's share of
    /// what a non-reading client holds stays small.
    init(port: Int, receiveBuffer: Int32? = nil, sendBuffer: Int32? = nil) throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw TestSupportError("socket() failed: errno \(errno)") }
        self.descriptor = descriptor
        if var size = receiveBuffer {
            setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        if var size = sendBuffer {
            setsockopt(descriptor, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            close(descriptor)
            throw TestSupportError("connect to 127.0.0.1:\(port) failed: errno \(errno)")
        }
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
    func receive(limit: Int = 1 << 20, timeout: Duration) -> (bytes: [UInt8], closed: Bool) {
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

    /// Reads one response head and its Content-Length body; nil if the peer closed first.
    func response(timeout: Duration = .seconds(5)) -> (status: Int, body: String)? {
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
            let (bytes, closed) = self.receive(limit: 1, timeout: deadline - ContinuousClock.now)
            data += bytes
            if closed && bytes.isEmpty { return nil }
        }
        return nil
    }
}
