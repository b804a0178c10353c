import MusterBase

/// Renders a `MembersReport` as the plain-text table `balancer members` prints.
public enum MembersTable {
    static let headers = ["ID", "ADDRESS", "WEIGHT", "SOURCE", "STATE", "ACTIVE", "TOTAL", "FAILURES", "LAST FAILURE"]

    public static func render(_ report: MembersReport) -> String {
        var out = ""
        for listener in report.listeners {
            out += "listen \(listener.address) -> \(listener.upstream)\n"
        }
        for upstream in report.upstreams {
            if !out.isEmpty { out += "\n" }
            var title = "upstream \(upstream.name) (\(upstream.method ?? "registry")"
            if let zookeeper = upstream.zookeeper {
                title += ", zookeeper \(zookeeper)"
            }
            title += ")"
            if upstream.stale {
                title += upstream.membershipError == nil
                    ? " STALE: ZooKeeper unreachable, serving the last known members"
                    : " STALE: serving the last known members"
            }
            if upstream.panic == true {
                title += " PANIC: registrations lost below the panic threshold, lost members kept as suspects"
            }
            out += title + "\n"
            if let error = upstream.membershipError {
                out += "membership error: \(UntrustedText.displayed(error, limit: 1000))\n"
            }
            let rows = upstream.members.map { member -> [String] in
                var lastFailure = member.lastFailure ?? "-"
                if let reason = member.lastFailureReason {
                    lastFailure += " (\(reason))"
                }
                // `suspect (registration lost 12s ago; ...)`, `slow_start (40%)`, `leaving (shutdown)`.
                let state = member.reason.map { "\(member.state) (\($0))" } ?? member.state
                return [
                    member.id, member.address, String(member.weight), member.source, state,
                    member.active.map(String.init) ?? "-", member.total.map(String.init) ?? "-",
                    member.failures.map(String.init) ?? "-", lastFailure,
                ].map { UntrustedText.displayed($0) }
            }
            out += Self.table(headers: Self.headers, rows: rows)
            if rows.isEmpty {
                out += "(no members)\n"
            }
        }
        return out
    }

    /// Left-aligned columns separated by two spaces; the last column is not padded.
    public static func table(headers: [String], rows: [[String]]) -> String {
        var widths = headers.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count {
                widths[index] = max(widths[index], cell.count)
            }
        }
        func line(_ cells: [String]) -> String {
            var text = ""
            for (index, cell) in cells.enumerated() {
                if index == cells.count - 1 {
                    text += cell
                } else {
                    text += cell + String(repeating: " ", count: widths[index] - cell.count + 2)
                }
            }
            return text + "\n"
        }
        return ([headers] + rows).map(line).joined()
    }
}
