import NIOCore

/// Monotonic time in nanoseconds, the unit of every timestamp and latency in the tool.
enum BenchClock {
    @inline(__always)
    static func now() -> UInt64 {
        NIODeadline.now().uptimeNanoseconds
    }

    static func deadline(_ nanos: UInt64) -> NIODeadline {
        .uptimeNanoseconds(nanos)
    }
}
