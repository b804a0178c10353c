#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Raises the open-files soft limit to the hard limit, as nginx's `worker_rlimit_nofile` would: every
/// connection is a descriptor (a proxied client two), and the usual soft limit (1024) is far below the
/// thousands of connections a chat server or a balancer holds. Shared by the executables.
package enum OpenFileLimit {
    /// Raises the limit as far as allowed and returns the limits now in force ((0, 0) if they
    /// cannot be read).
    @discardableResult
    package static func raise() -> (soft: UInt64, hard: UInt64) {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return (0, 0) }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 {
                limit = raised
            }
        }
        return (UInt64(limit.rlim_cur), UInt64(limit.rlim_max))
    }

    /// Sets the limit (soft and hard) to `count`, as nginx's `worker_rlimit_nofile`; nil on
    /// success, else the system's reason (raising the hard limit needs root).
    package static func set(_ count: Int) -> String? {
        var limit = rlimit()
        limit.rlim_cur = rlim_t(count)
        limit.rlim_max = rlim_t(count)
        guard setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else {
            return String(cString: strerror(errno))
        }
        return nil
    }

    /// The limits in force ((0, 0) if they cannot be read).
    package static func current() -> (soft: UInt64, hard: UInt64) {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return (0, 0) }
        return (UInt64(limit.rlim_cur), UInt64(limit.rlim_max))
    }
}
