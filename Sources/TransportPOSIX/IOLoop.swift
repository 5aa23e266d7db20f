import TransportCore
import WebSocketProtocol

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The body of one connection's I/O thread: connect, upgrade, then a `poll` loop over the
/// socket and the wakeup descriptor until the connection is over. Everything here runs on that
/// one thread; it meets other threads only through `ConnectionCore.shared`.
struct IOLoop {
    private let core: ConnectionCore
    private let clock = ContinuousClock()
    private var socket: Int32 = -1
    /// TLS between the socket and the WebSocket bytes, for wss:// (nil for ws://).
    private var tls: TLSSocketLayer?
    private var decoder: WebSocketFrameDecoder
    private var decoderBroken = false
    private var machine: WebSocketConnectionStateMachine
    /// Frames to write, in order, each with whether it counts toward the user's buffer limit.
    private var writeQueue: [(bytes: [UInt8], counted: Bool)] = []
    private var writeHead = 0
    private var writeOffset = 0
    private var readingPaused = false
    private var inboundFinished = false
    private var closeDeadline: ContinuousClock.Instant?
    private var socketDone = false

    private static let readBufferSize = 256 << 10

    init(core: ConnectionCore) {
        self.core = core
        decoder = WebSocketFrameDecoder(decodingFramesFrom: .server, maxFrameSize: core.request.limits.maxFrameSize)
        machine = WebSocketConnectionStateMachine(maxMessageSize: core.request.limits.maxMessageSize)
    }

