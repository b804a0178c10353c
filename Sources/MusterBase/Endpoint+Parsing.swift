extension Endpoint {
    /// Which hosts a ``Form`` takes.
    public enum HostRule: Sendable, Equatable {
        /// An IP address, or `*` for `0.0.0.0`: what is bound (`listen`, `admin`, `--listen`,
        /// `--admin`). A name's meaning would depend on the resolver of the machine that checks the
        /// config, and two names for one address would only collide at bind time.
        case ipLiteral
        /// An IP address or a DNS name (``HostSyntax/isValidMemberHost(_:)``): what is dialled, and
        /// what a member record may hold.
        case dialable
    }

    /// The shape a text must have: its host rule and the shorthands it allows.
    public struct Form: Sendable, Equatable {
        public var hosts: HostRule
        /// When set, `:PORT` means this host.
        public var defaultHost: String?
        /// `PORT` alone means ``defaultHost`` (nginx's `listen 8000`).
        public var allowsBarePort: Bool
        /// Port 0, "any free port", for an address to bind.
        public var allowsPortZero: Bool
        /// `::1:2181` read by its last colon, as ZooKeeper's C client reads its connect string.
        public var allowsBareIPv6: Bool

        public init(
            hosts: HostRule, defaultHost: String? = nil, allowsBarePort: Bool = false, allowsPortZero: Bool = false,
            allowsBareIPv6: Bool = false
        ) {
            self.hosts = hosts
            self.defaultHost = defaultHost
            self.allowsBarePort = allowsBarePort
            self.allowsPortZero = allowsPortZero
            self.allowsBareIPv6 = allowsBareIPv6
        }

        /// An address to dial: `HOST:PORT` or `[IPv6]:PORT`, port 1-65535.
        public static let dial = Form(hosts: .dialable)

        /// One server of a ZooKeeper connect string: as ``dial``, IPv6 also bare.
        public static let zooKeeperServer = Form(hosts: .dialable, allowsBareIPv6: true)

        /// An address to bind: an IP literal (or `*`), port 0-65535; `:PORT` binds `defaultHost`,
        /// and so does `PORT` alone when `allowsBarePort`.
        public static func bind(defaultHost: String, allowsBarePort: Bool = false) -> Form {
            Form(hosts: .ipLiteral, defaultHost: defaultHost, allowsBarePort: allowsBarePort, allowsPortZero: true)
        }
    }

    /// What is wrong with a text; callers word it for their context (a config error, a flag).
    public enum Problem: Sendable, Equatable, CustomStringConvertible {
        case missingBracket
        case missingPort
        case unbracketedIPv6
        /// Empty, or holding whitespace, `/` or a bracket.
        case invalidHost
        /// A name where ``HostRule/ipLiteral`` wants an IP address.
        case hostNotIPLiteral
        /// Neither an IP address nor a DNS name.
        case hostNotDialable
        case invalidPort(ClosedRange<Int>)

        public var description: String {
            switch self {
            case .missingBracket: "missing ']' after the IPv6 address"
            case .missingPort: "missing ':PORT'"
            case .unbracketedIPv6: "IPv6 addresses need brackets, e.g. [::1]:6000"
            case .invalidHost: "the host is empty or contains whitespace, '/' or a bracket"
            case .hostNotIPLiteral: "an IP address is required (e.g. 127.0.0.1, [::1] or *), not a name"
            case .hostNotDialable: "expected an IP address or a DNS name"
            case .invalidPort(let range): "port must be a number from \(range.lowerBound) to \(range.upperBound)"
            }
        }
    }

    /// Why a text was rejected.
    public typealias ParseError = RejectedText<Endpoint>

    /// Parses `text` by the rules of `form`.
    public static func parse(_ text: some StringProtocol, _ form: Form) throws(ParseError) -> Endpoint {
        let text = String(text)
        func fail(_ problem: Problem) -> ParseError { ParseError(input: text, problem: problem) }
        var host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw fail(.missingBracket) }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw fail(.missingPort) }
            portText = rest.dropFirst()
        } else if let colon = text.lastIndex(of: ":") {
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            if host.isEmpty, let defaultHost = form.defaultHost { host = Substring(defaultHost) }
            if host.contains(":"), !form.allowsBareIPv6 { throw fail(.unbracketedIPv6) }
        } else if form.allowsBarePort, let defaultHost = form.defaultHost, text.utf8.allSatisfy(Self.isDigit) {
            host = Substring(defaultHost)
            portText = Substring(text)
        } else {
            throw fail(.missingPort)
        }
        if form.hosts == .ipLiteral, host == "*" { host = "0.0.0.0" }
        guard !host.isEmpty, !host.contains(where: { $0.isWhitespace || $0 == "/" || $0 == "[" || $0 == "]" }) else {
            throw fail(.invalidHost)
        }
        switch form.hosts {
        case .ipLiteral:
            guard HostSyntax.isIPv4(String(host)) || HostSyntax.isIPv6(String(host)) else { throw fail(.hostNotIPLiteral) }
        case .dialable:
            guard HostSyntax.isValidMemberHost(String(host)) else { throw fail(.hostNotDialable) }
        }
        let ports = (form.allowsPortZero ? 0 : 1)...65535
        // Digits only (no sign, no spaces), at most five of them: `Int` alone would take "+80".
        guard (1...5).contains(portText.utf8.count), portText.utf8.allSatisfy(Self.isDigit),
            let port = Int(portText), ports.contains(port)
        else {
            throw fail(.invalidPort(ports))
        }
        return Endpoint(host: String(host), port: port)
    }

    /// An address to dial (``Form/dial``): the agent's `--server` and `--advertise`.
    public static func parse(_ text: some StringProtocol) throws(ParseError) -> Endpoint {
        try parse(text, .dial)
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
}

extension Endpoint: TextKind {
    public static var shownLimit: Int { 120 }

    public static func describe(_ shown: String, _ problem: Problem) -> String {
        "invalid address '\(shown)': \(problem) (expected HOST:PORT, e.g. 127.0.0.1:6000)"
    }
}
