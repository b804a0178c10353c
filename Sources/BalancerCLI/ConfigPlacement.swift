import ArgumentParser
import Balancer

/// nginx's `-p` and `-g` beside `--config` (nginx's `-c`), shared by run and check.
struct ConfigPlacement: ParsableArguments {
    @Option(name: .long, help: "Folder relative paths in the config resolve against, and a relative --config (nginx's -p; default: the config file's folder).")
    var prefix: String?

    @Option(name: .long, help: "Main-context directives read before the config file's, e.g. \"pid /run/b.pid; error_log stderr info;\" (nginx's -g).")
    var global: String?

    func source(config: String) -> ConfigSource {
        ConfigSource(path: config, prefix: prefix, globals: global)
    }
}
