import Balancer
import Testing

/// The `admin` directive's limits as parsed (the limits at work are `AdminLimitsTests`, against a running balancer).
@Suite("Admin endpoint limits: the directive")
struct AdminLimitsConfigTests {
    @Test("the admin directive's limits parse, with nginx sizes and durations, and bad ones name their position")
    func configuration() throws {
        let text = """
            stream {
                admin 127.0.0.1:8001 max_connections=8 request_timeout=2s keepalive_timeout=1m max_request_line=2k max_header_size=16384;
                upstream u { server 127.0.0.1:6000; }
                server { listen 8000; proxy_pass u; }
            }
            """
        let configuration = try BalancerConfiguration.parse(text, file: "t.conf")
        #expect(configuration.admin == "127.0.0.1:8001")
        #expect(configuration.adminLimits == AdminLimits(
            maxConnections: 8, requestTimeout: .seconds(2), keepaliveTimeout: .seconds(60), maxRequestLine: 2048,
            maxHeaderSize: 16384))
        #expect(try BalancerConfiguration.parse(
            "stream { admin 8001; upstream u { server 127.0.0.1:6000; } server { listen 8000; proxy_pass u; } }",
            file: "t.conf").adminLimits == AdminLimits())
        for bad in ["max_connections=0", "request_timeout=0s", "max_header_size=10", "max_request_line=2g", "timeout=1s", "max_connections=1 max_connections=2", "fast"] {
            #expect(throws: ConfigError.self, "\(bad)") {
                _ = try BalancerConfiguration.parse(
                    "stream { admin 8001 \(bad); upstream u { server 127.0.0.1:6000; } server { listen 8000; proxy_pass u; } }",
                    file: "t.conf")
            }
        }
    }
}
