import Testing

@testable import Balancer

/// The reload's decisions, exactly and without sockets: what `BalancerController` carries out.
@Suite("reload plan: start and reload as steps")
struct ReloadPlanTests {
    static func config(_ body: String) throws -> BalancerConfiguration {
        try BalancerConfiguration.parse("stream {\n\(body)\n}", file: "plan.conf")
    }

    static let zk = "zookeeper 127.0.0.1:2181 path=/muster/services/chat"

    @Test("start: groups, then every bind (one per key), then the rest, feeds last")
    func start() throws {
        let new = try BalancerConfiguration.parse(
            """
            events { worker_connections 100; }
            stream {
              upstream a { server 127.0.0.1:1; }
              upstream b { \(Self.zk); }
              server { listen 127.0.0.1:8000; proxy_pass a; }
              server { listen 0; proxy_pass b; }
              server { listen 0; proxy_pass a; }
            }
            """, file: "plan.conf")
        let steps = try ReloadPlan.steps(from: nil, to: new)
        #expect(steps == [
            .addUpstream(new.upstreams[0]), .addUpstream(new.upstreams[1]),
            .bindListener(new.listeners[0]), .bindListener(new.listeners[1]),
            .setConnectionLimit(100),
            .startFeed(upstream: "b", source: try #require(new.upstreams[1].zookeeper)),
        ])
    }

    @Test("the same configuration again changes nothing")
    func unchanged() throws {
        let text = "upstream a { \(Self.zk); server 127.0.0.1:1; }\nserver { listen 8000; proxy_pass a; }\nadmin 127.0.0.1:9;"
        #expect(try ReloadPlan.steps(from: Self.config(text), to: Self.config(text)).isEmpty)
    }

    @Test("listeners: new ones bound first, kept ones retargeted when their settings or group change, gone ones closed")
    func listeners() throws {
        let old = try Self.config(
            """
            upstream a { server 127.0.0.1:1; }
            upstream b { server 127.0.0.1:2; }
            server { listen 8000; proxy_pass a; }
            server { listen 8001; proxy_pass a; }
            server { listen 8002; proxy_pass b; }
            server { listen 8003; proxy_pass b; }
            """)
        let new = try Self.config(
            """
            upstream a { server 127.0.0.1:1; }
            upstream b { least_conn; server 127.0.0.1:2; }
            server { listen 8000; proxy_pass a; }
            server { listen 8001; proxy_pass a; proxy_timeout 5s; }
            server { listen 8002; proxy_pass b; }
            server { listen 8004; proxy_pass a; }
            """)
        let steps = try ReloadPlan.steps(from: old, to: new)
        #expect(steps == [
            .bindListener(new.listeners[3]),
            .reconfigureUpstream(new.upstreams[1]),
            // 8001's own settings changed; 8002's group was reconfigured (its route reads the method).
            .retargetListener(new.listeners[1]), .retargetListener(new.listeners[2]),
            .closeListener(key: "0.0.0.0:8003"),
        ])
    }

    @Test("a listener may move to another group; a group that goes is removed after its listeners")
    func groups() throws {
        let old = try Self.config(
            """
            upstream a { server 127.0.0.1:1; }
            upstream gone { server 127.0.0.1:2; }
            server { listen 8000; proxy_pass gone; }
            """)
        let new = try Self.config(
            """
            upstream a { server 127.0.0.1:1; }
            upstream fresh { server 127.0.0.1:3; }
            server { listen 8000; proxy_pass fresh; }
            """)
        #expect(try ReloadPlan.steps(from: old, to: new) == [
            .addUpstream(new.upstreams[1]),
            .retargetListener(new.listeners[0]),
            .removeUpstream(name: "gone"),
        ])
    }

    @Test("what applies only after a restart is kept and reported; admin limits and worker_connections apply")
    func kept() throws {
        let old = try BalancerConfiguration.parse(
            "worker_processes 2;\nstream { admin 127.0.0.1:9; upstream a { server 127.0.0.1:1; } server { listen 8000 backlog=100; proxy_pass a; } }",
            file: "plan.conf")
        let new = try BalancerConfiguration.parse(
            """
            worker_processes 3;
            events { worker_connections 10; }
            stream { admin 127.0.0.1:10 max_connections=5; upstream a { server 127.0.0.1:1; } server { listen 8000 backlog=200; proxy_pass a; } }
            """, file: "plan.conf")
        #expect(try ReloadPlan.steps(from: old, to: new) == [
            .retargetListener(new.listeners[0]),
            .keep(.backlog(key: "0.0.0.0:8000")),
            .keep(.workerProcesses),
            .keep(.adminAddress),
            .setAdminLimits(new.adminLimits),
            .setConnectionLimit(10),
        ])
        // With --admin the directive does not decide the address, so its change is no news.
        #expect(!(try ReloadPlan.steps(from: old, to: new, adminFromFlag: true)).contains(.keep(.adminAddress)))
        // worker_connections removed: the limit is lifted.
        #expect(try ReloadPlan.steps(from: new, to: old).contains(.setConnectionLimit(nil)))
    }

    @Test("multi_accept applies on reload when it changed, and only then")
    func multiAccept() throws {
        let stream = "stream { upstream a { server 127.0.0.1:1; } server { listen 8000; proxy_pass a; } }"
        let on = try BalancerConfiguration.parse("events { multi_accept on; }\n\(stream)", file: "plan.conf")
        let off = try BalancerConfiguration.parse("events { multi_accept off; }\n\(stream)", file: "plan.conf")
        #expect(try ReloadPlan.steps(from: on, to: off) == [.setMultiAccept(false)])
        #expect(try ReloadPlan.steps(from: off, to: on) == [.setMultiAccept(true)])
        #expect(try ReloadPlan.steps(from: off, to: off).isEmpty)
    }

    @Test("feeds: a changed or failed source is restarted, a gone one stopped, a new one started")
    func feeds() throws {
        let old = try Self.config(
            """
            upstream same { \(Self.zk); }
            upstream moved { \(Self.zk); }
            upstream dropped { \(Self.zk); server 127.0.0.1:1; }
            upstream gone { \(Self.zk); }
            upstream added { server 127.0.0.1:2; }
            server { listen 8000; proxy_pass same; }
            """)
        let new = try Self.config(
            """
            upstream same { \(Self.zk); }
            upstream moved { zookeeper 127.0.0.1:2182 path=/muster/services/chat; }
            upstream dropped { server 127.0.0.1:1; }
            upstream added { \(Self.zk); server 127.0.0.1:2; }
            server { listen 8000; proxy_pass same; }
            """)
        let moved = try #require(new.upstreams[1].zookeeper)
        let added = try #require(new.upstreams[3].zookeeper)
        #expect(try ReloadPlan.steps(from: old, to: new) == [
            .reconfigureUpstream(new.upstreams[1]), .reconfigureUpstream(new.upstreams[2]), .reconfigureUpstream(new.upstreams[3]),
            .removeUpstream(name: "gone"),
            .stopFeed(upstream: "moved"), .stopFeed(upstream: "dropped"), .stopFeed(upstream: "gone"),
            .startFeed(upstream: "moved", source: moved), .startFeed(upstream: "added", source: added),
        ])
        // A feed that failed (bad auth file) is retried by any reload, even with an unchanged source.
        let same = try #require(old.upstreams[0].zookeeper)
        #expect(try ReloadPlan.steps(from: old, to: old, failedFeeds: ["same"]) == [
            .stopFeed(upstream: "same"), .startFeed(upstream: "same", source: same),
        ])
    }

    @Test("a proxy_pass to a group that is not defined is refused before any step")
    func unknownUpstream() throws {
        var new = try Self.config("upstream a { server 127.0.0.1:1; }\nserver { listen 8000; proxy_pass a; }")
        new.listeners[0].proxyPass = "nowhere"
        #expect {
            try ReloadPlan.steps(from: nil, to: new)
        } throws: { error in
            if case .unknownUpstream("nowhere") = error as? BalancerError { return true }
            return false
        }
    }

    @Test("a main error_log that changed retargets the listeners that inherit it, not those with their own")
    func mainErrorLog() throws {
        func config(_ main: String) throws -> BalancerConfiguration {
            try BalancerConfiguration.parse(
                """
                error_log \(main) info;
                stream {
                  upstream a { server 127.0.0.1:1; }
                  server { listen 8000; proxy_pass a; }
                  server { listen 8001; proxy_pass a; error_log /var/log/own.log; }
                }
                """, file: "plan.conf")
        }
        let old = try config("/var/log/a.log")
        let new = try config("/var/log/b.log")
        #expect(try ReloadPlan.steps(from: old, to: new) == [.retargetListener(new.listeners[0])])
        #expect(try ReloadPlan.steps(from: old, to: old).isEmpty)
    }
}
