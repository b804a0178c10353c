/// Something that keeps log files open and reopens them on SIGUSR1 (logrotate moved them away),
/// as nginx does. `balancer run` calls every one from one place, the SIGUSR1 service: the error
/// logs and the access logs are reopened together.
public protocol LogReopening: Sendable {
    func reopenLogs()
}
