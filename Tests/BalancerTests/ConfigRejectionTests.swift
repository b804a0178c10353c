import Testing

@testable import Balancer

/// The refusals of the directives that the topical config suites read (accept_rate, the logs, the edge,
/// the storm options, check's limits), in one table: each row is the lines under test, placed by its
/// factory in the config around them (the suites' own text builders), the column the error must name
/// and a fragment of its message.
@Suite("Config: a refused config names file:line:column and says what is wrong")
struct ConfigRejectionTests {
    static let upstream = ConfigValidationTests.upstream

    static let refusals: [ConfigRejection] = [
        // accept_rate, at the end of a server block of two listens (line 4)
        .acceptRate("accept_rate 0;", 17, "invalid accept_rate \"0\": expected a whole number from 1 to 1000000"),
        .acceptRate("accept_rate 1000001;", 17, "invalid accept_rate \"1000001\""),
        .acceptRate("accept_rate fast;", 17, "invalid accept_rate \"fast\""),
        .acceptRate("accept_rate -5;", 17, "invalid accept_rate \"-5\""),
        .acceptRate("accept_rate burst=5;", 17, "\"accept_rate\" takes the rate first"),
        .acceptRate("accept_rate 10 burst=-1;", 20, "invalid burst \"-1\""),
        .acceptRate("accept_rate 10 burst=2000000;", 20, "invalid burst \"2000000\""),
        .acceptRate("accept_rate 10 limit=3;", 20, "invalid parameter \"limit=3\" in \"accept_rate\" (only burst=N)"),
        .acceptRate("accept_rate 10 burst;", 20, "invalid parameter \"burst\" in \"accept_rate\""),
        .acceptRate("accept_rate 10 proxy_timeout;", 20, "is a \";\" missing before it?"),
        .acceptRate("accept_rate;", 5, "invalid number of arguments in \"accept_rate\" directive"),
        .acceptRate("accept_rate 1 burst=1 x;", 5, "invalid number of arguments in \"accept_rate\" directive"),
        .acceptRate("accept_rate 10; accept_rate 20;", 21, "\"accept_rate\" directive is duplicate"),
        // access_log, at the end of a server block (line 5), with the stream's log_format `basic`
        .accessLog("access_log /var/log/a.log;", 5, "log format is not specified"),
        .accessLog("access_log /var/log/a.log nosuch;", 31, "unknown log format \"nosuch\""),
        .accessLog("access_log /var/log/a.log basic buffer=0;", 37, "invalid buffer size \"0\""),
        .accessLog("access_log /var/log/a.log basic buffer=1k flush=0;", 47, "invalid flush time \"0\""),
        .accessLog("access_log /var/log/a.log basic flush=1s;", 5, "no buffer is defined"),
        .accessLog("access_log /var/log/a.log basic gzip;", 37, "gzip access logs are not supported"),
        .accessLog("access_log /var/log/a.log basic if=$nosuch;", 40, "unknown \"nosuch\" variable"),
        .accessLog("access_log syslog:server=127.0.0.1 basic;", 16, "syslog is not supported"),
        .accessLog("access_log /var/log/$status.log basic;", 16, "variables in an access_log path"),
        .accessLog("access_log off basic;", 20, "invalid parameter \"basic\""),
        .accessLog("access_log /var/log/a.log basic buffer=1k buffer=2k;", 47, "duplicate parameter \"buffer\""),
        // a second log_format at stream level (line 3); columns count from its start
        .logFormat("log_format basic '$remote_addr';", 12, "duplicate \"log_format\" name \"basic\""),
        .logFormat("log_format b escape=xml '$remote_addr';", 14, "unknown log format escaping \"xml\""),
        .logFormat("log_format b 'x $nosuch';", 16, "unknown \"nosuch\" variable"),
        // edge directives at the end of a server block (line 5), with the stream's limit_conn_zone `addr`
        .edge("allow 10.0.0.300;", 11, "invalid address or CIDR \"10.0.0.300\""),
        .edge("deny 10.0.0.0/33;", 10, "invalid address or CIDR"),
        .edge("set_real_ip_from example.com;", 22, "invalid address or CIDR"),
        .edge("limit_conn nozone 1;", 16, "unknown limit_conn_zone \"nozone\""),
        .edge("limit_conn addr 0;", 21, "invalid number of connections \"0\""),
        .edge("limit_conn addr 1; limit_conn addr 2;", 24, "\"limit_conn addr\" is duplicate"),
        .edge("limit_conn_log_level loud;", 26, "invalid value \"loud\" in \"limit_conn_log_level\""),
        .edge("proxy_protocol yes;", 20, "it must be \"on\" or \"off\""),
        .edge("proxy_protocol_timeout -1;", 28, "proxy_protocol_timeout"),
        // limit_conn_zone at stream level (line 3)
        .limitConnZone("limit_conn_zone $host zone=a:1m;", 19, "limit_conn_zone key \"$host\" is not supported"),
        .limitConnZone("limit_conn_zone $remote_addr zone=a;", 32, "invalid zone \"zone=a\""),
        .limitConnZone("limit_conn_zone $remote_addr zone=a:1k;", 32, "invalid zone size \"1k\""),
        .limitConnZone("limit_conn_zone $remote_addr zone=a:1m; limit_conn_zone $remote_addr zone=a:2m;", 72, "duplicate zone \"a\""),
        // return in a server block of one listen (line 3); columns count from the directives after that listen
        .returnValue("proxy_pass u; return x;", 1, "\"proxy_pass\" and \"return\" (line 3) are in one \"server\" block"),
        .returnValue("return \"sent $upstream_addr\";", 8, "variable \"$upstream_addr\" is not known when \"return\" is sent"),
        .returnValue("return \"a $nosuch\";", 10, "unknown \"nosuch\" variable"),
        .returnValue("return a; return b;", 11, "is duplicate"),
        // a storm option of a zookeeper line (line 2)
        .stormOption("panic_threshold=101%", 49, "invalid panic_threshold \"101\""),
        .stormOption("panic_threshold=half", 49, "invalid panic_threshold \"half\""),
        .stormOption("suspect_timeout=0", 49, "invalid suspect_timeout \"0\""),
        .stormOption("slow_start=fast", 49, "invalid slow_start \"fast\""),
        .stormOption("flap_limit=-1", 49, "invalid flap_limit \"-1\""),
        .stormOption("flap_window=0s", 49, "invalid flap_window \"0s\""),
        .stormOption("flap_hold=1m flap_max_hold=30s", 49, "flap_max_hold (30.0 seconds) is shorter than flap_hold (60.0 seconds)"),
        // whole configs on one line: check's verdict is run's (issue #9, defect 5)
        // a ZooKeeper host without a port: run's client refuses it, so check does
        .oneLine("stream { upstream u { zookeeper zk1 path=/p; } server { listen 1; proxy_pass u; } }", 33, "a port is required"),
        .oneLine("stream { upstream u { zookeeper zk1:2181,zk2 path=/p; } server { listen 1; proxy_pass u; } }", 33, "a port is required"),
        .oneLine("stream { upstream u { zookeeper h:+1 path=/p; } server { listen 1; proxy_pass u; } }", 33, "invalid ZooKeeper host"),
        .oneLine("stream { upstream u { zookeeper h:1// path=/p; } server { listen 1; proxy_pass u; } }", 33, "invalid chroot"),
        .oneLine("stream { upstream u { zookeeper h:1/a/.. path=/p; } server { listen 1; proxy_pass u; } }", 33, "invalid chroot"),
        .oneLine("stream { \(upstream) server { listen 256.256.256.256:5; proxy_pass u; } }", 61, "an IP address is required"),
        .oneLine("stream { \(upstream) server { listen localhost:5; proxy_pass u; } }", 61, "an IP address is required"),
        .oneLine("stream { \(upstream) admin localhost:5; server { listen 6; proxy_pass u; } }", 51, "an IP address is required"),
        .oneLine("stream { \(upstream) admin \"127.0.0.1\\\\0:5\"; server { listen 6; proxy_pass u; } }", 51, "an IP address is required"),
        .oneLine("stream { \(upstream) admin \"127.0.0.1\u{0}:5\"; server { listen 6; proxy_pass u; } }", 51, "U+0000"),
        .oneLine("stream { upstream u { zookeeper h:1 \"path=/p\u{1}\"; } server { listen 1; proxy_pass u; } }", 37, "U+0001"),
        .oneLine("stream { upstream u { zookeeper h:1 path=/p \"auth_file=/a\u{7F}\"; } server { listen 1; proxy_pass u; } }", 45, "U+007F"),
        .oneLine("stream { upstream u { zookeeper h:1 path=/p \"auth_file=/a\\nb\"; } server { listen 1; proxy_pass u; } }", 45, "U+000A"),
        .oneLine("stream { upstream \"u\u{202E}\" { server 127.0.0.1:1; } server { listen 1; proxy_pass u; } }", 19, "U+202E"),
        // names, paths and hosts take no control character, even where a string value (return) would
        .oneLine("pid \"/run/a\nb.pid\"; stream { \(upstream) server { listen 1; proxy_pass u; } }", 5, "U+000A"),
        .oneLine("include \"a\u{1}.conf\"; stream { \(upstream) server { listen 1; proxy_pass u; } }", 9, "U+0001"),
        .oneLine("stream { log_format \"f\u{0}\" x; \(upstream) server { listen 1; proxy_pass u; } }", 21, "U+0000"),
        .oneLine("stream { upstream u { server \"127.0.0.1:1\n\"; } server { listen 1; proxy_pass u; } }", 30, "U+000A"),
        .oneLine("stream { \(upstream) server { listen 1; proxy_pass \"u\t\"; } }", 75, "unknown upstream \"u\\t\""),
        .oneLine("stream { upstream u { zookeeper h:1 path=/svc/..; } server { listen 1; proxy_pass u; } }", 37, "\"..\" segments"),
        .oneLine("stream { upstream u { zookeeper h:1 path=/svc/./x; } server { listen 1; proxy_pass u; } }", 37, "\"..\" segments"),
        .oneLine("stream { upstream u { zookeeper h:1 path=/; } server { listen 1; proxy_pass u; } }", 37, "the root cannot be a service path"),
        .oneLine("stream { \(upstream) server { listen [::1]:5; proxy_pass u; } server { listen [0:0::1]:5; proxy_pass u; } }", 95, "duplicate listen port 5"),
        .oneLine("stream { upstream u { server exa_mple:1; } server { listen 1; proxy_pass u; } }", 30, "expected an IP address or a DNS name"),
    ]

