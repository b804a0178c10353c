#if canImport(Glibc)
import Glibc
#endif

/// Errors of the engine's set-up (never of a connection: those end the connection, counted).
public enum EngineError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A listening socket could not be made; `address` is `host:port` as configured.
    case bind(address: String, errno: Int32)
    case badListenAddress(String)
    case system(call: String, errno: Int32)

    public var description: String {
        switch self {
        case .bind(let address, let code):
            return "listen \(address): \(Self.text(code))"
        case .badListenAddress(let address):
            return "listen \(address): not a numeric IPv4 or IPv6 address"
        case .system(let call, let code):
            return "\(call) failed: \(Self.text(code))"
        }
    }

    /// The errno as text, lower case as in nginx's messages ("address already in use").
    static func text(_ code: Int32) -> String {
        let text = String(cString: strerror(code))
        return text.prefix(1).lowercased() + text.dropFirst()
    }

    public var errno: Int32? {
        switch self {
        case .bind(_, let code), .system(_, let code): return code
        case .badListenAddress: return nil
        }
    }
}
