import Foundation

/// The one poller of the test suites: every wait is on a condition, with a deadline.
///
/// Polls `condition` every `interval` until it holds or `timeout` passes; returns the time it took,
/// or nil when the deadline passed first. The condition is tried once more at the deadline, so a
/// slow machine that only gets to it late still sees it hold.
public func timeUntil(
    timeout: Duration = .seconds(10),
    every interval: Duration = .milliseconds(10),
    _ condition: () async throws -> Bool
) async rethrows -> Duration? {
    let clock = ContinuousClock()
    let start = clock.now
    let deadline = start.advanced(by: timeout)
    while clock.now < deadline {
        if try await condition() { return start.duration(to: clock.now) }
        try? await Task.sleep(for: interval)
    }
    return try await condition() ? start.duration(to: clock.now) : nil
}

/// ``timeUntil(timeout:every:_:)`` when only whether the condition held matters.
public func waitUntil(
    timeout: Duration = .seconds(10),
    interval: Duration = .milliseconds(10),
    _ condition: () async throws -> Bool
) async rethrows -> Bool {
    try await timeUntil(timeout: timeout, every: interval, condition) != nil
}

/// Runs blocking work (a read on a raw socket, a blocking system call) on a thread of its own: on
/// the cooperative pool, two threads on two cores, a call waiting seconds would stall every other
/// test's tasks meanwhile, and their own deadlines with them.
public func offPool<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { (done: CheckedContinuation<T, Never>) in
        let thread = Thread { done.resume(returning: body()) }
        thread.start()
    }
}
