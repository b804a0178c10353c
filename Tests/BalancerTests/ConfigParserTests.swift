import Foundation
import NIOCore
import Testing

@testable import Balancer

@Suite("Config parser")
struct ConfigParserTests {
    @Test("the original nginx-stream.conf fixture is byte for byte the original")
    func fixtureIsVerbatim() {
        let bytes = Array(NginxStreamFixture.text.utf8)
        #expect(bytes.count == NginxStreamFixture.byteCount)
        #expect(CRC32.checksum(bytes) == NginxStreamFixture.crc32)
    }

    @Test("the original nginx-stream.conf parses unchanged")
    func originalFile() throws {
        let configuration = try BalancerConfiguration.parse(NginxStreamFixture.text, file: "nginx-stream.conf")
        #expect(configuration.workerConnections == 1024)
        #expect(configuration.admin == nil)
        #expect(configuration.upstreams == [
            UpstreamConfiguration(
                name: "MyServer",
                method: .roundRobin,
                servers: [
                    StaticServer(host: "127.0.0.1", port: 6000, weight: 1, maxFails: 3, failTimeout: .seconds(30)),
                    StaticServer(host: "127.0.0.1", port: 6002, weight: 1, maxFails: 3, failTimeout: .seconds(30)),
                ]
            )
        ])
        #expect(configuration.listeners == [
            ListenerConfiguration(
                listenHost: "0.0.0.0", listenPort: 8000, backlog: 4096, proxyPass: "MyServer",
                connectTimeout: .seconds(1), idleTimeout: .seconds(600), nextUpstream: true,
                nextUpstreamTries: 0, nextUpstreamTimeout: .zero, tcpNoDelay: true
            )
        ])
    }

    @Test("the same server address twice is two server lines, as nginx takes it")
    func duplicateServers() throws {
        let configuration = try BalancerConfiguration.parse(
            "stream {\n  upstream u { server 127.0.0.1:1 weight=2; server 127.0.0.1:1; }\n  server { listen 1; proxy_pass u; }\n}",
            file: "twice.conf")
        #expect(configuration.upstream(named: "u")?.servers == [
            StaticServer(host: "127.0.0.1", port: 1, weight: 2), StaticServer(host: "127.0.0.1", port: 1),
        ])
    }

    @Test("load(path:) reads the file as bytes")
    func loadFromFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("muster-config-\(UUID().uuidString).conf").path
        try Data(NginxStreamFixture.text.utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let configuration = try BalancerConfiguration.load(path: path)
        #expect(configuration.listeners.first?.listenPort == 8000)
        #expect(configuration.upstream(named: "MyServer")?.servers.count == 2)
    }

    @Test("a missing file is a ConfigError naming the file")
    func missingFile() {
        #expect {
            try BalancerConfiguration.load(path: "/nonexistent/muster.conf")
        } throws: { error in
            guard let error = error as? ConfigError else { return false }
            return error.file == "/nonexistent/muster.conf" && error.message.contains("cannot read")
        }
    }

    @Test("a directory or an endless file is a clear error, not a hang")
    func unreadable() {
        for path in [FileManager.default.temporaryDirectory.path, "/dev/zero"] {
            #expect {
                try BalancerConfiguration.load(path: path)
            } throws: { error in
                (error as? ConfigError)?.file == path
            }
        }
    }

    @Test("deeply nested blocks are refused, not recursed into")
    func deepNesting() {
        let text = String(repeating: "a {", count: 10_000) + String(repeating: "}", count: 10_000)
        #expect {
            try BalancerConfiguration.parse(text, file: "deep.conf")
        } throws: { error in
            (error as? ConfigError)?.message.contains("nested too deeply") == true
        }
    }

    @Test("defaults are nginx's, except backlog 4096")
    func defaults() throws {
        let configuration = try BalancerConfiguration.parse(
            """
            stream {
                upstream u { server 10.0.0.1:1; }
                server { listen 9000; proxy_pass u; }
            }
            """, file: "t.conf")
        let server = try #require(configuration.listeners.first)
        #expect(server == ListenerConfiguration(listenPort: 9000, proxyPass: "u"))
        #expect(server.connectTimeout == .seconds(60))
        #expect(server.idleTimeout == .seconds(600))
        #expect(server.backlog == 4096)
        #expect(server.nextUpstream && server.tcpNoDelay)
        #expect(server.nextUpstreamTries == 0 && server.nextUpstreamTimeout == .zero)
        let member = try #require(configuration.upstreams.first?.servers.first)
        #expect(member == StaticServer(host: "10.0.0.1", port: 1, weight: 1, maxFails: 1, failTimeout: .seconds(10), maxConns: 0, backup: false, down: false))
        #expect(configuration.workerConnections == nil)
    }

    @Test("every supported directive and parameter")
    func everything() throws {
        let text = """
            events { worker_connections 20000; }
            stream {
                admin 127.0.0.1:8001;
                proxy_connect_timeout 2s;   # stream-level default, inherited
                tcp_nodelay off;
                proxy_half_close off;       # stream-level default, inherited by the sticky server
                upstream chat {
                    least_conn;
                    server 127.0.0.1:6000 weight=5 max_fails=0 fail_timeout=1m30s max_conns=100;
                    server [::1]:6001 backup;
                    server backend.example:6002 down;
                    zookeeper 127.0.0.1:2181,127.0.0.2:2181/muster path=/muster/services/chat auth_file=/etc/muster/zk.auth session_timeout=4s max_fails=2 fail_timeout=5s;
                }
                upstream sticky { hash $remote_addr consistent; server 10.0.0.1:1; server 10.0.0.2:1; }
                upstream plain { hash $remote_addr; server 10.0.0.1:1; }
                upstream keyed { hash "$proxy_protocol_addr:$remote_port" consistent; server 10.0.0.1:1; }
                upstream rnd { random; server 10.0.0.1:1; }
                upstream rnd2 { random two least_conn; server 10.0.0.1:1; }
                upstream zkonly { zookeeper zk:2181 path=/p; }
                server {
                    listen 127.0.0.1:8000 backlog=65535 reuseport;
                    listen [::]:8002;
                    proxy_pass chat;
                    proxy_timeout 1h;
                    proxy_next_upstream off;
                    proxy_next_upstream_tries 3;
                    proxy_next_upstream_timeout 500ms;
                    tcp_nodelay on;
                    proxy_half_close on;
                }
                server { listen *:8001; proxy_pass sticky; proxy_connect_timeout 250ms; }
            }
            """
        let configuration = try BalancerConfiguration.parse(text, file: "all.conf")
        #expect(configuration.workerConnections == 20000)
        #expect(configuration.admin == "127.0.0.1:8001")
        let chat = try #require(configuration.upstream(named: "chat"))
        #expect(chat.method == .leastConn)
        #expect(chat.servers == [
            StaticServer(host: "127.0.0.1", port: 6000, weight: 5, maxFails: 0, failTimeout: .seconds(90), maxConns: 100),
            StaticServer(host: "::1", port: 6001, backup: true),
            StaticServer(host: "backend.example", port: 6002, down: true),
        ])
        #expect(chat.zookeeper == ZooKeeperSource(
            connectString: "127.0.0.1:2181,127.0.0.2:2181/muster", path: "/muster/services/chat",
            authFile: "/etc/muster/zk.auth", sessionTimeout: .seconds(4), maxFails: 2, failTimeout: .seconds(5)))
        #expect(configuration.upstream(named: "sticky")?.method == .hash(consistent: true))
        #expect(configuration.upstream(named: "plain")?.method == .hash(consistent: false))
        #expect(configuration.upstream(named: "keyed")?.method.algorithm.description == "hash $proxy_protocol_addr:$remote_port consistent")
        #expect(configuration.upstream(named: "rnd")?.method == .random(two: false))
        #expect(configuration.upstream(named: "rnd2")?.method == .random(two: true))
        #expect(configuration.upstream(named: "zkonly")?.servers == [])
        #expect(configuration.upstream(named: "zkonly")?.zookeeper?.sessionTimeout == .seconds(10))
        #expect(configuration.listeners.count == 3)
        let first = ListenerConfiguration(
            listenHost: "127.0.0.1", listenPort: 8000, backlog: 65535, reusePort: true, proxyPass: "chat",
            connectTimeout: .seconds(2), idleTimeout: .seconds(3600), nextUpstream: false,
            nextUpstreamTries: 3, nextUpstreamTimeout: .milliseconds(500), tcpNoDelay: true, halfClose: true)
        #expect(configuration.listeners[0] == first)
        var second = first
        second.listenHost = "::"
        second.listenPort = 8002
        second.backlog = 4096
        second.reusePort = false
        #expect(configuration.listeners[1] == second)
        #expect(configuration.listeners[2] == ListenerConfiguration(
            listenHost: "0.0.0.0", listenPort: 8001, proxyPass: "sticky",
            connectTimeout: .milliseconds(250), tcpNoDelay: false, halfClose: false))
    }

    @Test("the example in docs/config.md parses")
    func readmeExample() throws {
        // The example is read from the page itself, so the documented file and the tested one are one.
        let page = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/config.md")
        let markdown = try String(contentsOf: page, encoding: .utf8)
        let block = try #require(markdown.components(separatedBy: "```nginx\n").dropFirst().first)
        let text = try #require(block.components(separatedBy: "\n```").first)
        let configuration = try BalancerConfiguration.parse(text, file: "docs/config.md")
        #expect(configuration.listeners == [ListenerConfiguration(listenPort: 8000, backlog: 8192, proxyPass: "chat", connectTimeout: .seconds(1))])
        #expect(configuration.upstreams.first?.zookeeper?.maxFails == 3)
        #expect(configuration.upstreams.first?.servers.map(\.backup) == [false, true])
    }

    @Test("listen 0 asks for an ephemeral port and never clashes")
    func ephemeralListen() throws {
        let configuration = try BalancerConfiguration.parse(
            "stream { upstream u { server 127.0.0.1:1; } server { listen 127.0.0.1:0; listen 0; proxy_pass u; } }", file: "t.conf")
        #expect(configuration.listeners.map(\.listenPort) == [0, 0])
        #expect(configuration.listeners.map(\.listenHost) == ["127.0.0.1", "0.0.0.0"])
    }

    @Test("quoted arguments, escapes, comments glued to words, CRLF and a BOM")
    func lexicalDetails() throws {
        let text = "\u{FEFF}# héllo wörld ✓\r\nstream {\r\n  upstream \"my up\" { server 'a.example:1' weight=2#notacomment; }\r\n"
            + "  server { listen 1; proxy_pass \"my up\"; } # 注释\r\n}\r\n"
        #expect(throws: ConfigError.self) { try BalancerConfiguration.parse(text, file: "q.conf") }
        let fixed = text.replacingOccurrences(of: "weight=2#notacomment", with: "weight=2")
        let configuration = try BalancerConfiguration.parse(fixed, file: "q.conf")
        #expect(configuration.upstreams[0].name == "my up")
        #expect(configuration.upstreams[0].servers[0].host == "a.example")
        #expect(configuration.upstreams[0].servers[0].weight == 2)
    }

    @Test("worker_processes sets the event loops: a number, auto (one per core), an option overrides it")
    func workerProcesses() throws {
        let stream = "stream {\n  \(Self.base)  server { listen 8000; proxy_pass u; }\n}"
        let three = try BalancerConfiguration.parse("worker_processes 3;\n" + stream, file: "w.conf")
        #expect(three.workerProcesses == 3)
        let auto = try BalancerConfiguration.parse("worker_processes auto;\n" + stream, file: "w.conf")
        #expect(auto.workerProcesses == nil)
        #expect(BalancerController.eventLoopCount(configuration: three, options: .init()) == 3)
        #expect(BalancerController.eventLoopCount(configuration: three, options: .init(eventLoopThreads: 2)) == 2)
        #expect(BalancerController.eventLoopCount(configuration: auto, options: .init()) == System.coreCount)
    }

    @Test("durations as nginx writes them", arguments: [
        ("500ms", Duration.milliseconds(500)), ("1s", .seconds(1)), ("30s", .seconds(30)), ("10m", .seconds(600)),
        ("1h", .seconds(3600)), ("1m30s", .seconds(90)), ("1h 30m", .seconds(5400)), ("15", .seconds(15)),
        ("1d", .seconds(86400)), ("1w", .seconds(604_800)), ("2s500ms", .milliseconds(2500)), ("0", .zero),
    ])
    func durations(text: String, expected: Duration) {
        #expect((try? ConfigReader.parseDuration(text)) == expected)
    }

    @Test("bad durations", arguments: ["", "s", "1x", "1s1m", "1ms1s", "-1s", "1.5s", "1s 1s", "99999999999999y", "ms", "1 2"])
    func badDurations(text: String) {
        #expect((try? ConfigReader.parseDuration(text)) == nil)
    }

    static let base = "upstream u { server 127.0.0.1:6000; }\n"

    static let badConfigs: [ConfigRejection] = [
        .bad(text: "http {\n}\n", line: 1, column: 1, message: "\"http\" blocks are not supported"),
        .bad(text: "events { use kqueue; }\nstream {}", line: 1, column: 14, message: "invalid event type \"kqueue\": Muster uses \"epoll\" only"),
        .bad(text: "events { lock_file x; }\nstream {}", line: 1, column: 10, message: "unknown or unsupported directive \"lock_file\" in \"events\" (only \"worker_connections\", \"use\", \"multi_accept\" and \"accept_mutex\" are supported)"),
        .bad(text: "worker_processes 0;\nstream {}", line: 1, column: 18, message: "invalid worker_processes \"0\": expected \"auto\" or a whole number from 1 to 1024"),
        .bad(text: "worker_processes two;\nstream {}", line: 1, column: 18, message: "invalid worker_processes \"two\""),
        .bad(text: "worker_processes 2;\nworker_processes 2;\nstream {}", line: 2, column: 1, message: "duplicate"),
        .bad(text: "lock_file /run/nginx.lock;\nstream {}", line: 1, column: 1, message: "unknown or unsupported directive \"lock_file\" in the main context (only \"worker_processes\", \"events\", \"stream\", "),
        .bad(text: "stream {\n  \(base)  server { listen 8000; proxy_pass u; frobnicate on; }\n}", line: 3, column: 39, message: "unknown or unsupported directive \"frobnicate\""),
        .bad(text: "stream {\n  \(base)  server { listen 8000; proxy_pass u }\n}", line: 3, column: 38, message: "directive \"proxy_pass\" (line 3) is not terminated by \";\""),
        .bad(text: "stream {\n  \(base)  server { listen 8000\n    proxy_pass u; }\n}", line: 4, column: 5, message: "unsupported parameter \"proxy_pass\" in \"listen\" (only backlog=N, reuseport and proxy_protocol are supported); is a \";\" missing before it?"),
        .bad(text: "stream {\n  \(base)  server { listen 8000; proxy_pass nope; }\n}", line: 3, column: 36, message: "unknown upstream \"nope\""),
        .bad(text: "stream {\n  \(base)  server { listen 8000; proxy_pass $server_port; }\n}", line: 3, column: 36, message: "variables in \"proxy_pass\" are not supported (\"$server_port\")"),
        .bad(text: "stream {\n  \(base)  server { listen 8000; proxy_pass example.com:$remote_port; }\n}", line: 3, column: 36, message: "variables in \"proxy_pass\" are not supported"),
        .bad(text: "stream {\n  \(base)  server { listen 8000; proxy_pass u; }\n  server { listen 8000; proxy_pass u; }\n}", line: 4, column: 12, message: "duplicate listen port 8000"),
        .bad(text: "stream {\n  upstream h { hash $remote_addr;\n    server 127.0.0.1:1;\n    server 127.0.0.1:2 backup; }\n  server { listen 1; proxy_pass h; }\n}", line: 4, column: 24, message: "does not support the \"backup\" parameter"),
        .bad(text: "stream {\n  upstream r { server 127.0.0.1:1; server 127.0.0.1:2 backup; random two; }\n  server { listen 1; proxy_pass r; }\n}", line: 2, column: 55, message: "does not support the \"backup\" parameter"),
        .bad(text: "stream {\n  upstream u { server 127.0.0.1:1 weight=0; }\n  server { listen 1; proxy_pass u; }\n}", line: 2, column: 35, message: "invalid weight \"0\""),
        .bad(text: "stream {\n  upstream u { server 127.0.0.1:1 fail_timeout=3x; }\n  server { listen 1; proxy_pass u; }\n}", line: 2, column: 35, message: "invalid fail_timeout \"3x\""),
        .bad(text: "stream {\n  \(base)  server { listen 1; proxy_pass u; proxy_timeout 1w106751991167d; }\n}", line: 3, column: 50, message: "invalid proxy_timeout \"1w106751991167d\": longer than the largest supported duration (366d)"),
        .bad(text: "stream {\n  upstream u { server 127.0.0.1:1 fail_timeout=9223372036854775807h; }\n  server { listen 1; proxy_pass u; }\n}", line: 2, column: 35, message: "invalid fail_timeout \"9223372036854775807h\": longer than the largest supported duration"),
        .bad(text: "stream {\n  upstream u { server 127.0.0.1; }\n  server { listen 1; proxy_pass u; }\n}", line: 2, column: 23, message: "no port in upstream server \"127.0.0.1\""),
        .bad(text: "stream {\n  upstream u { server 127.0.0.1:70000; }\n  server { listen 1; proxy_pass u; }\n}", line: 2, column: 23, message: "invalid port"),
        .bad(text: "stream {\n  upstream u { server 127.0.0.1:1 resolve; }\n  server { listen 1; proxy_pass u; }\n}", line: 2, column: 35, message: "invalid parameter \"resolve\""),
        .bad(text: "stream {\n  upstream u { }\n  server { listen 1; proxy_pass u; }\n}", line: 2, column: 3, message: "no servers are inside upstream \"u\""),
        .bad(text: "stream {\n  \(base)  \(base)  server { listen 1; proxy_pass u; }\n}", line: 3, column: 3, message: "duplicate upstream \"u\""),
        .bad(text: "stream {\n  \(base)  server { listen 1; proxy_pass u; proxy_connect_timeout 1s; proxy_connect_timeout 2s; }\n}", line: 3, column: 62, message: "\"proxy_connect_timeout\" directive is duplicate"),
        .bad(text: "stream {\n  \(base)  server { listen 1; proxy_pass u; tcp_nodelay maybe; }\n}", line: 3, column: 48, message: "must be \"on\" or \"off\""),
        .bad(text: "stream {\n  \(base)  server { listen 1; proxy_pass u; proxy_half_close yes; }\n}", line: 3, column: 53, message: "must be \"on\" or \"off\""),
        .bad(text: "stream {\n  \(base)  server { listen 1; proxy_pass u; proxy_next_upstream_tries -1; }\n}", line: 3, column: 62, message: "invalid proxy_next_upstream_tries \"-1\""),
        .bad(text: "stream {\n  \(base)  server { listen 1; proxy_pass u; proxy_timeout 1s 2s; }\n}", line: 3, column: 36, message: "invalid number of arguments in \"proxy_timeout\""),
        .bad(text: "stream {\n  \(base)  server { proxy_pass u; }\n}", line: 3, column: 3, message: "no \"listen\" is defined"),
        .bad(text: "stream {\n  \(base)  server { listen 1; }\n}", line: 3, column: 3, message: "no \"proxy_pass\" or \"return\" is defined"),
        .bad(text: "stream {\n  \(base)  server { listen 1 udp; proxy_pass u; }\n}", line: 3, column: 21, message: "unsupported parameter \"udp\""),
        .bad(text: "stream {\n  \(base)  server { listen 1; proxy_pass 127.0.0.1:70000; }\n}", line: 3, column: 33, message: "invalid port in proxy_pass \"127.0.0.1:70000\""),
        .bad(text: "stream {\n  \(base)", line: 3, column: 1, message: "unexpected end of file, expecting \"}\" to close the \"stream\" block opened at line 1"),
        .bad(text: "stream { }\n}", line: 2, column: 1, message: "unexpected \"}\""),
        .bad(text: "stream { ; }", line: 1, column: 10, message: "unexpected \";\""),
        .bad(text: "stream {\n  upstream u { hash $request_uri; server 127.0.0.1:1; }\n  server { listen 1; proxy_pass u; }\n}", line: 2, column: 21, message: "invalid hash key: unknown \"request_uri\" variable"),
        .bad(text: "stream {\n  upstream u { hash \"k$upstream_addr$status\" consistent; server 127.0.0.1:1; }\n  server { listen 1; proxy_pass u; }\n}", line: 2, column: 21, message: "hash key variable $status, $upstream_addr is not known when a member is picked"),
        .bad(text: "stream {\n  upstream u { least_conn; random; server 127.0.0.1:1; }\n  server { listen 1; proxy_pass u; }\n}", line: 2, column: 28, message: "load balancing method redefined"),
        .bad(text: "stream {\n  upstream u { zookeeper 127.0.0.1:2181; }\n  server { listen 1; proxy_pass u; }\n}", line: 2, column: 16, message: "invalid number of arguments in \"zookeeper\""),
        .bad(text: "stream {\n  upstream u { zookeeper 127.0.0.1:2181 auth_file=/x; }\n  server { listen 1; proxy_pass u; }\n}", line: 2, column: 16, message: "needs path="),
        .bad(text: "stream {\n  upstream u { zookeeper 127.0.0.1:x path=/p; }\n  server { listen 1; proxy_pass u; }\n}", line: 2, column: 26, message: "invalid ZooKeeper host"),
        .bad(text: "stream {\n  upstream u { zookeeper h:1 path=p; }\n  server { listen 1; proxy_pass u; }\n}", line: 2, column: 30, message: "invalid path \"p\""),
        .bad(text: "stream {\n  upstream u { zookeeper h:1 path=/p password=x; }\n  server { listen 1; proxy_pass u; }\n}", line: 2, column: 38, message: "invalid parameter \"password=x\""),
        .bad(text: "events { worker_connections 0; }\nstream {}", line: 1, column: 29, message: "invalid worker_connections \"0\""),
        .bad(text: "events { }\n", line: 1, column: 1, message: "no \"stream\" block"),
        .bad(text: "stream {\n  \(base)}", line: 1, column: 1, message: "\"stream\" has no \"server\" block"),
        .bad(text: "stream {\n  upstream u { server 127.0.0.1:1 backup; }\n  server { listen 1; proxy_pass u; }\n}", line: 2, column: 3, message: "has only backup servers"),
        .bad(text: "stream { admin nowhere; }", line: 1, column: 16, message: "no port in admin address"),
        .bad(text: "stream {\n  upstream \"u\" { server \"127.0.0.1:1\"x; }\n}", line: 2, column: 38, message: "unexpected \"x\" right after a closing quote"),
        .bad(text: "stream {\n  upstream u { server \"127.0.0.1:1; }\n}\n", line: 2, column: 23, message: "the quote opened here is never closed"),
        // Columns count characters: the error after the non-ASCII comment text still points at "bogus".
        .bad(text: "stream { # 所有连接\n  upstream u { server 127.0.0.1:1; } bogus; }", line: 2, column: 38, message: "unknown or unsupported directive \"bogus\""),
        .bad(text: "stream {\n  upstream ü { server 127.0.0.1:1; }\n  server { listen 1; proxy_pass ü; }\n  server { listen 1; proxy_pass ü; }\n}", line: 4, column: 12, message: "duplicate listen port 1"),
    ]

    @Test("errors name file:line:column and say what is wrong", arguments: badConfigs)
    func errors(bad: ConfigRejection) {
        expectRejected(bad)
    }
}
