import ChatBenchCore
import Histogram

/// `connect` results of the workers on one event loop.
final class ConnectStats {
    /// From `connect()` to the connection being established.
    var connectLatency = LatencySummary.makeHistogram()
    /// From `connect()` to the echo of the first message (the time a client waits for service).
    var firstEchoLatency = LatencySummary.makeHistogram()
    var completed: UInt64 = 0
    var failures: UInt64 = 0
    var firstError: String?
}