    @Test("refused with its position and reason", arguments: refusals)
    func refused(_ rejection: ConfigRejection) {
        expectRejected(rejection)
    }
}

/// Where each kind of row's lines stand: the config around them, the file's name and the line they are on.
extension ConfigRejection {
    static func acceptRate(_ serverLines: String, _ column: Int, _ message: String) -> Self {
        Self(AcceptRateConfigTests.text(serverLines), file: "a.conf", line: 4, column: column, message: message)
    }

    static func accessLog(_ serverLines: String, _ column: Int, _ message: String) -> Self {
        Self(
            AccessLogConfigTests.text(stream: AccessLogConfigTests.format, serverLines), file: "a.conf", line: 5, column: column,
            message: message)
    }

    /// `streamLines` after the stream's first log_format, `basic`; `column` counts from their start.
    static func logFormat(_ streamLines: String, _ column: Int, _ message: String) -> Self {
        let format = AccessLogConfigTests.format
        return Self(
            AccessLogConfigTests.text(stream: format + " " + streamLines), file: "a.conf", line: 3,
            column: column + format.count + 3, message: message)
    }

    static func edge(_ serverLines: String, _ column: Int, _ message: String) -> Self {
        Self(
            EdgeConfigTests.text(stream: "limit_conn_zone $binary_remote_addr zone=addr:64k;", serverLines), file: "a.conf",
            line: 5, column: column, message: message)
    }

    static func limitConnZone(_ streamLines: String, _ column: Int, _ message: String) -> Self {
        Self(EdgeConfigTests.text(stream: streamLines, ""), file: "a.conf", line: 3, column: column, message: message)
    }

    /// `serverLines` after the server's `listen 8000;`; `column` counts from their start.
    static func returnValue(_ serverLines: String, _ column: Int, _ message: String) -> Self {
        Self(
            "stream {\n  upstream u { server 127.0.0.1:6000; }\n  server { listen 8000; \(serverLines) }\n}", file: "a.conf",
            line: 3, column: column + 24, message: message)
    }

    static func stormOption(_ option: String, _ column: Int, _ message: String) -> Self {
        Self(StormConfigTests.text(zookeeperOptions: option), file: "b.conf", line: 2, column: column, message: message)
    }

    static func oneLine(_ text: String, _ column: Int, _ message: String) -> Self {
        Self(text, file: "v.conf", line: 1, column: column, message: message)
    }

    /// A whole config, `ConfigParserTests`' rows.
    static func bad(text: String, line: Int, column: Int, message: String) -> Self {
        Self(text, file: "bad.conf", line: line, column: column, message: message)
    }
}
