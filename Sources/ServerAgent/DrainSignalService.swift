import ServiceLifecycle
import UnixSignals

/// Toggles the member's `draining` flag each time the drain signal arrives.
public struct DrainSignalService: Service {
    let signal: DrainSignal
    let coordinator: MemberCoordinator

    public init(signal: DrainSignal, coordinator: MemberCoordinator) {
        self.signal = signal
        self.coordinator = coordinator
    }

    public func run() async throws {
        let unixSignal: UnixSignal =
            switch signal {
            case .usr1: .sigusr1
            case .usr2: .sigusr2
            case .hup: .sighup
            }
        let coordinator = self.coordinator
        let signals = await UnixSignalsSequence(trapping: unixSignal)
        await cancelWhenGracefulShutdown {
            for await _ in signals {
                coordinator.toggleDraining()
            }
        }
    }
}
