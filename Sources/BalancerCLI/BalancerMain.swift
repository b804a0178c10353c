import ArgumentParser
import Dispatch

/// The balancer's entry point: synchronous, so that the main thread stays a thread that runs.
///
/// With `@main` on an `AsyncParsableCommand`, Swift's async main hands the main thread to
/// libdispatch's `dispatch_main`, which calls `pthread_exit` and parks the thread for good in a
/// thread-specific-data destructor. glibc's set*id broadcast skips a thread that is exiting, so after
/// `user` that parked thread kept root's ids and `ps` and `/proc/PID/status` showed the process as
/// root. Here the main thread runs the command as a task and waits for it on a semaphore: it is
/// alive, so `setuid` reaches it with every other thread.
///
/// Chosen over binding and switching before the async runtime starts: that would take the bind out
/// of the balancer service that owns the listeners and binds them again on reload. Nothing in the
/// balancer runs on the main actor or the main dispatch queue, which nothing drains now.
@main
enum BalancerMain {
    static func main() {
        let finished = DispatchSemaphore(value: 0)
        Task.detached {
            // Exits the process itself on a parse error or a thrown ExitCode.
            await BalancerCommand.main()
            finished.signal()
        }
        finished.wait()
    }
}
