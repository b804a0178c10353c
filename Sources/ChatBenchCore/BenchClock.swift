import NIOCore

/// Monotonic time in nanoseconds, the unit of every timestamp and latency in the tool.
package enum BenchClock {
    @inline(__always)
    package static func now() -> UInt64 {
        NIODeadline.now().uptimeNanoseconds
    }

    package static func deadline(_ nanos: UInt64) -> NIODeadline {
        .uptimeNanoseconds(nanos)
    }
}
