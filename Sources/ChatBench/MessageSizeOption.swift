import ArgumentParser

/// `--size`: the bytes of each echoed message (`connect` echoes one per connection, `rtt` many).
struct MessageSizeOption: ParsableArguments {
    @Option(name: .long, help: "Size of each echoed message, in bytes.")
    var size: Int = 64

    func validate() throws {
        try requireOption("--size", self.size, in: 1...1_048_576, unit: " bytes")
    }
}
