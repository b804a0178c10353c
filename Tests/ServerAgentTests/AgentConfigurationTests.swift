import MusterBase
import Registry
import Testing
@testable import ServerAgent

@Suite("Flag validation")
struct AgentConfigurationTests {
    func options(_ change: (inout AgentOptions) -> Void = { _ in }) -> AgentOptions {
        var options = AgentOptions()
        options.server = "127.0.0.1:6000"
        change(&options)
        return options
    }

    func problem(_ change: (inout AgentOptions) -> Void) -> AgentConfigurationError? {
        do {
            _ = try AgentConfiguration(options(change))
            return nil
        } catch {
            return error
        }
    }

    @Test func defaults() throws {
        let configuration = try AgentConfiguration(options())
        #expect(configuration.zookeeper == "127.0.0.1:2181")
        #expect(configuration.servicePath == "/muster/services/chat")
        #expect(configuration.server == Endpoint(host: "127.0.0.1", port: 6000))
        #expect(configuration.advertise == configuration.server)
        #expect(configuration.memberID == "127.0.0.1-6000")
        #expect(configuration.weight == 1)
        #expect(configuration.metadata.isEmpty)
        #expect(configuration.check == .tcpConnect)
        #expect(configuration.interval == .seconds(1))
        #expect(configuration.timeout == .milliseconds(500))
        #expect(configuration.rise == 2)
        #expect(configuration.fall == 2)
        #expect(configuration.sessionTimeout == .seconds(10))
        #expect(configuration.drainSignal == .usr1)
        #expect(configuration.command.isEmpty)
    }

    @Test func idDefaultsToTheAdvertisedAddress() throws {
        let configuration = try AgentConfiguration(options { $0.advertise = "10.0.0.7:7000" })
        #expect(configuration.memberID == "10.0.0.7-7000")
        #expect(configuration.advertise == Endpoint(host: "10.0.0.7", port: 7000))
        let v6 = try AgentConfiguration(options { $0.server = "[::1]:6000" })
        #expect(v6.memberID == "::1-6000")
        #expect(v6.nodePath == "/muster/services/chat/members/::1-6000")
        #expect(AgentConfiguration.defaultMemberID(for: Endpoint(host: "chat+1.example", port: 6000)) == "chat_1.example-6000")
        // A host that is no IP address or RFC 1123 name could not be read by a balancer: refused at start.
        #expect(throws: AgentConfigurationError.self) { try AgentConfiguration(options { $0.server = "chat+1.example:6000" }) }
        #expect(problem { $0.advertise = "my_host:6000" }?.flag == "--advertise")
    }

    @Test func metadataAndChecks() throws {
        let configuration = try AgentConfiguration(options {
            $0.meta = ["zone=a", "url=http://x/?a=b"]
            $0.check.send = "PING"
            $0.check.expect = "PONG"
            $0.weight = 5
        })
        #expect(configuration.metadata == ["zone": "a", "url": "http://x/?a=b"])
        #expect(configuration.check == .lineExchange(send: "PING", expect: "PONG"))
        #expect(configuration.weight == 5)
        #expect(try AgentConfiguration(options { $0.check.expect = "HELLO" }).check == .lineExchange(send: nil, expect: "HELLO"))
        #expect(try AgentConfiguration(options { $0.check.command = "true" }).check == .command("true"))
    }

