/// Runs `body`, then `cleanup` whether `body` returned or threw: an async `defer` for scenes
/// (servers, processes) that must be stopped before the test ends.
public func withCleanup<T>(_ body: () async throws -> T, cleanup: () async -> Void) async throws -> T {
    do {
        let result = try await body()
        await cleanup()
        return result
    } catch {
        await cleanup()
        throw error
    }
}
