import ProxyEngine

/// What a listener hands each accepted client: the server block's settings and its upstream group.
/// Swapped as a whole on reload, so a connection sees one consistent pair.
struct ListenerTarget: Sendable {
    var server: ListenerConfiguration
    var upstream: UpstreamGroup
    /// The queue the engine leaves this listener's session records in for the access-log writer;
    /// nil when the listener has no `access_log`.
    var sessionLog: SessionLog?
    /// The queue for the messages about this listener's sessions, nil when they have no `error_log`
    /// (then the upstream group's rate-limited summaries go to the balancer's own log).
    var errorLog: SessionErrorLog?
}
