import Foundation

/// A value behind a lock, for state shared with the ZooKeeper C library's threads.
///
/// `Synchronization.Mutex` would serve, but on Linux its lock lives in the standard library, which
/// the thread sanitizer does not instrument: every access under it is reported as a race (a
/// 20-line program with four threads and one `Mutex` shows it). A pthread mutex (`NSLock`), which
/// the sanitizer understands, keeps `swift test --sanitize=thread` meaningful for this library.
package final class Locked<Value: Sendable>: @unchecked Sendable {
    // @unchecked: `value` is only read or written inside `withLock`, under `lock`.
    private var value: Value
    private let lock = NSLock()

    package init(_ value: Value) {
        self.value = value
    }

    package func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
