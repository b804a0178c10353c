/// `return VALUE;` in `server {}` (nginx's `ngx_stream_return_module`): the value, a string with
/// variables, is sent to each client, which is then closed (`$status` 200); no upstream is picked.
/// It is made at accept, so it may use only the variables known then (`acceptStage`, with the byte
/// counts, 0 then as in nginx); any other is a config error naming it (nginx would give the value it
/// has at that point, mostly empty).
struct ReturnSetting {
    var template: StreamTemplate?
    var directive: ConfigDirective?

    /// The variables known when a session is accepted (and its PROXY header read).
    static let acceptStage: Set<StreamVariable> = [
        .remoteAddr, .remotePort, .binaryRemoteAddr, .serverAddr, .serverPort, .proxyProtocolAddr, .proxyProtocolPort,
        .realipRemoteAddr, .realipRemotePort, .connection, .pid, .hostname, .msec, .timeLocal, .timeISO8601, .protocol,
        .nginxVersion, .bytesSent, .bytesReceived,
    ]

    /// The name of the empty upstream group every `return` server's listener is bound to: the
    /// balancer binds a listener to a group, and a returning one never asks its group for a member.
    /// Parentheses keep it apart from any name a config can pass to.
    static let upstreamName = "(return)"

    static let commands: [ConfigCommand<ReturnSetting>] = [
        ConfigCommand("return", text: 0...) { setting, directive, reader throws(ConfigError) in
            let argument = directive.arguments[0]
            func positioned(_ offset: Int, _ message: String) -> ConfigError { argument.error(at: offset, message) }
            let template: StreamTemplate
            do throws(StreamTemplate.Invalid) {
                template = try StreamTemplate(compiling: argument.text)
            } catch {
                throw positioned(error.offset, error.message)
            }
            let late = StreamVariable.allCases.filter { template.variables.contains($0) && !acceptStage.contains($0) }
            if let variable = late.first {
                throw positioned(0, "variable \"$\(variable.rawValue)\" is not known when \"return\" is sent (at accept); \"return\" can use \(acceptStage.map { "$" + $0.rawValue }.sorted().joined(separator: ", "))")
            }
            setting.template = template
            setting.directive = directive
        }
    ]
}

extension UpstreamConfiguration {
    /// Whether `/members`, `balancer members` and `/metrics` show the group: every group but the
    /// `(return)` one, which is only how a returning listener is bound (it has no members and no
    /// connections to an upstream to report).
    var isListed: Bool { self.name != ReturnSetting.upstreamName }
}
