import CProxyEngine
import MusterBase

#if canImport(Glibc)
import Glibc
#endif

/// A socket address in the form `connect` and `bind` take, stored inline (no allocation).
public struct EngineAddress: Sendable {
    var storage = sockaddr_storage()
    var length: socklen_t = 0

    public init() {}

    /// A numeric IPv4 or IPv6 address; nil if `host` is not one.
    public init?(numericHost host: String, port: Int) {
        let length = host.withCString { cpe_address_parse($0, Int32(clamping: port), &self.storage) }
        guard length > 0 else { return nil }
        self.length = length
    }

    /// Every TCP address `host` resolves to, with `port`, in the resolver's order and each once;
    /// a numeric host gives itself. Blocking (getaddrinfo): for the control plane at start, reload
    /// or member add, never for a worker, whose connects take numeric addresses only.
    public static func resolve(host: String, port: Int) -> Result<[EngineAddress], ResolveError> {
        if let numeric = EngineAddress(numericHost: host, port: port) {
            return .success([numeric])
        }
        let capacity = 16
        var storages = [sockaddr_storage](repeating: sockaddr_storage(), count: capacity)
        var lengths = [socklen_t](repeating: 0, count: capacity)
        var error: Int32 = 0
        let count = host.withCString { name in
            cpe_address_resolve_all(name, Int32(clamping: port), &storages, &lengths, Int32(capacity), &error)
        }
        guard count > 0 else {
            let text = error != 0 ? String(cString: cpe_gai_text(error)) : "no IPv4 or IPv6 address"
            return .failure(ResolveError(input: host, problem: text))
        }
        return .success(
            (0..<Int(count)).map { index in
                var address = EngineAddress()
                address.storage = storages[index]
                address.length = lengths[index]
                return address
            })
    }

    /// The numeric text of the address (`10.0.0.1`, `::1`), without the port.
    public var hostText: String {
        var copy = self.storage
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: 64) { text in
            cpe_address_text(&copy, text.baseAddress, 64) > 0 ? String(cString: text.baseAddress!) : ""
        }
    }

    /// The same address with another port.
    public func withPort(_ port: Int) -> EngineAddress {
        var copy = self
        cpe_address_set_port(&copy.storage, Int32(clamping: port))
        return copy
    }

    public var isValid: Bool { self.length > 0 }

    var family: Int32 { Int32(self.storage.ss_family) }

    /// A datagram socket for this address's family, non-blocking and close-on-exec; -1 on failure.
    public func datagramSocket() -> Int32 {
        socket(self.family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    }

    /// Sends one datagram to this address from `fd` without waiting (`MSG_DONTWAIT`); the bytes
    /// sent, or -1 with `errno` set.
    public func send(datagram bytes: UnsafeRawBufferPointer, from fd: Int32) -> Int {
        var copy = self.storage
        return withUnsafePointer(to: &copy) { storage in
            storage.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                sendto(fd, bytes.baseAddress, bytes.count, Int32(MSG_DONTWAIT), address, self.length)
            }
        }
    }
}

/// A host name that did not resolve (`input`), with getaddrinfo's reason (`problem`).
public typealias ResolveError = RejectedText<HostResolution>

/// Host names as the resolver reads them: what ``ResolveError`` reports on.
public enum HostResolution: TextKind {
    public typealias Problem = String

    public static func describe(_ shown: String, _ problem: String) -> String {
        "host '\(shown)' not found: \(problem)"
    }
}
