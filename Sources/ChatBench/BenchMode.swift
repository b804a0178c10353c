import ArgumentParser
import ChatBenchCore
import NIOPosix
import SystemLimits

/// A chat-bench mode: a subcommand that loads one target within the ``CommonOptions`` and prints
/// one ``BenchReport``. Its name, which is also its report's `mode`, and the frame every
/// measurement runs in are written here once.
protocol BenchMode: AsyncParsableCommand {
    associatedtype Report: BenchReport
    /// The subcommand's name (`chat-bench rtt`), and the `mode` its report gives.
    static var mode: String { get }
    /// The line `--help` shows for the mode.
    static var abstract: String { get }
    var common: CommonOptions { get }
    /// One measurement of the parsed target with the run's event loops; `openFilesLimit` is the
    /// soft limit the run got.
    func measure(target: BenchTarget, group: MultiThreadedEventLoopGroup, openFilesLimit: UInt64) async throws -> Report
}

extension BenchMode {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: Self.mode, abstract: Self.abstract)
    }

    /// The open-files limit raised, the target parsed, one event loop group for the run, shut
    /// down whatever happens, then the report printed.
    func run() async throws {
        let limit = OpenFileLimit.raise()
        let target = try BenchTarget(parsing: self.common.target)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: self.common.threads)
        let report: Report
        do {
            report = try await self.measure(target: target, group: group, openFilesLimit: limit.soft)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        try? await group.shutdownGracefully()
        try report.emit(json: self.common.json)
    }
}
