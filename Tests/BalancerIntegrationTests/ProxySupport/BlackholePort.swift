import TestSupport
#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOPosix

/// A loopback port where connects hang (until the connect timeout): a listening socket that never
/// accepts, with its accept queue filled, so the kernel drops further SYNs.
final class BlackholePort: Sendable {
    let port: Int
    private let descriptor: Int32
    private let fillers: [Channel]

    private init(port: Int, descriptor: Int32, fillers: [Channel]) {
        self.port = port
        self.descriptor = descriptor
        self.fillers = fillers
    }

    static func make() async throws -> BlackholePort {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw TestSupportError("socket() failed: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(descriptor, pointer, length) == 0 && listen(descriptor, 0) == 0
                    && getsockname(descriptor, pointer, &length) == 0
            }
        }
        guard ok else {
            close(descriptor)
            throw TestSupportError("bind/listen failed: errno \(errno)")
        }
        let port = Int(UInt16(bigEndian: address.sin_port))
        var fillers: [Channel] = []
        for _ in 0..<4 {
            let channel = try? await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.milliseconds(200))
                .connect(host: "127.0.0.1", port: port).get()
            if let channel { fillers.append(channel) }
        }
        return BlackholePort(port: port, descriptor: descriptor, fillers: fillers)
    }

    deinit {
        for channel in self.fillers {
            channel.close(promise: nil)
        }
        close(self.descriptor)
    }
}
