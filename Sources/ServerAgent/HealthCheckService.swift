import ServiceLifecycle

/// Runs the health check every `interval` and feeds the results to the coordinator. It knows
/// nothing of ZooKeeper, so checks keep running through a registry outage.
public struct HealthCheckService: Service {
    let check: any HealthCheck
    let interval: Duration
    let coordinator: MemberCoordinator

    public init(check: any HealthCheck, interval: Duration, coordinator: MemberCoordinator) {
        self.check = check
        self.interval = interval
        self.coordinator = coordinator
    }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown { try await self.checkUntilCancelled() }
        self.coordinator.finish()
    }

    private func checkUntilCancelled() async throws {
        let clock = ContinuousClock()
        var next = clock.now
        while !Task.isCancelled {
            let outcome = await self.check.run()
            self.coordinator.record(outcome, at: clock.now)
            // Fixed cadence from the first check; a slow check does not make the next one late twice.
            next = next.advanced(by: self.interval)
            if next < clock.now { next = clock.now }
            try await Task.sleep(until: next, clock: clock)
        }
    }
}
