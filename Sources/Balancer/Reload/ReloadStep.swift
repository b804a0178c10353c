/// One thing a start or a reload does to the running balancer. ``ReloadPlan`` decides the steps;
/// `BalancerController` carries them out in order.
enum ReloadStep: Sendable, Equatable {
    /// A group that is new: its pool, metrics and membership state (nothing runs yet).
    case addUpstream(UpstreamConfiguration)
    /// Binds a `listen` that is new and starts accepting on it. The only step that can fail: every
    /// bind comes before any step that changes what already runs, so a failed bind undoes the
    /// binds before it and leaves the running balancer as it was.
    case bindListener(ListenerConfiguration)
    /// A group whose settings or static servers changed, reconfigured in place.
    case reconfigureUpstream(UpstreamConfiguration)
    /// A kept listener whose settings or group changed: new connections get the new route,
    /// established ones keep theirs.
    case retargetListener(ListenerConfiguration)
    /// A listener that is gone: it stops accepting; its connections keep running.
    case closeListener(key: String)
    /// A group that is gone (its members' connections drain on their own).
    case removeUpstream(name: String)
    /// Stops a group's membership feed (its source changed or went, its group went, or it failed
    /// and is retried).
    case stopFeed(upstream: String)
    /// Starts a group's membership feed.
    case startFeed(upstream: String, source: ZooKeeperSource)
    /// New admin limits, for admin connections accepted from now on.
    case setAdminLimits(AdminLimits)
    /// `worker_connections`, applied by the engine's workers at accept.
    case setConnectionLimit(Int?)
    /// `multi_accept` changed, applied by the workers from their next wake-up (the engine starts
    /// with the first configuration's).
    case setMultiAccept(Bool)
    /// A change that applies only after a restart: logged, not applied.
    case keep(KeptSetting)

    enum KeptSetting: Sendable, Equatable {
        /// `listen ... backlog=` of a kept listening socket.
        case backlog(key: String)
        case workerProcesses
        case adminAddress
    }
}
