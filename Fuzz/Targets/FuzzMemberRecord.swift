// libFuzzer target: Registry's MemberRecord.decode on arbitrary bytes (a znode's data is written by
// anyone who can reach ZooKeeper). A record or a MemberRecordError; never a trap. A decoded record
// keeps the reader's rules: its host is one that may be dialled and its id a valid node name.
// (validate() is the writer's check: a reader also takes newer versions and clamps weights.)
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMemberRecord(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    guard let record = try? MemberRecord.decode(bytes) else { return 0 }
    precondition(HostSyntax.isValidMemberHost(record.host), "decoded a record with host \(UntrustedText.escaped(record.host))")
    precondition(MemberLimits.isValidID(record.id), "decoded a record with id \(UntrustedText.escaped(record.id))")
    precondition((1...65535).contains(record.port), "decoded a record with port \(record.port)")
    return 0
}