    mutating func run() {
        let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.readBufferSize, alignment: 16)
        defer { readBuffer.deallocate() }
        do throws(TransportError) {
            let leftover = try connectAndUpgrade(readBuffer)
            decoder.append(leftover)
        } catch {
            finishOpen(.failure(error))
            exit()
            return
        }
        finishOpen(.success(nil))
        runLoop(readBuffer)
        exit()
    }

    // MARK: Connect and upgrade

    private var selectedSubprotocol: String?

    private mutating func connectAndUpgrade(_ readBuffer: UnsafeMutableRawBufferPointer) throws(TransportError)
        -> [UInt8]
    {
        let target = core.handshake.target
        let connectDeadline = clock.now.advanced(by: core.request.timeouts.connect)
        let addresses: [ResolvedAddress]
        do {
            addresses = try Resolver.resolve(host: target.host, port: target.port)
        } catch {
            throw TransportError(.resolveFailed, error.description)
        }
        var failures: [String] = []
        for address in addresses {
            if let fd = try connect(to: address, deadline: connectDeadline, failures: &failures) {
                socket = fd
                break
            }
        }
        guard socket >= 0 else {
            throw TransportError(
                .connectFailed,
                "could not connect to \(target.host):\(target.port): \(failures.joined(separator: "; "))")
        }
        SystemCalls.setNoDelay(socket)

        // The TLS handshake is part of connecting (WebSocketTimeouts.connect: "TCP (and TLS)"),
        // as with LWSTransport; the upgrade's own timeout starts once TLS is up.
        if target.usesTLS {
            try startTLS(host: target.host, port: target.port, deadline: connectDeadline)
        }
        let handshakeDeadline = clock.now.advanced(by: core.request.timeouts.handshake)
        let timeout = TransportError(
            .handshakeTimeout,
            "the server did not complete the WebSocket upgrade within \(core.request.timeouts.handshake)")
        let requestBytes = core.handshake.requestBytes
        var written = 0
        while written < requestBytes.count || tls?.hasPendingOutput == true {
            let outcome = requestBytes.withUnsafeBytes { bytes in
                Result { () throws(StreamError) in
                    written < bytes.count
                        ? try send(UnsafeRawBufferPointer(rebasing: bytes[written...]))
                        : (try tls?.flush(socket) == false ? .wouldBlock : .processed(0))
                }
            }
            switch try opening({ () throws(StreamError) in try outcome.get() }) {
            case .processed(let count): written += count
            case .wouldBlock, .endOfFile:
                _ = try wait(for: socket, events: Int16(POLLOUT), deadline: handshakeDeadline, timeout: timeout)
            }
        }
        var parser = HTTPResponseParser()
        while true {
            switch try opening({ () throws(StreamError) in try receive(readBuffer) }) {
            case .wouldBlock:
                _ = try wait(for: socket, events: Int16(POLLIN), deadline: handshakeDeadline, timeout: timeout)
            case .endOfFile:
                throw TransportError(.handshakeInvalid, "the server closed the connection during the WebSocket upgrade")
            case .processed(let count):
                if let (head, leftover) = try parser.append(UnsafeRawBufferPointer(rebasing: readBuffer[..<count])) {
                    selectedSubprotocol = try core.handshake.validate(head)
                    // OpenSSL keeps the record buffer of the handshake's last write (16 KB):
                    // an idle wss:// connection need not hold it.
                    tls?.engine.releaseBuffers()
                    return leftover
                }
            }
        }
    }

    /// Runs the TLS handshake over the connected socket, within the connect deadline.
    private mutating func startTLS(host: String, port: Int, deadline: ContinuousClock.Instant) throws(TransportError) {
        #if canImport(COpenSSL)
            let layer: TLSSocketLayer
            do {
                layer = try TLSSocketLayer(options: core.request.tls, serverName: host, port: port)
            } catch {
                // The options cannot make a context (both CA sources, unreadable CA file, CA
                // bytes without a certificate): a configuration error, which no retry fixes.
                throw TransportError(.tls, error.reason, isPermanent: true)
            }
            tls = layer
            let timeout = TransportError(
                .connectTimeout,
                "the TLS handshake with \(host) did not finish within the connect timeout (\(core.request.timeouts.connect))"
            )
            while true {
                let (status, flushed) = try opening { () throws(StreamError) in try layer.handshakeStep(socket) }
                if !flushed {
                    _ = try wait(for: socket, events: Int16(POLLOUT), deadline: deadline, timeout: timeout)
                    continue
                }
                switch status {
                case .complete:
                    return
                case .wantsWrite:
                    continue
                case .wantsRead:
                    switch try opening({ () throws(StreamError) in try layer.fill(socket) }) {
                    case .wouldBlock:
                        _ = try wait(for: socket, events: Int16(POLLIN), deadline: deadline, timeout: timeout)
                    case .endOfFile:
                        throw TransportError(.tls, "the server closed the connection during the TLS handshake")
                    case .processed:
                        continue
                    }
                }
            }
        #else
            throw TransportError(.unsupportedScheme, "wss:// needs OpenSSL, which this platform does not have")
        #endif
    }

    /// Plaintext from the socket (through TLS for wss://).
    private func receive(_ buffer: UnsafeMutableRawBufferPointer) throws(StreamError) -> SystemCalls.IOResult {
        if let tls { return try tls.receive(socket, into: buffer) }
        do {
            return try SystemCalls.receiveBytes(socket, into: buffer)
        } catch {
            throw .system(error)
        }
    }

    /// Plaintext to the socket (through TLS for wss://); `.processed` counts plaintext bytes.
    private func send(_ bytes: UnsafeRawBufferPointer) throws(StreamError) -> SystemCalls.IOResult {
        if let tls { return try tls.send(socket, bytes) }
        do {
            return try SystemCalls.sendBytes(socket, bytes)
        } catch {
            throw .system(error)
        }
    }

    /// Runs a stream call of the opening phase: socket failures lose the connection, TLS ones are `.tls`.
    private func opening<T>(_ body: () throws(StreamError) -> T) throws(TransportError) -> T {
        do {
            return try body()
        } catch {
            throw error.transportError
        }
    }

    /// One non-blocking connect attempt; nil (with the reason in `failures`) if it failed.
    private mutating func connect(
        to address: ResolvedAddress,
        deadline: ContinuousClock.Instant,
        failures: inout [String]
    ) throws(TransportError) -> Int32? {
        let fd: Int32
        do {
            #if os(Linux)
                fd = try SystemCalls.makeSocket(family: address.family, type: Int32(SOCK_STREAM.rawValue), protocol: 0)
            #else
                fd = try SystemCalls.makeSocket(family: address.family, type: SOCK_STREAM, protocol: 0)
            #endif
        } catch {
            failures.append("\(address): \(error)")
            return nil
        }
        var storage = address.storage
        do {
            let connected = try withUnsafePointer(to: &storage) { pointer throws(SystemCallError) -> Bool in
                try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress throws(SystemCallError) in
                    try SystemCalls.startConnect(fd, address: socketAddress, length: address.length)
                }
            }
            if connected { return fd }
        } catch {
            SystemCalls.closeDescriptor(fd)
            failures.append("\(address): \(Self.errnoText(error.errno))")
            return nil
        }
        do throws(TransportError) {
            _ = try wait(
                for: fd, events: Int16(POLLOUT), deadline: deadline,
                timeout: TransportError(
                    .connectTimeout, "connecting to \(address) took longer than \(core.request.timeouts.connect)"))
        } catch {
            SystemCalls.closeDescriptor(fd)
            throw error
        }
        let pending = SystemCalls.pendingError(fd)
        guard pending == 0 else {
            SystemCalls.closeDescriptor(fd)
            failures.append("\(address): \(Self.errnoText(pending))")
            return nil
        }
        return fd
    }

    /// Polls `fd` for `events` (and the wakeup, for cancellation) until ready or `deadline`.
    private func wait(
        for fd: Int32,
        events: Int16,
        deadline: ContinuousClock.Instant,
        timeout: TransportError
    ) throws(TransportError) -> Int16 {
        while true {
            let now = clock.now
            guard now < deadline else { throw timeout }
            var fds = [
                pollfd(fd: fd, events: events, revents: 0),
                pollfd(fd: core.wakeup.readDescriptor, events: Int16(POLLIN), revents: 0),
            ]
            _ = try io("poll") { () throws(SystemCallError) in
                try SystemCalls.pollDescriptors(
                    &fds, timeoutMilliseconds: Self.milliseconds(until: deadline, from: now))
            }
            if fds[1].revents != 0 {
                core.wakeup.drain()
                let cancelled = core.shared.withLock { shared in
                    shared.wakeupPending = false
                    return shared.cancelled
                }
                if cancelled { throw TransportError(.cancelled, "the connection attempt was cancelled") }
            }
            if fds[0].revents != 0 { return fds[0].revents }
        }
    }

    private func finishOpen(_ result: Result<String?, TransportError>) {
        let final = result.map { _ in selectedSubprotocol }
        let waiter = core.shared.withLock { shared -> CheckedContinuation<String?, any Error>? in
            shared.openResult = final
            defer { shared.openWaiter = nil }
            return shared.openWaiter
        }
        waiter?.resume(with: final.mapError { $0 as any Error })
    }

    // MARK: The open connection

    private mutating func runLoop(_ readBuffer: UnsafeMutableRawBufferPointer) {
        while !socketDone {
            takeCommands()
            if socketDone { break }
            if processing { processBufferedFrames() }
            if socketDone { break }

            var socketEvents: Int16 = 0
            if processing { socketEvents |= Int16(POLLIN) }
            if writeHead < writeQueue.count || tls?.hasPendingOutput == true { socketEvents |= Int16(POLLOUT) }
            // Plaintext TLS already holds needs no poll for input: look at once.
            let bufferedInput = processing && tls?.hasBufferedInput == true
            var fds = [
                // A paused reader with nothing to write leaves the socket out, so a hang-up does not spin.
                pollfd(fd: socketEvents == 0 ? -1 : socket, events: socketEvents, revents: 0),
                pollfd(fd: core.wakeup.readDescriptor, events: Int16(POLLIN), revents: 0),
            ]
            let now = clock.now
            let timeout = bufferedInput ? 0 : closeDeadline.map { Self.milliseconds(until: $0, from: now) } ?? -1
            do {
                _ = try SystemCalls.pollDescriptors(&fds, timeoutMilliseconds: timeout)
            } catch {
                perform(machine.ioFailed("\(error)"))
                break
            }
            if fds[1].revents != 0 { core.wakeup.drain() }
            let revents = fds[0].revents
            if revents & Int16(POLLOUT | POLLERR | POLLHUP) != 0 {
                if writeHead < writeQueue.count {
                    flushWrites()
                } else if let tls, tls.hasPendingOutput {
                    do {
                        _ = try tls.flush(socket)
                    } catch {
                        perform(machine.ioFailed("\(error)"))
                    }
                }
            }
            if revents & Int16(POLLIN | POLLERR | POLLHUP) != 0 || bufferedInput, !socketDone,
                socketEvents & Int16(POLLIN) != 0
            {
                readAvailable(readBuffer)
            }
            if let deadline = closeDeadline, clock.now >= deadline, !socketDone {
                closeDeadline = nil
                perform(machine.closeTimerFired())
            }
        }
        if !inboundFinished {
            core.producer.finish(throwing: TransportError(.connectionLost, "the connection ended"))
        }
    }

    /// Takes what other threads queued: user frames, a close request, inbound demand.
    private mutating func takeCommands() {
        let (frames, closeRequest, demand) = core.shared.withLock {
            shared -> ([[UInt8]], (code: CloseCode, reason: String)?, Bool) in
            shared.wakeupPending = false
            let frames = shared.pendingFrames
            shared.pendingFrames.removeAll()
            let closeRequest = shared.closeRequest
            shared.closeRequest = nil
            let demand = shared.demandArrived
            shared.demandArrived = false
            return (frames, closeRequest, demand)
        }
        if demand { readingPaused = false }
        if machine.canSend {
            for frame in frames { writeQueue.append((frame, true)) }
        } else if !frames.isEmpty {
            releaseQueued(frames.reduce(0) { $0 + $1.count })
        }
        if let closeRequest { perform(machine.closeRequested(code: closeRequest.code, reason: closeRequest.reason)) }
        if writeHead < writeQueue.count { flushWrites() }
    }

    /// Whether to read and decode: not while the consumer's buffer is full, except when closing
    /// (the server's close frame must still be read).
    private var processing: Bool { !readingPaused || !machine.canSend }

    private mutating func processBufferedFrames() {
        while processing && !socketDone && !decoderBroken {
            do {
                guard let frame = try decoder.nextFrame() else { return }
                perform(machine.frameReceived(frame))
            } catch {
                decoderBroken = true
                perform(machine.decodingFailed(error))
            }
        }
    }

    private mutating func readAvailable(_ readBuffer: UnsafeMutableRawBufferPointer) {
        // A bounded number of reads per turn keeps writes and commands moving under a flood.
        for _ in 0..<8 {
            let result: SystemCalls.IOResult
            do {
                result = try receive(readBuffer)
            } catch {
                perform(machine.ioFailed("\(error)"))
                return
            }
            switch result {
            case .wouldBlock:
                return
            case .endOfFile:
                perform(machine.endOfStream(midFrame: !decoderBroken && decoder.bufferedByteCount > 0))
                return
            case .processed(let count):
                if !decoderBroken && !machine.isClosed {
                    decoder.append(UnsafeRawBufferPointer(rebasing: readBuffer[..<count]))
                }
                processBufferedFrames()
                if !processing || socketDone { return }
            }
        }
    }

    private mutating func flushWrites() {
        var written = 0
        defer { if written > 0 { releaseQueued(written) } }
        while writeHead < writeQueue.count {
            let entry = writeQueue[writeHead]
            let result: SystemCalls.IOResult
            do {
                result = try entry.bytes.withUnsafeBytes { bytes throws(StreamError) in
                    try send(UnsafeRawBufferPointer(rebasing: bytes[writeOffset...]))
                }
            } catch {
                perform(machine.ioFailed("\(error)"))
                return
            }
            guard case .processed(let count) = result else { return }
            writeOffset += count
            if entry.counted { written += count }
            if writeOffset == entry.bytes.count {
                writeHead += 1
                writeOffset = 0
                if writeHead == writeQueue.count {
                    writeQueue.removeAll(keepingCapacity: true)
                    writeHead = 0
                } else if writeHead >= 64 {
                    writeQueue.removeFirst(writeHead)
                    writeHead = 0
                }
            }
        }
    }

    /// `count` user bytes left the queue: lower the count and let waiting senders in.
    private func releaseQueued(_ count: Int) {
        let limit = core.request.limits.outboundBufferSize
        let resumed = core.shared.withLock { shared -> [CheckedContinuation<Void, any Error>] in
            shared.queuedBytes -= count
            var resumed: [CheckedContinuation<Void, any Error>] = []
            while shared.queuedBytes <= limit, !shared.sendWaiters.isEmpty {
                let waiter = shared.sendWaiters.removeFirst()
                shared.pendingFrames.append(waiter.frame)
                shared.queuedBytes += waiter.frame.count
                resumed.append(waiter.continuation)
            }
            if !resumed.isEmpty {
                shared.wakeupPending = true
                core.wakeup.signal()
            }
            return resumed
        }
        for continuation in resumed { continuation.resume() }
    }

    private mutating func perform(_ actions: [WebSocketConnectionStateMachine.Action]) {
        for action in actions {
            switch action {
            case .deliver(let message):
                if readingPaused, case .close = message {
                } else if readingPaused {
                    continue  // closing while the consumer is not reading: drop, do not buffer without bound
                }
                if core.producer.yield(message) == .enqueuedBufferFull { readingPaused = true }
            case .send(let opcode, let payload):
                var frame: [UInt8] = []
                payload.withUnsafeBytes {
                    WebSocketFrameEncoder.encode(opcode: opcode, payload: $0, maskKey: .random(), into: &frame)
                }
                writeQueue.append((frame, false))
                if opcode == .close { stopSending() }
            case .finishInbound(let error):
                inboundFinished = true
                core.producer.finish(throwing: error)
            case .startCloseTimer:
                closeDeadline = clock.now.advanced(by: core.request.timeouts.close)
            case .closeSocket:
                socketDone = true
            }
        }
        if !socketDone, writeHead < writeQueue.count { flushWrites() }
    }

    /// A close frame is queued: no data frame may follow it.
    private func stopSending() {
        let (waiters, dropped) = core.shared.withLock { shared -> ([ConnectionCore.SendWaiter], Int) in
            if shared.sendingClosed == nil {
                shared.sendingClosed = TransportError(.closed, "the connection is closing")
            }
            let waiters = shared.sendWaiters
            shared.sendWaiters.removeAll()
            let dropped = shared.pendingFrames.reduce(0) { $0 + $1.count }
            shared.pendingFrames.removeAll()
            shared.queuedBytes -= dropped
            return (waiters, dropped)
        }
        _ = dropped
        for waiter in waiters {
            waiter.continuation.resume(
                throwing: TransportError(.closed, "the connection closed before the message was queued"))
        }
    }

    /// Closes every descriptor and reports the exit; the thread ends right after.
    private func exit() {
        if socket >= 0 {
            // Best effort, never waiting: the TLS close_notify, then the socket.
            if socketDone, let tls { tls.closeNotify(socket) }
            SystemCalls.closeDescriptor(socket)
        }
        stopSending()
        let waiter = core.shared.withLock { shared -> CheckedContinuation<Void, Never>? in
            shared.exited = true
            defer { shared.exitWaiter = nil }
            return shared.exitWaiter
        }
        core.closeWakeup()
        waiter?.resume()
    }

    // MARK: Helpers

    private func io<T>(_ what: String, _ body: () throws(SystemCallError) -> T) throws(TransportError) -> T {
        do {
            return try body()
        } catch {
            throw TransportError(.connectionLost, "\(error)")
        }
    }

    static func milliseconds(until deadline: ContinuousClock.Instant, from now: ContinuousClock.Instant) -> Int32 {
        let remaining = now.duration(to: deadline)
        guard remaining > .zero else { return 0 }
        let (seconds, attoseconds) = remaining.components
        let milliseconds = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int32(clamping: milliseconds)
    }

    static func errnoText(_ code: Int32) -> String {
        let text = strerror(code).map { String(cString: $0) } ?? "error"
        return "\(text) (errno \(code))"
    }
}
