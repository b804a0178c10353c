import Testing

@testable import Balancer

@Suite("Config: zone, proxy_pass to an address, proxy_buffer_size")
struct ConfigUpstreamDirectivesTests {
    @Test("zone NAME [SIZE] is accepted in an upstream; a bad size is refused with its position")
    func zone() throws {
        let configuration = try BalancerConfiguration.parse(
            "stream { upstream u { zone backends 64k; server 127.0.0.1:1; } upstream v { zone v; server 127.0.0.1:2; }\n server { listen 1; proxy_pass u; } }",
            file: "z.conf")
        #expect(configuration.upstreams.map(\.name) == ["u", "v"])
        #expect(throws: ConfigError(file: "z.conf", line: 1, column: 30, message: "invalid zone size \"lots\": expected a size such as 4k or 8192, from 1 byte to 1048576m")) {
            try BalancerConfiguration.parse("stream { upstream u { zone u lots; server 127.0.0.1:1; } server { listen 1; proxy_pass u; } }", file: "z.conf")
        }
    }

    @Test("proxy_pass HOST:PORT is a one-member upstream named by the address, shared by the servers that name it")
    func implicitUpstream() throws {
        let configuration = try BalancerConfiguration.parse("""
            stream {
                upstream named { server 127.0.0.1:9; }
                server { listen 8000; proxy_pass 127.0.0.1:6000; }
                server { listen 8001; proxy_pass 127.0.0.1:6000; }
                server { listen 8002; proxy_pass backend.example:6001; }
                server { listen 8003; proxy_pass named; }
            }
            """, file: "p.conf")
        #expect(configuration.upstreams.map(\.name) == ["named", "127.0.0.1:6000", "backend.example:6001"])
        #expect(configuration.upstream(named: "127.0.0.1:6000")?.servers == [StaticServer(host: "127.0.0.1", port: 6000)])
        #expect(configuration.upstream(named: "backend.example:6001")?.servers == [StaticServer(host: "backend.example", port: 6001)])
        #expect(configuration.listeners.map(\.proxyPass) == ["127.0.0.1:6000", "127.0.0.1:6000", "backend.example:6001", "named"])
        // A host name is resolved at start as a server line's is; its error points at proxy_pass.
        #expect(configuration.serverPositions["backend.example:6001"]?.map { [$0.line, $0.column] } == [[5, 38]])
    }

    @Test("proxy_buffer_size: unset by default (the engine's 64 KiB), set in stream or server")
    func bufferSize() throws {
        let configuration = try BalancerConfiguration.parse("""
            stream {
                proxy_buffer_size 32k;
                upstream u { server 127.0.0.1:1; }
                server { listen 8000; proxy_pass u; }
                server { listen 8001; proxy_pass u; proxy_buffer_size 4096; }
            }
            """, file: "b.conf")
        #expect(configuration.listeners.map(\.bufferSize) == [32 * 1024, 4096])
        #expect(ListenerConfiguration(listenPort: 1, proxyPass: "u").bufferSize == nil)
    }

    @Test("proxy_upload_rate and proxy_download_rate: 0 by default, sizes, set in stream or server, 0 turns one off")
    func rates() throws {
        let configuration = try BalancerConfiguration.parse(
            """
            stream {
                proxy_download_rate 1011;
                proxy_upload_rate 1k;
                upstream u { server 127.0.0.1:1; }
                server { listen 8000; proxy_pass u; }
                server { listen 8001; proxy_pass u; proxy_download_rate 0; proxy_upload_rate 1m; }
            }
            """, file: "b.conf")
        #expect(configuration.listeners.map(\.downloadRate) == [1011, 0])
        #expect(configuration.listeners.map(\.uploadRate) == [1024, 1024 * 1024])
        let plain = ListenerConfiguration(listenPort: 1, proxyPass: "u")
        #expect(plain.uploadRate == 0 && plain.downloadRate == 0)
    }

    @Test("proxy_connect_timeout 0 and proxy_timeout 0 are taken, as nginx takes them (nginx-tests' stream_status_variable.t)")
    func zeroTimes() throws {
        let configuration = try BalancerConfiguration.parse("""
            stream {
                upstream u { server 127.0.0.1:1; }
                server { listen 8000; proxy_pass u; proxy_connect_timeout 0; proxy_timeout 0s; }
            }
            """, file: "z.conf")
        #expect(configuration.listeners.map(\.connectTimeout) == [.zero])
        #expect(configuration.listeners.map(\.idleTimeout) == [.zero])
    }
}
