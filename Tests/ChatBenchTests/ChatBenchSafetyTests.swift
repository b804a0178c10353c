import Testing

import ChatBenchCore

/// chat-bench must never load anything but this machine, and must report latencies faithfully.
@Suite struct ChatBenchSafetyTests {
    @Test(arguments: ["127.0.0.1:6000", "127.5.6.7:1", "localhost:8000", "[::1]:6000"])
    func acceptsLoopbackTargets(_ text: String) throws {
        let target = try BenchTarget(parsing: text)
        #expect(target.port > 0)
    }

    @Test(arguments: [
        "10.0.0.1:6000", "8.8.8.8:53", "192.168.1.1:80", "example.com:80", "[::ffff:10.0.0.1]:80", "[2001:db8::1]:80",
        "127.0.0.1", "127.0.0.1:0", "127.0.0.1:70000", "127.0.0.1:http",
    ])
    func refusesEverythingElse(_ text: String) {
        #expect(throws: (any Error).self) { try BenchTarget(parsing: text) }
    }

    @Test func latencySummaryReportsPercentilesInMicroseconds() {
        var histogram = LatencySummary.makeHistogram()
        for micros in 1...1000 {
            histogram.recordLatency(UInt64(micros) * 1000)
        }
        let summary = LatencySummary(histogram)
        #expect(summary.count == 1000)
        // Three significant digits: within 0.1 % of the exact value.
        #expect(abs(summary.p50Micros - 500) <= 1)
        #expect(abs(summary.p99Micros - 990) <= 1)
        #expect(abs(summary.p999Micros - 999) <= 1)
        #expect(abs(summary.maxMicros - 1000) <= 1)
    }

    @Test func emptyHistogramGivesZeros() {
        let summary = LatencySummary(LatencySummary.makeHistogram())
        #expect(summary.count == 0)
        #expect(summary.p99Micros == 0)
    }
}