    @Test func rejectsBadOrInconsistentFlags() {
        #expect(problem { $0.server = nil }?.flag == "--server")
        #expect(problem { $0.server = "localhost" }?.flag == "--server")
        #expect(problem { $0.server = "h:0" }?.flag == "--server")
        #expect(problem { $0.server = "h:70000" }?.flag == "--server")
        #expect(problem { $0.server = "::1:6000" }?.flag == "--server")
        #expect(problem { $0.advertise = ":6000" }?.flag == "--advertise")
        #expect(problem { $0.id = "a/b" }?.flag == "--id")
        #expect(problem { $0.id = ".." }?.flag == "--id")
        #expect(problem { $0.id = "" }?.flag == "--id")
        #expect(problem { $0.path = "muster" }?.flag == "--path")
        #expect(problem { $0.path = "/" }?.flag == "--path")
        #expect(problem { $0.path = "/a//b" }?.flag == "--path")
        #expect(problem { $0.path = "/a/" }?.flag == "--path")
        #expect(problem { $0.weight = 0 }?.flag == "--weight")
        #expect(problem { $0.weight = 1001 }?.flag == "--weight")
        #expect(problem { $0.id = "chat 1" }?.flag == "--id")
        #expect(problem { $0.zookeeper = "zk1,zk2:2181" }?.flag == "--zookeeper")
        #expect(problem { $0.zookeeper = "127.0.0.1:2181//x" }?.flag == "--zookeeper")
        #expect(problem { $0.rise = 0 }?.flag == "--rise")
        #expect(problem { $0.fall = 0 }?.flag == "--fall")
        #expect(problem { $0.meta = ["novalue"] }?.flag == "--meta")
        #expect(problem { $0.meta = ["=v"] }?.flag == "--meta")
        #expect(problem { $0.meta = ["k=1", "k=2"] }?.flag == "--meta")
        #expect(problem { $0.interval = "1" }?.flag == "--interval")
        #expect(problem { $0.interval = "0s" }?.flag == "--interval")
        #expect(problem { $0.timeout = "2s" }?.flag == "--timeout", "timeout longer than interval")
        #expect(problem { $0.sessionTimeout = "soon" }?.flag == "--session-timeout")
        #expect(problem { $0.check.send = "PING" }?.flag == "--check-send", "send without expect")
        #expect(problem { $0.check.expect = "" }?.flag == "--check-expect")
        #expect(problem { $0.check.command = "true"; $0.check.expect = "X" }?.flag == "--check-command")
        #expect(problem { $0.check.command = "  " }?.flag == "--check-command")
        #expect(problem { $0.drainSignal = "KILL" }?.flag == "--drain-signal")
        #expect(problem { $0.authFile = "" }?.flag == "--auth-file")
        #expect(problem { $0.zookeeper = "" }?.flag == "--zookeeper")
    }

    @Test func errorMessagesNameTheFlagAndTheValue() {
        let error = problem { $0.interval = "5 parsecs" }
        #expect(error?.description.hasPrefix("--interval: invalid duration '5 parsecs'") == true)
    }

    @Test func drainSignalNames() throws {
        #expect(try AgentConfiguration(options { $0.drainSignal = "SIGUSR2" }).drainSignal == .usr2)
        #expect(try AgentConfiguration(options { $0.drainSignal = "hup" }).drainSignal == .hup)
        #expect(try AgentConfiguration(options { $0.drainSignal = "none" }).drainSignal == nil)
    }
}

@Suite("Durations")
struct DurationSyntaxTests {
    @Test func parsesUnits() throws {
        #expect(try DurationSyntax.parse("500ms") == .milliseconds(500))
        #expect(try DurationSyntax.parse("1s") == .seconds(1))
        #expect(try DurationSyntax.parse("1.5s") == .milliseconds(1500))
        #expect(try DurationSyntax.parse("0.1s") == .milliseconds(100))
        #expect(try DurationSyntax.parse(".25s") == .milliseconds(250))
        #expect(try DurationSyntax.parse("2m") == .seconds(120))
        #expect(try DurationSyntax.parse("1h") == .seconds(3600))
        #expect(try DurationSyntax.parse(" 100ms ") == .milliseconds(100))
    }

    @Test func rejectsNonsense() {
        for text in ["", "1", "ms", "1.2.3s", "1sec", "-1s", "1 s", ".s", "99999999999999999999h"] {
            #expect(throws: DurationSyntax.ParseError.self, "\(text)") { try DurationSyntax.parse(text) }
        }
    }

    @Test func formats() {
        #expect(DurationSyntax.format(.milliseconds(500)) == "500ms")
        #expect(DurationSyntax.format(.seconds(2)) == "2s")
        #expect(DurationSyntax.format(.milliseconds(1500)) == "1.5s")
    }
}
