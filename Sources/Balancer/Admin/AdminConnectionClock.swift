/// The one deadline an admin connection runs against, as a pure state machine: the handler feeds
/// it events and arms a single timer for the deadline it returns (nil = no timer).
///
/// - Waiting for a request (after the accept, or after the first byte that follows a keep-alive
///   pause): the whole request must arrive within `requestTimeout`.
/// - A request is being answered: the answer must be taken by the client within `requestTimeout`.
/// - Idle between keep-alive requests: closed after `keepaliveTimeout`.
struct AdminConnectionClock {
    enum Phase: Equatable {
        case awaitingRequest
        case answering
        case idle
    }

    let requestTimeout: Duration
    let keepaliveTimeout: Duration
    private(set) var phase: Phase = .awaitingRequest
    private(set) var deadline: Duration
    /// Bytes came in while an answer was pending: the next request has begun.
    private var bytesWhileAnswering = false

    /// `now` is a monotonic instant (any origin, the same for every call).
    init(limits: AdminLimits, now: Duration) {
        self.requestTimeout = limits.requestTimeout
        self.keepaliveTimeout = limits.keepaliveTimeout
        self.deadline = now + limits.requestTimeout
    }

    /// Bytes arrived. Returns true if the deadline changed.
    mutating func bytesReceived(now: Duration) -> Bool {
        switch self.phase {
        case .idle:
            self.phase = .awaitingRequest
            self.deadline = now + self.requestTimeout
            return true
        case .answering:
            self.bytesWhileAnswering = true
            return false
        case .awaitingRequest:
            return false
        }
    }

    /// A whole request arrived and its answer is being written.
    mutating func requestReceived(now: Duration) {
        self.phase = .answering
        self.bytesWhileAnswering = false
        self.deadline = now + self.requestTimeout
    }

    /// The answer was handed to the kernel.
    mutating func responseWritten(now: Duration) {
        if self.bytesWhileAnswering {
            self.phase = .awaitingRequest
            self.deadline = now + self.requestTimeout
        } else {
            self.phase = .idle
            self.deadline = now + self.keepaliveTimeout
        }
        self.bytesWhileAnswering = false
    }

    /// Whether the deadline has passed at `now`.
    func expired(now: Duration) -> Bool {
        now >= self.deadline
    }
}
