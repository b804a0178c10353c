import ProxyEngine
import Synchronization

/// The process's `limit_conn_zone` tables, one per name, key and size: every listener that names a
/// zone counts in the same table, and a reload that keeps a zone's definition keeps its counts (as
/// nginx keeps a shared zone whose size did not change); the sessions still open release into it.
enum LimitZones {
    private static let zones = Mutex<[LimitConnConfiguration.Zone: ConnectionLimitZone]>([:])

    static func zone(_ definition: LimitConnConfiguration.Zone) -> ConnectionLimitZone {
        self.zones.withLock { zones in
            if let zone = zones[definition] { return zone }
            let zone = ConnectionLimitZone(name: definition.name, size: definition.size)
            zones[definition] = zone
            return zone
        }
    }
}

extension EdgeConfiguration {
    /// The engine's form, with the zones' shared tables.
    func sessionEdge() -> SessionEdge {
        SessionEdge(
            readsProxyProtocol: self.readsProxyProtocol,
            proxyProtocolTimeout: PoolRoute.milliseconds(self.proxyProtocolTimeout),
            realIPFrom: self.realIPFrom,
            access: self.access,
            limits: self.limits.map { ConnectionLimit(zone: LimitZones.zone($0.zone), limit: $0.limit, key: $0.zone.key) },
            limitLogLevel: self.limitLogLevel,
            returnValue: self.returnValue.map(Self.edgeReturn),
            sendsProxyProtocol: self.sendsProxyProtocol)
    }

    /// `return`'s value per session, from its accept-time record and this process's host values.
    private static func edgeReturn(_ template: StreamTemplate) -> EdgeReturn {
        let host = SessionValues.Host.current()
        return EdgeReturn(needsServerAddress: template.variables.contains(where: \.needsServerAddress)) { record in
            template.evaluate(SessionValues(record: record, host: host))
        }
    }
}
