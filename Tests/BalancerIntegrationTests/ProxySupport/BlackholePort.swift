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
        let (descriptor, port) = try bindLoopbackSocket(backlog: 0)
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
