import Foundation
import NIOCore
import ProxyEngine

/// Errors of the balancer's runtime (configuration errors are `ConfigError`).
public enum BalancerError: Error, Sendable, CustomStringConvertible {
    case badAddress(String)
    case unknownUpstream(String)
    case stopped
    /// A listening socket could not be bound: its address, where it came from (`listen,
    /// FILE:LINE:COL`, `admin, FILE:LINE:COL`, `--listen`, `--admin`) and the system's error.
    case cannotListen(address: String, origin: String, any Error)
    /// An `access_log` file could not be opened (created) at start or reload.
    case cannotOpenAccessLog(AccessLogError)
    /// A listener's `error_log` file could not be opened (created) at start or reload.
    case cannotOpenErrorLog(ErrorLogError)

    public var description: String {
        switch self {
        case .badAddress(let text):
            return "bad address '\(text)': expected host:port, e.g. 127.0.0.1:8001"
        case .unknownUpstream(let name):
            return "proxy_pass names upstream '\(name)', which is not defined"
        case .stopped:
            return "the balancer is shutting down"
        case .cannotListen(let address, let origin, let error):
            return "cannot listen on \(address) (\(origin)): \(Self.reason(error))"
        case .cannotOpenAccessLog(let error):
            return error.description
        case .cannotOpenErrorLog(let error):
            return error.description
        }
    }

    /// The system's words for a socket error ("Address already in use"), else the error itself.
    static func reason(_ error: any Error) -> String {
        if let error = error as? IOError {
            return String(cString: strerror(error.errnoCode))
        }
        if let error = error as? EngineError, case .bind(_, let code) = error {
            return String(cString: strerror(code))
        }
        return "\(error)"
    }
}
