/// Errors of the balancer's runtime (configuration errors are `ConfigError`).
public enum BalancerError: Error, Sendable, CustomStringConvertible {
    case badAddress(String)
    case unknownUpstream(String)
    case stopped

    public var description: String {
        switch self {
        case .badAddress(let text):
            return "bad address '\(text)': expected host:port, e.g. 127.0.0.1:8001"
        case .unknownUpstream(let name):
            return "proxy_pass names upstream '\(name)', which is not defined"
        case .stopped:
            return "the balancer is shutting down"
        }
    }
}
