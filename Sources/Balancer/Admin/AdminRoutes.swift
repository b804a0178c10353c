import Foundation
import NIOHTTP1
import Prometheus

/// The admin endpoint's routes: `/members` (JSON), `/healthz`, `/metrics` (Prometheus text).
enum AdminRoutes {
    static func respond(
        method: HTTPMethod, path: String, state: PublishedState, registry: PrometheusCollectorRegistry
    ) -> AdminResponse {
        guard method == .GET || method == .HEAD else {
            return .text("only GET is supported\n", status: 405)
        }
        switch path {
        case "/members":
            do {
                let body = try Self.encoder().encode(state.report())
                return AdminResponse(status: 200, contentType: "application/json", body: Array(body) + [0x0A])
            } catch {
                return .text("cannot encode members: \(error)\n", status: 500)
            }
        case "/healthz":
            switch state.phase {
            case .running:
                return .text("ok\n")
            case .starting:
                return .text("starting\n", status: 503)
            case .draining:
                return .text("draining\n", status: 503)
            }
        case "/metrics":
            for upstream in state.upstreams {
                upstream.group.metrics.recordMembers(upstream.group.pool.status())
                upstream.group.metrics.recordStorm(upstream.group.pool.storm())
            }
            return AdminResponse(
                status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: registry.emitToBuffer())
        default:
            return .text("not found; try /members, /healthz or /metrics\n", status: 404)
        }
    }

    /// The JSON encoding shared by the endpoint and `balancer members --json`.
    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }
}
