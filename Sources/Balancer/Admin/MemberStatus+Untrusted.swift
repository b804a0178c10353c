import MusterBase

extension MemberStatus {
    /// This status with every field that can come from outside (a member record's id, host and
    /// metadata, a failure reason that quotes a peer) escaped and cut by `UntrustedText`, so the
    /// admin JSON and `balancer members` never carry a control character, an ESC sequence or a
    /// bidirectional override, and one huge value cannot make a huge line.
    var escapingUntrustedText: MemberStatus {
        var status = self
        status.id = UntrustedText.escaped(self.id)
        status.address = UntrustedText.escaped(self.address)
        status.lastFailureReason = self.lastFailureReason.map { UntrustedText.escaped($0) }
        status.reason = self.reason.map { UntrustedText.escaped($0) }
        status.metadata = self.metadata.map { metadata in
            Dictionary(
                metadata.map { (UntrustedText.escaped($0.key, limit: 64), UntrustedText.escaped($0.value)) },
                uniquingKeysWith: { first, _ in first })
        }
        return status
    }
}
