import Testing

@testable import Balancer

@Suite("Config: panic threshold, slow start, flap damping")
struct StormConfigTests {
    /// A config whose one upstream is a zookeeper line ending with `options` (line 2).
    static func text(zookeeperOptions options: String) -> String {
        "stream {\n  upstream u { zookeeper 127.0.0.1:2181 path=/p \(options); }\n  server { listen 1; proxy_pass u; }\n}"
    }

    @Test("zookeeper and server lines take the storm options; defaults when absent")
    func options() throws {
        let text = """
            stream {
              upstream chat {
                server 127.0.0.1:6000 slow_start=30s;
                zookeeper 127.0.0.1:2181 path=/muster/services/chat panic_threshold=25% suspect_timeout=2m slow_start=10s flap_limit=3 flap_window=30s flap_hold=10s flap_max_hold=2m;
              }
              upstream plain { zookeeper 127.0.0.1:2181 path=/p; }
              server { listen 8000; proxy_pass chat; }
              server { listen 8001; proxy_pass plain; }
            }
            """
        let configuration = try BalancerConfiguration.parse(text, file: "s.conf")
        let chat = try #require(configuration.upstreams.first { $0.name == "chat" })
        #expect(chat.servers.first?.slowStart == .seconds(30))
        let source = try #require(chat.zookeeper)
        #expect(source.panicThreshold == 25)
        #expect(source.suspectTimeout == .seconds(120))
        #expect(source.slowStart == .seconds(10))
        #expect(source.flapDamping == FlapDamping(limit: 3, window: .seconds(30), hold: .seconds(10), maxHold: .seconds(120)))
        #expect(configuration.warnings.isEmpty)
        let plain = try #require(configuration.upstreams.first { $0.name == "plain" }?.zookeeper)
        #expect(plain.panicThreshold == 50 && plain.suspectTimeout == .seconds(600) && plain.slowStart == .zero)
        #expect(plain.flapDamping == FlapDamping(limit: 4, window: .seconds(60), hold: .seconds(30), maxHold: .seconds(300)))
    }

    @Test("panic_threshold=0 disables; 50 without % is accepted")
    func panicForms() throws {
        for (value, expected) in [("0", 0), ("50", 50), ("100%", 100)] {
            let text = Self.text(zookeeperOptions: "panic_threshold=\(value)")
            #expect(try BalancerConfiguration.parse(text, file: "p.conf").upstreams[0].zookeeper?.panicThreshold == expected)
        }
    }

    @Test("slow_start with a hash method is a warning with file:line:column, not an error")
    func hashWarning() throws {
        let text = "stream {\n  upstream h { hash $remote_addr;\n    server 127.0.0.1:1 slow_start=10s;\n    zookeeper 127.0.0.1:2181 path=/p slow_start=5s; }\n  server { listen 1; proxy_pass h; }\n}"
        let warnings = try BalancerConfiguration.parse(text, file: "h.conf").warnings
        #expect(warnings.map { "\($0.file):\($0.line):\($0.column)" } == ["h.conf:3:24", "h.conf:4:38"])
        #expect(warnings.allSatisfy { $0.message.contains("\"slow_start\" is ignored by balancing method \"hash\"") })
    }
}
