// libFuzzer target: the whole config pipeline (UTF-8 check, tokenizer, directive tree, validator)
// on arbitrary bytes. Any input must end in a configuration or a positioned ConfigError; a trap,
// a sanitizer report or a hang is a bug. Built by Fuzz/build.sh, never by `swift build`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    do {
        _ = try BalancerConfiguration.parse(bytes: bytes, file: "fuzz.conf")
    } catch {
        // Every error has a position that points into the file (line 1 for "no stream block").
        precondition(error.line >= 1 && error.column >= 1, "error without a position: \(error)")
        // A message never repeats a huge token whole.
        precondition(error.message.utf8.count < 2_000, "error message of \(error.message.utf8.count) bytes")
    }
    return 0
}
