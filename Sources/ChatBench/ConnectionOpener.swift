import NIOCore

/// Opens many connections with a bounded number in flight, so a burst does not overflow the
/// target's accept queue and measure SYN retransmits instead of the target.
enum ConnectionOpener {
    struct Outcome {
        var channels: [any Channel] = []
        var failures = 0
        var firstError: String?
    }

    static func open(
        count: Int,
        concurrency: Int,
        _ connect: (Int) -> EventLoopFuture<any Channel>
    ) async -> Outcome {
        var outcome = Outcome()
        var next = 0
        while next < count {
            let batch = next..<min(count, next + max(1, concurrency))
            let futures = batch.map(connect)
            for future in futures {
                do {
                    outcome.channels.append(try await future.get())
                } catch {
                    outcome.failures += 1
                    if outcome.firstError == nil {
                        outcome.firstError = "\(error)"
                    }
                }
            }
            next = batch.upperBound
        }
        return outcome
    }
}
