import ProxyEngine
import Testing

@testable import Balancer

@Suite("Config: accept_rate")
struct AcceptRateConfigTests {
    /// A config whose one server block, with two listens, ends with `serverLines`.
    static func text(_ serverLines: String) -> String {
        "stream {\n  upstream u { server 127.0.0.1:6000; }\n  server { listen 8000; listen 8001; proxy_pass u;\n    \(serverLines)\n  }\n}"
    }

    static func parse(_ serverLines: String) throws -> BalancerConfiguration {
        try BalancerConfiguration.parse(text(serverLines), file: "a.conf")
    }

    @Test("accept_rate N [burst=M] applies to every listen of its server block; off by default")
    func forms() throws {
        #expect(try Self.parse("").listeners.map(\.acceptRate) == [nil, nil])
        #expect(try Self.parse("accept_rate 1000;").listeners.map(\.acceptRate) == [AcceptRate(rate: 1000), AcceptRate(rate: 1000)])
        #expect(try Self.parse("accept_rate 50 burst=200;").listeners.first?.acceptRate == AcceptRate(rate: 50, burst: 200))
        #expect(try Self.parse("accept_rate 1000000 burst=0;").listeners.first?.acceptRate == AcceptRate(rate: 1_000_000, burst: 0))
    }

    @Test("not a stream-level or upstream directive")
    func elsewhere() {
        #expect(throws: ConfigError.self) {
            try BalancerConfiguration.parse("stream {\n  accept_rate 10;\n  upstream u { server 127.0.0.1:1; }\n  server { listen 1; proxy_pass u; }\n}", file: "e.conf")
        }
        #expect(throws: ConfigError.self) {
            try BalancerConfiguration.parse("stream {\n  upstream u { server 127.0.0.1:1; accept_rate 10; }\n  server { listen 1; proxy_pass u; }\n}", file: "e.conf")
        }
    }

    @Test("a reload that keeps the rate keeps the bucket (its state); one that changes it starts a new one; none removes it")
    func reloadKeepsOrReplaces() {
        let first = ProxyListener.limiter(for: AcceptRate(rate: 100, burst: 5))
        #expect(first?.rate == 100 && first?.burst == 5)
        #expect(ProxyListener.limiter(for: AcceptRate(rate: 100, burst: 5), keeping: first) === first)
        let changed = ProxyListener.limiter(for: AcceptRate(rate: 100, burst: 6), keeping: first)
        #expect(changed !== first && changed?.burst == 6)
        #expect(ProxyListener.limiter(for: AcceptRate(rate: 200, burst: 5), keeping: first)?.rate == 200)
        #expect(ProxyListener.limiter(for: nil, keeping: first) == nil)
    }
}

@Suite("Config: listen backlog against net.core.somaxconn")
struct ListenQueueWarningTests {
    @Test("a backlog above the kernel's cap is named with its listen and file:line:column, once; at or below it, nothing")
    func warnings() throws {
        let text = "stream {\n  upstream u { server 127.0.0.1:6000; }\n  server { listen 127.0.0.1:8000 backlog=65535; proxy_pass u; }\n  server { listen 8001; proxy_pass u; }\n}"
        let configuration = try BalancerConfiguration.parse(text, file: "q.conf")
        let warnings = configuration.listenQueueWarnings(cap: 4096)
        #expect(warnings == [ListenQueueWarning(listen: "127.0.0.1:8000", origin: "listen, q.conf:3:12", backlog: 65535, cap: 4096)])
        #expect(warnings.first?.description.contains("backlog=65535 is above net.core.somaxconn (4096)") == true)
        #expect(configuration.listenQueueWarnings(cap: 65535).isEmpty)
    }
}
