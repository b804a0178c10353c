import ChatBenchCore
import Histogram

/// Round-trip results of the connections on one event loop.
final class RTTStats: ConnectionErrorCounting {
    var histogram = LatencySummary.makeHistogram()
    /// Messages sent inside the measured window whose echo came back.
    var completed: UInt64 = 0
    /// Messages still unanswered when their connection gave up waiting.
    var lost: UInt64 = 0
    /// Connections that failed or were closed by the peer before the end.
    var connectionErrors: UInt64 = 0
}
