#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A descriptor other threads signal to wake the I/O thread out of `poll` (a non-blocking pipe). Signals coalesce: many `signal()` calls before one `drain()` wake
/// the loop once. The owner calls `signal()` and `close()` under one lock, so no thread ever
/// writes to a descriptor number that was closed and reused.
struct Wakeup: Sendable {
    /// The descriptor to poll for `POLLIN`.
    let readDescriptor: Int32
    private let writeDescriptor: Int32

    init() throws(SystemCallError) {
        var fds: [Int32] = [0, 0]
        _ = try SystemCalls.retryingInterrupts("pipe") { Int(pipe(&fds)) }
        for fd in fds {
            try SystemCalls.setNonBlocking(fd)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        readDescriptor = fds[0]
        writeDescriptor = fds[1]
    }

    /// Wakes the loop. Safe from any thread.
    func signal() {
        var one: UInt8 = 1
        // EAGAIN means the pipe is full of pending wakeups, which is all we need.
        _ = write(writeDescriptor, &one, 1)
    }

    /// Consumes pending signals. Called by the I/O thread after `poll` reports the descriptor.
    func drain() {
        var scratch = [UInt8](repeating: 0, count: 64)
        while read(readDescriptor, &scratch, scratch.count) == scratch.count {}
    }

    /// Releases the descriptors; the owner never signals afterwards.
    func close() {
        SystemCalls.closeDescriptor(readDescriptor)
        SystemCalls.closeDescriptor(writeDescriptor)
    }
}
