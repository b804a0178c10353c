import MusterBase
import Registry

/// `zookeeper HOSTS path=/p ...;` in an `upstream` block: Muster's own directive, live members.
enum ZooKeeperModule {
    private static let parameters = "path=, auth_file=, session_timeout=, max_fails=, fail_timeout=, panic_threshold=, suspect_timeout=, slow_start=, flap_limit=, flap_window=, flap_hold=, flap_max_hold="

    /// The source, and the `slow_start=` argument if it ramps (for the method's warning).
    static func source(_ directive: ConfigDirective, _ reader: ConfigReader) throws(ConfigError) -> (ZooKeeperSource, ConfigDirective.Argument?) {
        var slowStartArgument: ConfigDirective.Argument?
        var flapHoldArgument: ConfigDirective.Argument?
        let hosts = directive.arguments[0]
        try validateConnectString(hosts, reader)
        var path: String?
        var source = ZooKeeperSource(connectString: hosts.text, path: "")
        try reader.parameters(directive.arguments.dropFirst()) { key, value, argument throws(ConfigError) in
            switch (key, value) {
            case ("path", let value?):
                if let problem = ServicePath.serviceProblem(with: value) {
                    throw reader.error(argument, "invalid path \"\(ConfigError.shown(value))\": \(problem)")
                }
                path = value
            case ("auth_file", let value?):
                guard !value.isEmpty else { throw reader.error(argument, "empty auth_file") }
                source.authFile = value
            case ("session_timeout", let value?):
                source.sessionTimeout = try reader.duration(argument, value, name: "session_timeout", allowZero: false)
            case ("max_fails", let value?):
                source.maxFails = try reader.number(argument, value, name: "max_fails", minimum: 0)
            case ("fail_timeout", let value?):
                source.failTimeout = try reader.duration(argument, value, name: "fail_timeout")
            case ("panic_threshold", let value?):
                let digits = value.hasSuffix("%") ? String(value.dropLast()) : value
                source.panicThreshold = try reader.number(argument, digits, name: "panic_threshold", minimum: 0, maximum: 100)
            case ("suspect_timeout", let value?):
                source.suspectTimeout = try reader.duration(argument, value, name: "suspect_timeout", allowZero: false)
            case ("slow_start", let value?):
                source.slowStart = try reader.duration(argument, value, name: "slow_start")
                if source.slowStart > .zero { slowStartArgument = argument }
            case ("flap_limit", let value?):
                source.flapDamping.limit = try reader.number(argument, value, name: "flap_limit", minimum: 0, maximum: 1000)
            case ("flap_window", let value?):
                source.flapDamping.window = try reader.duration(argument, value, name: "flap_window", allowZero: false)
            case ("flap_hold", let value?):
                source.flapDamping.hold = try reader.duration(argument, value, name: "flap_hold", allowZero: false)
                flapHoldArgument = argument
            case ("flap_max_hold", let value?):
                source.flapDamping.maxHold = try reader.duration(argument, value, name: "flap_max_hold", allowZero: false)
                flapHoldArgument = flapHoldArgument ?? argument
            default:
                throw reader.error(argument, "invalid parameter \"\(ConfigError.shown(argument.text))\" in \"zookeeper\" (supported: \(parameters))\(reader.missingSemicolonHint(argument))")
            }
        }
        if let flapHoldArgument, source.flapDamping.maxHold < source.flapDamping.hold {
            throw reader.error(flapHoldArgument, "flap_max_hold (\(source.flapDamping.maxHold)) is shorter than flap_hold (\(source.flapDamping.hold)); the hold-down grows from flap_hold up to flap_max_hold")
        }
        guard let path else {
            throw reader.error(directive, "\"zookeeper\" needs path=/service/path (members are its /members children)")
        }
        source.path = path
        return (source, slowStartArgument)
    }

    /// `h1:2181,h2:2181/chroot`, by the one rule the ZooKeeper client applies when it connects.
    private static func validateConnectString(_ argument: ConfigDirective.Argument, _ reader: ConfigReader) throws(ConfigError) {
        if argument.text.contains("=") {
            throw reader.error(argument, "\"zookeeper\" takes the hosts first, e.g. zookeeper 127.0.0.1:2181 path=/muster/services/chat")
        }
        do {
            _ = try ZooKeeperConfiguration(connectString: argument.text).parsed()
        } catch {
            throw reader.error(argument, error.description)
        }
    }
}
