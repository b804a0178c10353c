// libFuzzer target: ProxyProtocol.parse on arbitrary bytes (the first bytes of a connection on a
// `listen ... proxy_protocol` socket come from whoever reaches it). A header, "incomplete" or an
// error; never a trap. A header never claims more bytes than were given or than the bound, bytes
// after it never change the verdict, and a TCP header's endpoints written back as v1 read back
// the same.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzProxyProtocol(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    let verdict = ProxyProtocol.parse(bytes)
    switch verdict {
    case .incomplete:
        precondition(count < ProxyProtocol.maxHeader, "incomplete after \(count) bytes")
    case .invalid:
        break
    case .header(let header):
        precondition(header.length <= count && header.length <= ProxyProtocol.maxHeader, "header of \(header.length) bytes")
        precondition(header.version == 2 || header.length <= ProxyProtocol.v1MaxLine, "v1 line of \(header.length) bytes")
        precondition(ProxyProtocol.parse(bytes + [0x0A]) == verdict, "a byte after the header changed it")
        if let source = header.source, let destination = header.destination {
            let line = ProxyProtocol.v1Line(source: source, destination: destination)
            guard case .header(let again) = ProxyProtocol.parse(line) else { preconditionFailure("written line refused") }
            precondition(again.source?.address.text == source.address.asIPv6.text || again.source == source, "source changed")
            precondition(again.destination?.port == destination.port, "destination port changed")
        }
    }
    return 0
}
