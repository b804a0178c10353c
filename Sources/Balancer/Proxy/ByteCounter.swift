import Metrics

/// A byte counter handed to the data path; the underlying metric is created once per upstream.
struct ByteCounter: Sendable {
    let counter: Counter

    @inline(__always)
    func add(_ bytes: Int) {
        self.counter.increment(by: bytes)
    }
}
