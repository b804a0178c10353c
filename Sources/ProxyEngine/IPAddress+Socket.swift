import ProxyProtocolCodec

#if canImport(Glibc)
import Glibc
#endif

extension ProxyProtocolEndpoint {
    /// An AF_INET or AF_INET6 socket address as an endpoint; nil for any other family.
    init?(socketAddress storage: sockaddr_storage) {
        var storage = storage
        let family = Int32(storage.ss_family)
        let parsed: ProxyProtocolEndpoint? = withUnsafeBytes(of: &storage) { raw in
            // sin_port / sin6_port sit at offset 2 in both, in network order.
            let port = UInt16(raw[2]) << 8 | UInt16(raw[3])
            func word(_ offset: Int, _ count: Int) -> UInt64 {
                (0..<count).reduce(0) { $0 << 8 | UInt64(raw[offset + $1]) }
            }
            switch family {
            case AF_INET:
                return ProxyProtocolEndpoint(address: .v4(UInt32(word(4, 4))), port: port)
            case AF_INET6:
                return ProxyProtocolEndpoint(address: .v6(word(8, 8), word(16, 8)), port: port)
            default:
                return nil
            }
        }
        guard let parsed else { return nil }
        self = parsed
    }
}
