import MusterBase
import Testing

@Suite("endpoint: one host:port syntax, one way to write it")
struct EndpointTests {
    @Test("written with IPv6 hosts in brackets, so the port stays unambiguous")
    func description() {
        #expect(Endpoint(host: "127.0.0.1", port: 6000).description == "127.0.0.1:6000")
        #expect(Endpoint(host: "chat.example", port: 1).description == "chat.example:1")
        #expect(Endpoint(host: "::1", port: 6000).description == "[::1]:6000")
        #expect(Endpoint(host: "2001:db8::7", port: 80).bracketedHost == "[2001:db8::7]")
    }

    @Test("what is written reads back as the same endpoint", arguments: [
        Endpoint(host: "10.0.0.5", port: 1), Endpoint(host: "::", port: 65535), Endpoint(host: "a-b.example", port: 8000),
        Endpoint(host: "::ffff:10.0.0.1", port: 7),
    ])
    func roundTrip(_ endpoint: Endpoint) throws {
        #expect(try Endpoint.parse(endpoint.description) == endpoint)
    }

    static let problems: [(String, Endpoint.Form, Endpoint.Problem)] = [
        ("127.0.0.1", .dial, .missingPort),
        ("[::1", .dial, .missingBracket),
        ("[::1]6000", .dial, .missingPort),
        ("::1:6000", .dial, .unbracketedIPv6),
        (":6000", .dial, .invalidHost),
        ("a b:1", .dial, .invalidHost),
        ("my_host:1", .dial, .hostNotDialable),
        ("010.1:1", .dial, .hostNotDialable),
        ("h:0", .dial, .invalidPort(1...65535)),
        ("h:+80", .dial, .invalidPort(1...65535)),
        ("h:000080", .dial, .invalidPort(1...65535)),
        ("h:65536", .dial, .invalidPort(1...65535)),
        ("localhost:8000", .bind(defaultHost: "0.0.0.0"), .hostNotIPLiteral),
        ("256.1.1.1:8000", .bind(defaultHost: "0.0.0.0"), .hostNotIPLiteral),
        ("8000", .bind(defaultHost: "0.0.0.0"), .missingPort),
        ("127.0.0.1:70000", .bind(defaultHost: "0.0.0.0"), .invalidPort(0...65535)),
        ("zk1", .zooKeeperServer, .missingPort),
    ]

    @Test("each rejection names its problem", arguments: problems)
    func rejected(text: String, form: Endpoint.Form, problem: Endpoint.Problem) {
        #expect(throws: Endpoint.ParseError(input: text, problem: problem)) { try Endpoint.parse(text, form) }
    }

    @Test("bind forms: IP literals, * for any address, the shorthands the form allows")
    func bind() throws {
        let listen = Endpoint.Form.bind(defaultHost: "0.0.0.0", allowsBarePort: true)
        #expect(try Endpoint.parse("8000", listen) == Endpoint(host: "0.0.0.0", port: 8000))
        #expect(try Endpoint.parse(":8000", listen) == Endpoint(host: "0.0.0.0", port: 8000))
        #expect(try Endpoint.parse("*:8000", listen) == Endpoint(host: "0.0.0.0", port: 8000))
        #expect(try Endpoint.parse("[::]:0", listen) == Endpoint(host: "::", port: 0))
        #expect(try Endpoint.parse("127.0.0.1:0", .bind(defaultHost: "127.0.0.1")) == Endpoint(host: "127.0.0.1", port: 0))
    }

    @Test("a ZooKeeper server may be an unbracketed IPv6 address, read by its last colon")
    func zooKeeperServer() throws {
        #expect(try Endpoint.parse("::1:2181", .zooKeeperServer) == Endpoint(host: "::1", port: 2181))
        #expect(try Endpoint.parse("[::1]:2181", .zooKeeperServer) == Endpoint(host: "::1", port: 2181))
        #expect(try Endpoint.parse("zk1.example:2181", .zooKeeperServer) == Endpoint(host: "zk1.example", port: 2181))
    }

    @Test("the error quotes the input escaped")
    func errorText() {
        let error = Endpoint.ParseError(input: "h\u{1B}:x", problem: .invalidPort(1...65535))
        #expect(!error.description.contains("\u{1B}"))
        #expect(error.description.contains("port must be a number from 1 to 65535"))
    }
}
