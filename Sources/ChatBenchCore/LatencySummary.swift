import Histogram

/// Percentiles of one latency distribution, in microseconds.
package struct LatencySummary: Codable, Sendable {
    package var count: UInt64
    package var p50Micros: Double
    package var p99Micros: Double
    package var p999Micros: Double
    package var maxMicros: Double
    package var meanMicros: Double

    /// A histogram of nanosecond latencies from 1 ns to 60 s at three significant digits.
    package static func makeHistogram() -> Histogram<UInt64> {
        Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
    }

    package init(_ histogram: Histogram<UInt64>) {
        self.count = histogram.totalCount
        guard histogram.totalCount > 0 else {
            self.p50Micros = 0
            self.p99Micros = 0
            self.p999Micros = 0
            self.maxMicros = 0
            self.meanMicros = 0
            return
        }
        self.p50Micros = Double(histogram.valueAtPercentile(50)) / 1000
        self.p99Micros = Double(histogram.valueAtPercentile(99)) / 1000
        self.p999Micros = Double(histogram.valueAtPercentile(99.9)) / 1000
        self.maxMicros = Double(histogram.max) / 1000
        self.meanMicros = histogram.mean / 1000
    }

    /// One table cell: `p50 / p99 / p99.9 / max` in microseconds.
    package var cell: String {
        "\(Self.format(self.p50Micros)) / \(Self.format(self.p99Micros)) / \(Self.format(self.p999Micros)) / \(Self.format(self.maxMicros)) us"
    }

    package static func format(_ value: Double) -> String {
        let scaled = (value * 10).rounded() / 10
        return value >= 100 ? String(Int(value.rounded())) : String(scaled)
    }
}

extension Histogram<UInt64> {
    /// Records a latency, clamping values beyond the trackable range instead of dropping them.
    package mutating func recordLatency(_ nanos: UInt64) {
        _ = self.record(Swift.min(Swift.max(nanos, 1), self.highestTrackableValue))
    }
}
