/// Bounds on what one admin client can hold: the admin endpoint faces whoever can reach its
/// port, so every connection, request and queued answer is limited (nginx's
/// `client_header_timeout` / `large_client_header_buffers`, HAProxy's `timeout http-request`).
///
/// Set on the `admin` directive: `admin 127.0.0.1:8001 max_connections=64 request_timeout=10s
/// keepalive_timeout=30s max_request_line=4k max_header_size=8k;`.
public struct AdminLimits: Sendable, Equatable {
    /// Open admin connections; one more is closed at once (and counted, and logged rate-limited).
    public var maxConnections: Int
    /// A whole request (request line and headers) must arrive within this, counted from the accept
    /// or from the first byte after a keep-alive pause; the answer must then be taken by the client
    /// within the same time. Else the connection is closed.
    public var requestTimeout: Duration
    /// A keep-alive connection with no request started is closed after this.
    public var keepaliveTimeout: Duration
    /// Longest request target (the path and query) answered; longer gets 414 and a close.
    public var maxRequestLine: Int
    /// Largest request head (request line plus header fields); larger gets 431 and a close.
    public var maxHeaderSize: Int

    public static let `default` = AdminLimits()

    public init(
        maxConnections: Int = 64,
        requestTimeout: Duration = .seconds(10),
        keepaliveTimeout: Duration = .seconds(30),
        maxRequestLine: Int = 4096,
        maxHeaderSize: Int = 8192
    ) {
        self.maxConnections = maxConnections
        self.requestTimeout = requestTimeout
        self.keepaliveTimeout = keepaliveTimeout
        self.maxRequestLine = maxRequestLine
        self.maxHeaderSize = maxHeaderSize
    }
}
