#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A failed system call: which call, and the `errno` it left.
struct SystemCallError: Error, Sendable, CustomStringConvertible {
    var call: String
    var errno: Int32

    var description: String {
        let text = strerror(errno).map { String(cString: $0) } ?? "unknown error"
        return "\(call) failed: \(text) (errno \(errno))"
    }
}

/// Thin wrappers over the libc calls the transport makes: each turns `-1` + `errno` into a
/// thrown `SystemCallError` and retries `EINTR`, so the layers above never read `errno`.
enum SystemCalls {
    /// The outcome of a non-blocking read or write.
    enum IOResult: Equatable {
        case processed(Int)
        case wouldBlock
        case endOfFile
    }

    static func retryingInterrupts(_ call: String, _ body: () -> Int) throws(SystemCallError) -> Int {
        while true {
            let result = body()
            if result >= 0 { return result }
            let code = errno
            if code == EINTR { continue }
            throw SystemCallError(call: call, errno: code)
        }
    }

    static func makeSocket(family: Int32, type: Int32, protocol proto: Int32) throws(SystemCallError) -> Int32 {
        #if os(Linux)
        let flags = Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        let fd = try Int32(retryingInterrupts("socket") { Int(socket(family, type | flags, proto)) })
        #else
        let fd = try Int32(retryingInterrupts("socket") { Int(socket(family, type, proto)) })
        do throws(SystemCallError) {
            try setNonBlocking(fd)
            var on: Int32 = 1
            _ = setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &on, socklen_t(MemoryLayout<Int32>.size))
        } catch {
            close(fd)
            throw error
        }
        #endif
        return fd
    }

    static func setNonBlocking(_ fd: Int32) throws(SystemCallError) {
        let flags = try retryingInterrupts("fcntl(F_GETFL)") { Int(fcntl(fd, F_GETFL)) }
        _ = try retryingInterrupts("fcntl(F_SETFL)") { Int(fcntl(fd, F_SETFL, Int32(flags) | O_NONBLOCK)) }
    }

    static func setNoDelay(_ fd: Int32) {
        // Latency over throughput: every frame is written whole, so Nagle only adds delay.
        var on: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Starts a non-blocking connect: true when connected at once, false when in progress.
    static func startConnect(
        _ fd: Int32,
        address: UnsafePointer<sockaddr>,
        length: socklen_t
    ) throws(SystemCallError) -> Bool {
        while true {
            if connect(fd, address, length) == 0 { return true }
            let code = errno
            if code == EINTR { continue }
            if code == EINPROGRESS { return false }
            throw SystemCallError(call: "connect", errno: code)
        }
    }

    /// The pending error of a socket whose non-blocking connect finished (`SO_ERROR`).
    static func pendingError(_ fd: Int32) -> Int32 {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        if getsockopt(fd, SOL_SOCKET, SO_ERROR, &value, &length) != 0 { return errno }
        return value
    }

    static func receiveBytes(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(SystemCallError) -> IOResult {
        while true {
            let count = recv(fd, buffer.baseAddress, buffer.count, 0)
            if count > 0 { return .processed(count) }
            if count == 0 { return .endOfFile }
            let code = errno
            if code == EINTR { continue }
            if code == EAGAIN || code == EWOULDBLOCK { return .wouldBlock }
            throw SystemCallError(call: "recv", errno: code)
        }
    }

    static func sendBytes(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) throws(SystemCallError) -> IOResult {
        #if os(Linux)
        let flags = Int32(MSG_NOSIGNAL)  // a peer that went away gives EPIPE, not a SIGPIPE that kills us
        #else
        let flags: Int32 = 0
        #endif
        while true {
            let count = send(fd, buffer.baseAddress, buffer.count, flags)
            if count >= 0 { return .processed(count) }
            let code = errno
            if code == EINTR { continue }
            if code == EAGAIN || code == EWOULDBLOCK { return .wouldBlock }
            throw SystemCallError(call: "send", errno: code)
        }
    }

    /// Waits for events on `fds`; a negative timeout waits forever.
    static func pollDescriptors(_ fds: inout [pollfd], timeoutMilliseconds: Int32) throws(SystemCallError) -> Int {
        let count = fds.count
        return try retryingInterrupts("poll") {
            fds.withUnsafeMutableBufferPointer { Int(poll($0.baseAddress, nfds_t(count), timeoutMilliseconds)) }
        }
    }

    static func closeDescriptor(_ fd: Int32) {
        // Never retry close on EINTR: on Linux the descriptor is already released.
        _ = close(fd)
    }
}
