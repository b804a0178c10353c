import CProxyEngine

#if canImport(Glibc)
import Glibc
#endif

/// The messages a session leaves for its listener's `error_log` (``SessionEvent``). A listener
/// with an error log keeps a ``SessionRecord`` for each of its sessions, which gives every message
/// its serial, addresses and byte counts; a listener without one pays a nil check per message.
extension WorkerCore {
    /// Queues `kind` at `level` if the session's error log takes that level.
    @inline(__always)
    func report(_ slot: Int32, _ kind: SessionEvent.Kind, _ level: LogLevel, error: Int32 = 0, limit: Int = 0) {
        guard let log = self.links[Int(slot)].errorLog, log.takes(level) else { return }
        var event = self.event(slot, kind, level)
        event.error = error
        event.limit = UInt16(clamping: limit)
        log.push(event, worker: self.index)
    }

    /// The member is connected: `proxy LOCAL connected to MEMBER`, with the balancer's side of the
    /// connection (one `getsockname`, made only when the log takes info messages, as nginx).
    func reportConnected(_ slot: Int32) {
        guard let log = self.links[Int(slot)].errorLog, log.takes(.info) else { return }
        var event = self.event(slot, .upstreamConnected, .info)
        var local = sockaddr_storage()
        if cpe_local_address(self.sessions[slot].upstream.fd, &local) > 0 {
            event.local = RecordAddress(local)
        }
        log.push(event, worker: self.index)
    }

    /// The end of an established session: `client|upstream disconnected, bytes ...`, unless its
    /// end was reported already (an idle timeout).
    func reportEnd(_ slot: Int32) {
        let session = self.sessions[slot]
        guard session.peerConnected, !session.endReported, let log = self.links[Int(slot)].errorLog, log.takes(.info)
        else { return }
        var event = self.event(slot, .disconnected, .info)
        event.byUpstream = session.state.upstream.inputClosed && !session.state.client.inputClosed
        log.push(event, worker: self.index)
    }

    private func event(_ slot: Int32, _ kind: SessionEvent.Kind, _ level: LogLevel) -> SessionEvent {
        var event = SessionEvent(kind: kind, level: level)
        let record = self.records[slot]
        event.serial = record.serial
        event.client = record.client
        event.clientReceived = record.bytesReceived
        event.clientSent = record.bytesSent
        if record.attempts > 0 {
            let attempt = record.attempt(at: min(record.attempts, SessionRecord.tryCapacity) - 1)
            event.peer = attempt.address
            event.upstreamReceived = attempt.bytesReceived
            event.upstreamSent = attempt.bytesSent
        }
        return event
    }
}
