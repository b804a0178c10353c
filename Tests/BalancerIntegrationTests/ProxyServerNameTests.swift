import CoreMetrics
import Foundation
import Logging
import ProxyEngine
import Synchronization
import Testing
import TestSupport

@testable import Balancer

/// Host names in `server` lines are resolved at start and reload into one server per address, and
/// names of registry members by the feed: the workers get numeric addresses only.
@Suite("Proxy server names", .timeLimit(.minutes(1)))
struct ProxyServerNameTests {
    private static func numeric(_ hosts: [String]) -> Result<[EngineAddress], ResolveError> {
        .success(hosts.compactMap { EngineAddress(numericHost: $0, port: 0) })
    }

    private static let config = """
        stream {
            upstream chat {
                server 10.0.0.9:7000;
                server chat.internal:7001 weight=3 max_fails=2;
            }
            server { listen 127.0.0.1:8000; proxy_pass chat; }
        }
        """

    @Test("a name becomes one server per address, each with the line's parameters, in resolver order")
    func expandsIntoOnePeerPerAddress() throws {
        let parsed = try BalancerConfiguration.parse(Self.config, file: "b.conf")
        var asked: [String] = []
        let resolved = try parsed.resolvingServerNames { host, port in
            asked.append("\(host):\(port)")
            return Self.numeric(["10.0.0.2", "10.0.0.1", "fd00::5"])
        }
        #expect(asked == ["chat.internal:7001"])
        let servers = try #require(resolved.upstream(named: "chat")).servers
        #expect(servers.map(\.host) == ["10.0.0.9", "10.0.0.2", "10.0.0.1", "fd00::5"])
        #expect(servers.dropFirst().allSatisfy { $0.port == 7001 && $0.weight == 3 && $0.maxFails == 2 })
        #expect(servers[0].weight == 1)
        // Nothing left to resolve: a second pass asks nothing.
        _ = try resolved.resolvingServerNames { host, _ in
            Issue.record("resolved \(host) again")
            return .success([])
        }
    }

    @Test("a name that does not resolve is an error naming FILE:LINE:COLUMN of its server line")
    func unresolvableNamesTheLine() throws {
        let parsed = try BalancerConfiguration.parse(Self.config, file: "b.conf")
        let error = #expect(throws: ConfigError.self) {
            try parsed.resolvingServerNames { host, _ in .failure(ResolveError(input: host, problem: "Name or service not known")) }
        }
        #expect(
            error?.description == "b.conf:4:16: host not found in upstream \"chat.internal:7001\": Name or service not known")
    }

    @Test("a name resolving to an address the upstream already has is one more peer, as nginx keeps every address of every line")
    func duplicateAddress() throws {
        let text = Self.config.replacingOccurrences(of: "10.0.0.9:7000", with: "10.0.0.9:7001")
        let parsed = try BalancerConfiguration.parse(text, file: "b.conf")
        let resolved = try parsed.resolvingServerNames { _, _ in Self.numeric(["10.0.0.9"]) }
        let servers = resolved.upstreams[0].servers
        #expect(servers.map { "\($0.host):\($0.port)" } == ["10.0.0.9:7001", "10.0.0.9:7001"])
        #expect(servers.map(\.weight) == [1, 3])
        #expect(MemberID.staticServers(servers).map(\.rawValue) == ["static:10.0.0.9:7001", "static:10.0.0.9:7001#2"])
        #expect(resolved.serverPositions["chat"]?.map(\.line) == [3, 4])
    }

    @Test("the system resolver: localhost resolves, and includes 127.0.0.1; an .invalid name does not")
    func systemResolver() throws {
        let addresses = try EngineAddress.resolve(host: "localhost", port: 80).get()
        #expect(addresses.map(\.hostText).contains("127.0.0.1"))
        #expect(Set(addresses.map(\.hostText)).count == addresses.count)
        guard case .failure = EngineAddress.resolve(host: "no-such-host.invalid", port: 80) else {
            Issue.record("an .invalid name resolved")
            return
        }
    }

    @Test("a server named localhost proxies, through the addresses resolved before the listener starts")
    func localhostServerProxies() async throws {
        try await TestScene.with { scene in
            let backend = try await scene.backend("a")
            var configuration = BalancerConfiguration.backends([StaticServer(host: "localhost", port: backend.port)])
            configuration = try configuration.resolvingServerNames()
            let upstream = try #require(configuration.upstream(named: "backends"))
            #expect(upstream.servers.allSatisfy { EngineAddress(numericHost: $0.host, port: $0.port) != nil })
            let upstreamGroup = UpstreamGroup(
                configuration: upstream, pool: MemberPool(configuration: upstream),
                metrics: GroupMetrics(upstream: "backends", factory: NOOPMetricsHandler.instance, workers: 1),
                logger: Logger(label: "names-test"))
            let engine = try ProxyEngine(workers: 1)
            let listener = try ProxyListener.bind(target: ListenerTarget(server: .test(), upstream: upstreamGroup), engine: engine)
            // ::1 may be among localhost's addresses while the backend listens on 127.0.0.1 only: the
            // next upstream is tried, so every client still reaches the backend.
            for _ in 0..<4 {
                #expect(try await TestClient.name(port: listener.port) == "a")
            }
            #expect(await listener.close(shuttingDown: engine))
        }
    }

    @Test("a member host that is a name: no address until resolved off the caller, then the resolved one with the member's port")
    func memberNames() async throws {
        let calls = Mutex(0)
        let addresses = MemberAddresses(retryInterval: .seconds(3600)) { host in
            calls.withLock { $0 += 1 }
            return host == "good.internal" ? Self.numeric(["10.1.2.3"]) : .failure(ResolveError(input: host, problem: "nope"))
        }
        #expect(addresses.address(host: "good.internal", port: 7000) == nil)
        let resolved = await waitUntil { addresses.address(host: "good.internal", port: 7000) != nil }
        #expect(resolved)
        #expect(addresses.address(host: "good.internal", port: 7000)?.hostText == "10.1.2.3")
        let failures = await addresses.prepare(hosts: ["good.internal", "bad.internal"])
        #expect(failures == ["bad.internal": "nope"])
        // A failed name is not asked again before the retry interval: a storm of clients does not
        // become a storm of lookups.
        let before = calls.withLock { $0 }
        for _ in 0..<100 {
            #expect(addresses.address(host: "bad.internal", port: 7000) == nil)
        }
        #expect(calls.withLock { $0 } == before)
    }
}
