import MusterBase
import Registry
import TestSupport
import Testing
@testable import ServerAgent

@Suite("Health checks on loopback")
struct HealthCheckTests {
    /// For checks that must give up: short, so the deadline is what decides.
    let timeout = Duration.milliseconds(300)
    /// For checks that must succeed or report a status: a deadline that only stops a hang, so a
    /// busy machine (tests run in parallel with ZooKeeper JVMs starting) cannot turn a slow start
    /// into a timeout (a command check missed 10 s at load 20: how fast a shell starts is not what
    /// these tests check).
    let patience = Duration.seconds(60)

    @Test func tcpConnectSeesAServerAndItsAbsence() async throws {
        let server = try await TestBackend.start(behaviour: .reply("PONG"))
        let target = Endpoint(host: "127.0.0.1", port: server.port)
        #expect(await TCPConnectCheck(target: target, timeout: patience).run() == .healthy)
        await server.stop()
        // Absence on a port that stays reserved (bound, never listening): the stopped server's port
        // could be taken at once by a test running in parallel (seen in CI).
        let dead = try DeadPort()
        let outcome = await TCPConnectCheck(target: Endpoint(host: "127.0.0.1", port: dead.port), timeout: timeout).run()
        guard case .unhealthy(let reason) = outcome else {
            Issue.record("expected unhealthy, got \(outcome)")
            return
        }
        #expect(reason.contains("127.0.0.1:\(dead.port)"))
    }

    @Test func lineExchangeAcceptsTheExpectedPrefix() async throws {
        let server = try await TestBackend.start(behaviour: .reply("PONG ok"))
        let target = Endpoint(host: "127.0.0.1", port: server.port)
        #expect(await LineExchangeCheck(target: target, send: "PING", expect: "PONG", timeout: patience).run() == .healthy)
        // A line that does not match is skipped; without the answer the deadline decides.
        let wrong = await LineExchangeCheck(target: target, send: "PING", expect: "HELLO", timeout: timeout).run()
        #expect(wrong == .unhealthy("no reply from 127.0.0.1:\(server.port) within 300ms"))
        let short = await LineExchangeCheck(target: target, send: "PING", expect: "PONG ok and more", timeout: timeout).run()
        #expect(short == .unhealthy("no reply from 127.0.0.1:\(server.port) within 300ms"))
        await server.stop()
    }

    @Test func lineExchangeSkipsAGreetingBeforeTheAnswer() async throws {
        // The chat server greets every connection with "HELLO <name>" before it reads PING.
        let server = try await TestBackend.start(behaviour: .greetThenReply(banner: "HELLO chat-1", reply: "PONG"))
        let target = Endpoint(host: "127.0.0.1", port: server.port)
        #expect(await LineExchangeCheck(target: target, send: "PING", expect: "PONG", timeout: patience).run() == .healthy)
        await server.stop()
    }

    @Test func bannerCheckJudgesTheFirstLine() async throws {
        let server = try await TestBackend.start(behaviour: .greet("WELCOME"))
        let target = Endpoint(host: "127.0.0.1", port: server.port)
        let outcome = await LineExchangeCheck(target: target, send: nil, expect: "HELLO", timeout: .seconds(5)).run()
        #expect(outcome == .unhealthy("reply from 127.0.0.1:\(server.port) does not start with the expected prefix: 'WELCOME'"))
        await server.stop()
    }

    @Test func lineExchangeWithoutSendReadsTheBanner() async throws {
        let server = try await TestBackend.start(behaviour: .greet("HELLO chat 1.0"))
        let target = Endpoint(host: "127.0.0.1", port: server.port)
        #expect(await LineExchangeCheck(target: target, send: nil, expect: "HELLO", timeout: patience).run() == .healthy)
        await server.stop()
    }

    @Test func lineExchangeFailsWhenTheServerHangsUp() async throws {
        let server = try await TestBackend.start(behaviour: .hangUp)
        let target = Endpoint(host: "127.0.0.1", port: server.port)
        let outcome = await LineExchangeCheck(target: target, send: "PING", expect: "PONG", timeout: timeout).run()
        #expect(!outcome.isHealthy)
        await server.stop()
    }

    @Test func lineExchangeCatchesAServerThatAcceptsButNeverAnswers() async throws {
        let server = try await TestBackend.start(behaviour: .silent)
        let target = Endpoint(host: "127.0.0.1", port: server.port)
        // The TCP check is fooled by the hung server ...
        #expect(await TCPConnectCheck(target: target, timeout: patience).run() == .healthy)
        // ... the application check is not, and it gives up on time.
        let clock = ContinuousClock()
        let started = clock.now
        let outcome = await LineExchangeCheck(target: target, send: "PING", expect: "PONG", timeout: timeout).run()
        let elapsed = started.duration(to: clock.now)
        #expect(outcome == .unhealthy("no reply from 127.0.0.1:\(server.port) within 300ms"))
        // Not before the deadline. How soon after is the machine's business, not this test's (no
        // wall-clock upper bound: the verdict's text proves the deadline fired, and a hang would
        // never return at all).
        #expect(elapsed >= timeout)
        await server.stop()
    }

    @Test func commandCheckUsesTheExitStatusAndKillsOnTimeout() async {
        #expect(await CommandCheck(command: "exit 0", timeout: patience).run() == .healthy)
        #expect(await CommandCheck(command: "exit 3", timeout: patience).run() == .unhealthy("check command exited with status 3"))
        // The verdict names the timeout and the kill: `sleep 30` was cut short, not waited for.
        let outcome = await CommandCheck(command: "sleep 30", timeout: timeout).run()
        #expect(outcome == .unhealthy("check command did not finish within 300ms; killed"))
    }
}
