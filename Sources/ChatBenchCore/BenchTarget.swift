import ArgumentParser
import MusterBase
import NIOCore

/// The address under load. Only loopback addresses are accepted, so the tool cannot be pointed
/// at someone else's machine.
package struct BenchTarget: Sendable, CustomStringConvertible {
    package let host: String
    package let port: Int
    package let address: SocketAddress

    package init(parsing text: String) throws {
        let endpoint: Endpoint
        do { endpoint = try Endpoint.parse(text, .dial) } catch {
            throw ValidationError("--target: \(error)")
        }
        let host = endpoint.host == "localhost" ? "127.0.0.1" : endpoint.host
        let port = endpoint.port
        let address: SocketAddress
        do {
            address = try SocketAddress(ipAddress: host, port: port)
        } catch {
            throw ValidationError("--target host must be a numeric loopback address (127.x.x.x, ::1 or localhost), got '\(host)'")
        }
        guard Self.isLoopback(address) else {
            throw ValidationError("--target \(text) is not a loopback address; chat-bench only loads 127.0.0.0/8 or ::1")
        }
        self.host = host
        self.port = port
        self.address = address
    }

    /// True when the target is IPv4, so source addresses can be spread over 127.0.0.x.
    package var isIPv4: Bool {
        if case .v4 = self.address { return true }
        return false
    }

    package var description: String {
        Endpoint(host: self.host, port: self.port).description
    }

    private static func isLoopback(_ address: SocketAddress) -> Bool {
        switch address {
        case .v4:
            return address.ipAddress?.hasPrefix("127.") ?? false
        case .v6:
            return address.ipAddress == "::1"
        default:
            return false
        }
    }
}
