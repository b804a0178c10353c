/// What a start or a reload does, decided from the two configurations alone: no sockets, no
/// clock, no state but what is passed in, so every rule of a reload is tested exactly.
///
/// The order is the contract: groups that are new first (listeners need their group), then every
/// bind (the steps that can fail), then the changes to what runs, feeds last (they read the
/// group's final settings).
enum ReloadPlan {
    /// The steps from `old` (nil at start) to `new`.
    /// - Parameters:
    ///   - failedFeeds: groups whose feed could not start or stopped with an error; a reload
    ///     restarts them, so fixing an auth file and sending SIGHUP is enough.
    ///   - adminFromFlag: `--admin` overrides the `admin` directive, so its change is no news.
    static func steps(
        from old: BalancerConfiguration?, to new: BalancerConfiguration, failedFeeds: Set<String> = [],
        adminFromFlag: Bool = false
    ) throws(BalancerError) -> [ReloadStep] {
        for server in new.listeners where new.upstream(named: server.proxyPass) == nil {
            throw BalancerError.unknownUpstream(server.proxyPass)
        }
        let oldUpstreams = Self.byName(old?.upstreams ?? [])
        let newUpstreams = Self.byName(new.upstreams)
        let oldListeners = Self.byKey(old?.listeners ?? [])
        let newListeners = Self.byKey(new.listeners)
        var steps: [ReloadStep] = []

        for upstream in new.upstreams where oldUpstreams[upstream.name] == nil {
            steps.append(.addUpstream(upstream))
        }
        for server in newListeners.ordered where oldListeners.byKey[ProxyListener.key(for: server)] == nil {
            steps.append(.bindListener(server))
        }

        var reconfigured: Set<String> = []
        for upstream in new.upstreams {
            if let before = oldUpstreams[upstream.name], before != upstream {
                steps.append(.reconfigureUpstream(upstream))
                reconfigured.insert(upstream.name)
            }
        }
        for server in newListeners.ordered {
            let key = ProxyListener.key(for: server)
            guard let before = oldListeners.byKey[key], let old else { continue }
            // A main `error_log` that changed re-points the listeners that inherit it.
            if before != server || reconfigured.contains(server.proxyPass)
                || old.errorLogs(for: before) != new.errorLogs(for: server)
            {
                steps.append(.retargetListener(server))
            }
            if before.backlog != server.backlog {
                steps.append(.keep(.backlog(key: key)))
            }
        }
        if let old {
            if new.workerProcesses != old.workerProcesses {
                steps.append(.keep(.workerProcesses))
            }
            if !adminFromFlag, new.admin != old.admin {
                steps.append(.keep(.adminAddress))
            }
            if new.adminLimits != old.adminLimits {
                steps.append(.setAdminLimits(new.adminLimits))
            }
            if new.multiAccept != old.multiAccept {
                steps.append(.setMultiAccept(new.multiAccept))
            }
        }
        for server in oldListeners.ordered where newListeners.byKey[ProxyListener.key(for: server)] == nil {
            steps.append(.closeListener(key: ProxyListener.key(for: server)))
        }
        if old == nil || new.workerConnections != old?.workerConnections {
            steps.append(.setConnectionLimit(new.workerConnections))
        }
        for upstream in old?.upstreams ?? [] where newUpstreams[upstream.name] == nil {
            steps.append(.removeUpstream(name: upstream.name))
        }

        var stopped: Set<String> = []
        for upstream in old?.upstreams ?? [] {
            guard let source = upstream.zookeeper else { continue }
            if newUpstreams[upstream.name]?.zookeeper != source || failedFeeds.contains(upstream.name) {
                steps.append(.stopFeed(upstream: upstream.name))
                stopped.insert(upstream.name)
            }
        }
        for upstream in new.upstreams {
            guard let source = upstream.zookeeper else { continue }
            if oldUpstreams[upstream.name]?.zookeeper == nil || stopped.contains(upstream.name) {
                steps.append(.startFeed(upstream: upstream.name, source: source))
            }
        }
        return steps
    }

    /// Groups by name (names are unique in a validated config; the first one counts).
    private static func byName(_ upstreams: [UpstreamConfiguration]) -> [String: UpstreamConfiguration] {
        Dictionary(upstreams.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// Listeners by key, in file order; of two `listen`s with one key (only port 0 can repeat),
    /// the first one is bound.
    private static func byKey(_ listeners: [ListenerConfiguration]) -> (ordered: [ListenerConfiguration], byKey: [String: ListenerConfiguration]) {
        var ordered: [ListenerConfiguration] = []
        var byKey: [String: ListenerConfiguration] = [:]
        for listener in listeners where byKey[ProxyListener.key(for: listener)] == nil {
            byKey[ProxyListener.key(for: listener)] = listener
            ordered.append(listener)
        }
        return (ordered, byKey)
    }
}
