/// Turns the directive tree into a `BalancerConfiguration`, rejecting anything unsupported with
/// the position of the offending directive or argument. The directives live in one file per
/// module (`CoreModule.swift`, `EventsModule.swift`, `StreamCoreModule.swift`,
/// `UpstreamModule.swift`, `ProxyModule.swift`, ...); `ConfigReader` dispatches them.
struct ConfigValidator {
    let file: String
    /// Relative paths are resolved against it.
    let prefix: String

    func validate(_ tree: [ConfigDirective]) throws(ConfigError) -> BalancerConfiguration {
        let reader = ConfigReader(file: file, prefix: prefix)
        var main = MainContext()
        try reader.read(tree, into: &main, MainContext.commands)
        guard main.stream != nil else {
            throw ConfigError(file: file, line: 1, column: 1, message: "no \"stream\" block: nothing to proxy")
        }
        return main.configuration
    }

}
