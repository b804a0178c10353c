import ArgumentParser

/// `--warmup`: seconds of load before the measured part (before each run in `bulk`), so connection
/// set-up and first-touch costs stay out of the figures. One default for every mode that has it.
struct WarmupOption: ParsableArguments {
    @Option(name: .long, help: "Warm-up seconds before the measured --duration (bulk: before each run).")
    var warmup: Double = 1

    func validate() throws {
        try requireOption("--warmup", self.warmup, in: 0...60, unit: " seconds")
    }
}
