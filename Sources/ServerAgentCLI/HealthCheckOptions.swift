import ArgumentParser
import ServerAgent

/// The health-check flags: which check runs (a kind of ``HealthCheckSpec``) and its timing
/// (interval, timeout, rise/fall). Declarations only: their rules are ``AgentConfiguration``'s
/// and ``HealthCheckSpec``'s, which take them through ``AgentOptions`` and are tested there
/// without a process.
struct HealthCheckOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Application check: line to send (a newline is appended).", valueName: "LINE"))
    var checkSend: String?

    @Option(name: .long, help: ArgumentHelp("Application check: a healthy reply starts with this.", valueName: "PREFIX"))
    var checkExpect: String?

    @Option(name: .long, help: ArgumentHelp("Command check, run with /bin/sh -c; exit 0 = healthy.", valueName: "CMD"))
    var checkCommand: String?

    @Option(name: .long, help: ArgumentHelp("Time between checks (500ms, 1s, 2m).", valueName: "DURATION"))
    var interval = AgentOptions().interval

    @Option(name: .long, help: ArgumentHelp("Time a check may take.", valueName: "DURATION"))
    var timeout = AgentOptions().timeout

    @Option(name: .long, help: ArgumentHelp("Consecutive healthy checks before registering.", valueName: "N"))
    var rise = AgentOptions().rise

    @Option(name: .long, help: ArgumentHelp("Consecutive failed checks before deregistering.", valueName: "N"))
    var fall = AgentOptions().fall

    /// Copies the flags into the options ``AgentConfiguration`` validates.
    func apply(to options: inout AgentOptions) {
        options.check.send = self.checkSend
        options.check.expect = self.checkExpect
        options.check.command = self.checkCommand
        options.interval = self.interval
        options.timeout = self.timeout
        options.rise = self.rise
        options.fall = self.fall
    }
}
