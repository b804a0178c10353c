#if canImport(Glibc)
import Glibc
#endif

/// 127.0.0.1:`port` as a socket address.
public func loopbackAddress(port: Int) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(clamping: port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    return address
}

/// Connects `descriptor` to 127.0.0.1:`port`: the system call's result (0, or -1 with `errno`;
/// `EINPROGRESS` for a non-blocking socket still connecting).
@discardableResult
public func connectLoopback(_ descriptor: Int32, port: Int) -> Int32 {
    var address = loopbackAddress(port: port)
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
}
