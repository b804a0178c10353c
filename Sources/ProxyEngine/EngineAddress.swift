import CProxyEngine

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

    /// A numeric address, or else a name resolved with getaddrinfo (blocking; for `server name:port`).
    public init?(host: String, port: Int) {
        let length = host.withCString { cpe_address_resolve($0, Int32(clamping: port), &self.storage) }
        guard length > 0 else { return nil }
        self.length = length
    }

    public var isValid: Bool { self.length > 0 }

    var family: Int32 { Int32(self.storage.ss_family) }
}
