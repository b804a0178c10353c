import ProxyEngine

@testable import Balancer

extension ProxyListener {
    /// Closes the listener and shuts its engine down; whether every session had ended first.
    func close(shuttingDown engine: ProxyEngine) async -> Bool {
        await close()
        let empty = await engine.waitUntilEmpty(timeout: .seconds(10))
        await engine.shutdown()
        return empty
    }
}
