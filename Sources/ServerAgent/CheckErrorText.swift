import MusterBase
import NIOCore
import NIOPosix

/// Short, log-friendly descriptions of the errors a check can hit.
enum CheckErrorText {
    static func describe(_ error: any Error, timeout: Duration) -> String {
        if let channelError = error as? ChannelError, case .connectTimeout = channelError {
            return "timed out after \(DurationSyntax.format(timeout))"
        }
        if let connectionError = error as? NIOConnectionError {
            if let first = connectionError.connectionErrors.first {
                return describe(first.error, timeout: timeout)
            }
            if let dnsError = connectionError.dnsAError ?? connectionError.dnsAAAAError {
                return "cannot resolve host: \(dnsError)"
            }
            return "\(connectionError)"
        }
        if let ioError = error as? IOError {
            return "\(ioError.description)"
        }
        return "\(error)"
    }
}
