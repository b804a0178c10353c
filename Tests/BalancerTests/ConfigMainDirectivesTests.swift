import Foundation
import Testing

@testable import Balancer

@Suite("Config: main context, events and error_log")
struct ConfigMainDirectivesTests {
    static let stream = "stream { upstream u { server 127.0.0.1:6000; } server { listen 8000; proxy_pass u; } }"

    static func parse(_ main: String, file: String = "/etc/muster/m.conf", prefix: String? = nil, globals: String? = nil) throws(ConfigError) -> BalancerConfiguration {
        try BalancerConfiguration.parse(bytes: Array("\(main)\n\(stream)".utf8), file: file, prefix: prefix, globals: globals)
    }

    static func failure(_ main: String, globals: String? = nil) -> ConfigError? {
        do {
            _ = try parse(main, globals: globals)
            return nil
        } catch {
            return error
        }
    }

    @Test("a stock main context: user, worker_processes, pid, error_log, worker_rlimit_nofile, load_module, daemon off")
    func stockMain() throws {
        let configuration = try Self.parse("""
            user www-data;
            worker_processes auto;
            pid /run/nginx.pid;
            error_log /var/log/nginx/error.log;
            error_log stderr notice;
            worker_rlimit_nofile 65536;
            load_module modules/ngx_stream_module.so;
            load_module /usr/lib/nginx/modules/ngx_stream_module.so;
            daemon off;
            """)
        #expect(configuration.user == UserConfiguration(user: "www-data", origin: "user, /etc/muster/m.conf:1:1"))
        #expect(configuration.workerProcesses == nil)
        #expect(configuration.pidFile == "/run/nginx.pid")
        #expect(configuration.errorLogs == [
            ErrorLogConfiguration(destination: .file("/var/log/nginx/error.log"), level: .error),
            ErrorLogConfiguration(destination: .standardError, level: .notice),
        ])
        #expect(configuration.openFileLimit == 65536)
    }

    @Test("none of them given: no user change, no pid file, the balancer's own log, the raised limit")
    func defaults() throws {
        let configuration = try Self.parse("")
        #expect(configuration.user == nil)
        #expect(configuration.pidFile == nil)
        #expect(configuration.errorLogs.isEmpty)
        #expect(configuration.openFileLimit == nil)
        #expect(configuration.multiAccept)
        #expect(configuration.listeners.map(\.errorLogs) == [[]])
    }

    @Test("user with a group; every nginx level name")
    func userGroupAndLevels() throws {
        #expect(try Self.parse("user nobody nogroup;").user?.group == "nogroup")
        let levels = ["debug", "info", "notice", "warn", "error", "crit", "alert", "emerg"]
        let parsed = try levels.map { name in try Self.parse("error_log stderr \(name);").errorLogs.first?.level }
        #expect(parsed == [.debug, .info, .notice, .warning, .error, .critical, .critical, .critical])
    }

    @Test("relative pid and error_log paths are resolved against the prefix, else the config file's folder")
    func relativePaths() throws {
        #expect(try Self.parse("pid run/m.pid;").pidFile == "/etc/muster/run/m.pid")
        #expect(try Self.parse("pid run/m.pid;", prefix: "/srv/t/").pidFile == "/srv/t/run/m.pid")
        #expect(try Self.parse("error_log e.log;", prefix: "/srv/t").errorLogs.first?.destination == .file("/srv/t/e.log"))
    }

    @Test("events: use epoll, multi_accept, accept_mutex")
    func events() throws {
        let on = try Self.parse("events { use epoll; worker_connections 768; multi_accept on; accept_mutex off; }")
        #expect(on.multiAccept && on.workerConnections == 768)
        #expect(try Self.parse("events { multi_accept off; }").multiAccept == false)
    }

    @Test("error_log in stream is every server's default; a server's own replaces it")
    func errorLogInheritance() throws {
        let configuration = try BalancerConfiguration.parse("""
            error_log /l/main.log;
            stream {
                error_log /l/stream.log info;
                upstream u { server 127.0.0.1:6000; }
                server { listen 8000; proxy_pass u; }
                server { listen 8001; proxy_pass u; error_log /l/8001.log warn; error_log stderr; }
            }
            """, file: "/x/m.conf")
        #expect(configuration.errorLogs == [ErrorLogConfiguration(destination: .file("/l/main.log"))])
        #expect(configuration.listeners.map(\.errorLogs) == [
            [ErrorLogConfiguration(destination: .file("/l/stream.log"), level: .info)],
            [ErrorLogConfiguration(destination: .file("/l/8001.log"), level: .warning), ErrorLogConfiguration(destination: .standardError)],
        ])
    }

    @Test("--global directives are read before the file's, and named in errors")
    func globals() throws {
        let configuration = try Self.parse("", globals: "pid /t/nginx.pid; error_log /t/error.log debug;")
        #expect(configuration.pidFile == "/t/nginx.pid")
        #expect(configuration.errorLogs.first?.level == .debug)
        let duplicate = try #require(Self.failure("pid /run/other.pid;", globals: "pid /t/nginx.pid;"))
        #expect(duplicate.description == "/etc/muster/m.conf:1:1: \"pid\" directive is duplicate")
        let bad = try #require(Self.failure("", globals: "pid /t/nginx.pid; bogus 1;"))
        #expect(bad.description.hasPrefix("--global:1:19: unknown or unsupported directive \"bogus\""))
    }

    @Test("refused with their position and a reason", arguments: [
        ("daemon on;", 1, 8, "\"daemon on\" is not supported: Muster stays in the foreground"),
        ("load_module modules/ngx_http_geoip_module.so;", 1, 13, "module \"ngx_http_geoip_module.so\" is not available"),
        ("error_log stderr loud;", 1, 18, "invalid log level \"loud\""),
        ("worker_rlimit_nofile 0;", 1, 22, "invalid worker_rlimit_nofile \"0\""),
        ("user;", 1, 1, "invalid number of arguments in \"user\""),
        ("user a b c;", 1, 1, "invalid number of arguments in \"user\""),
        ("pid a.pid;\npid b.pid;", 2, 1, "\"pid\" directive is duplicate"),
        ("events { multi_accept maybe; }", 1, 23, "it must be \"on\" or \"off\""),
        ("http { server { listen 80; } }", 1, 1, "Muster proxies \"stream\" (TCP) only; the http part belongs to a web server"),
    ])
    func refused(text: String, line: Int, column: Int, message: String) throws {
        let error = try #require(Self.failure(text))
        #expect(error.message.contains(message), "message was: \(error.message)")
        #expect(error.line == line && error.column == column, "\(error)")
    }
}
