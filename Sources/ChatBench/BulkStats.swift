/// `bulk` results of the streams on one event loop.
final class BulkStats: ConnectionErrorCounting {
    /// Echoed bytes received inside the measured window.
    var bytes: UInt64 = 0
    var connectionErrors: UInt64 = 0
}
