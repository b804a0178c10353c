#if canImport(Glibc)
import Glibc
#endif

/// A loopback port that refuses connections and stays reserved while this object lives: a socket
/// bound but never listening. (A stopped backend's port could be taken by a parallel test.)
public final class DeadPort: Sendable {
    public let port: Int
    private let descriptor: Int32

    /// - Parameter port: 0 for a free port; else that port, e.g. a stopped server's, so nothing else
    ///   takes it until the test starts its server there again (`SO_REUSEADDR` lets that server bind
    ///   while this socket, which never listens, still holds the port; connections the old server
    ///   left in TIME_WAIT do not block it either).
    public init(port: Int = 0) throws {
        (self.descriptor, self.port) = try bindLoopbackSocket(port: port, reuseAddress: port != 0)
    }

    deinit {
        close(self.descriptor)
    }
}

/// A TCP socket bound to 127.0.0.1:port (0: any free port), listening with `backlog` if one is
/// given, and the port it got. The caller owns the descriptor (close-on-exec, so no child inherits it).
public func bindLoopbackSocket(
    port: Int = 0, reuseAddress: Bool = false, backlog: Int32? = nil
) throws -> (descriptor: Int32, port: Int) {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard descriptor >= 0 else { throw TestSupportError("socket() failed: errno \(errno)") }
    if reuseAddress {
        var one: Int32 = 1
        _ = setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
    }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(clamping: port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    let listening = bound == 0 && backlog.map { listen(descriptor, $0) == 0 } ?? true
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let named = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
    }
    guard bound == 0, listening, named == 0 else {
        let code = errno
        close(descriptor)
        throw TestSupportError("bind/listen/getsockname on 127.0.0.1:\(port) failed: errno \(code)")
    }
    return (descriptor, Int(UInt16(bigEndian: address.sin_port)))
}
