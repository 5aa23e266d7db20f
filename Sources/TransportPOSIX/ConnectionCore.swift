import TransportCore
import WebSocketProtocol

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What one connection's I/O thread and the async callers share, all behind one lock: the
/// outbound queue with its byte count (backpressure), commands (close, inbound demand), the
/// open result, and the thread's exit. The I/O thread owns everything else.
final class ConnectionCore: Sendable {
    struct SendWaiter {
        var id: UInt64
        var frame: [UInt8]
        var continuation: CheckedContinuation<Void, any Error>
    }

    struct Shared: ~Copyable {
        var openResult: Result<String?, TransportError>?
        var openWaiter: CheckedContinuation<String?, any Error>?
        var exited = false
        var exitWaiter: CheckedContinuation<Void, Never>?
        var thread: pthread_t?

        /// Encoded data frames from `send`, not yet taken by the I/O thread.
        var pendingFrames: [[UInt8]] = []
        /// Bytes of user frames queued anywhere and not yet written to the socket.
        var queuedBytes = 0
        var sendWaiters: [SendWaiter] = []
        var nextWaiterID: UInt64 = 0
        /// Set once a close frame is requested or queued: `send` then throws.
        var sendingClosed: TransportError?

        var closeRequest: (code: CloseCode, reason: String)?
        var cancelled = false
        var demandArrived = false
        var wakeupPending = false
    }

    let request: WebSocketRequest
    let handshake: HTTPUpgradeHandshake
    let inbound: WebSocketInbound
    let producer: WebSocketInbound.Producer
    let wakeup: Wakeup
    let shared: Locked<Shared>
    /// Whether `wakeup` is closed, behind a lock of its own. Threads wake the I/O thread after
    /// leaving `shared`: woken on the same core while `shared` was still held, it blocked on it
    /// at once and had to be woken a second time. This lock keeps `signal` and `close` apart,
    /// so no thread writes to a closed (and maybe reused) descriptor.
    private let wakeupClosed = Locked(false)

    init(request: WebSocketRequest, handshake: HTTPUpgradeHandshake) throws(TransportError) {
        self.request = request
        self.handshake = handshake
        (inbound, producer) = WebSocketInbound.makeStream(bufferLimit: request.limits.inboundBufferCount)
        do {
            wakeup = try Wakeup()
        } catch {
            throw TransportError(.connectFailed, "could not create the I/O thread's wakeup descriptor: \(error)")
        }
        shared = Locked(Shared())
        producer.setDemandHandler { [weak self] in
            self?.signal { $0.demandArrived = true }
        }
    }

    /// Applies `change` to the shared state and wakes the I/O thread (once per loop turn).
    func signal(_ change: (inout Shared) -> Void = { _ in }) {
        let wakes = shared.withLock { shared in
            change(&shared)
            return Self.claimWakeup(&shared)
        }
        if wakes { wakeIOThread() }
    }

    /// Whether the caller should wake the I/O thread once it has left the lock: not if it has
    /// exited or a wakeup is already on its way (called with `shared` held).
    static func claimWakeup(_ shared: inout Shared) -> Bool {
        guard !shared.exited, !shared.wakeupPending else { return false }
        shared.wakeupPending = true
        return true
    }

    /// Wakes the I/O thread out of `poll`; called without `shared` held.
    func wakeIOThread() {
        wakeupClosed.withLock { closed in
            if !closed { wakeup.signal() }
        }
    }

    /// Closes the wakeup descriptors: the I/O thread's last act, or a failed start.
    func closeWakeup() {
        wakeupClosed.withLock { closed in
            guard !closed else { return }
            closed = true
            wakeup.close()
        }
    }

    // MARK: Lifecycle, seen from the async side

    /// Starts the I/O thread.
    func start() throws(TransportError) {
        let context = Unmanaged.passRetained(self).toOpaque()
        var thread = pthread_t()
        let status = pthread_create(
            &thread, nil,
            { raw in
                guard let raw else { return nil }
                let core = Unmanaged<ConnectionCore>.fromOpaque(raw).takeRetainedValue()
                var loop = IOLoop(core: core)
                loop.run()
                return nil
            }, context)
        guard status == 0 else {
            Unmanaged<ConnectionCore>.fromOpaque(context).release()
            shared.withLock { $0.exited = true }
            closeWakeup()
            throw TransportError(.connectFailed, "could not start the I/O thread (pthread_create: \(status))")
        }
        shared.withLock { $0.thread = thread }
    }

    /// Waits for the upgrade to finish; returns the selected subprotocol.
    func waitUntilOpen() async throws(TransportError) -> String? {
        do {
            return try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { continuation in
                    let ready = shared.withLock { shared -> Result<String?, TransportError>? in
                        if let result = shared.openResult { return result }
                        shared.openWaiter = continuation
                        return nil
                    }
                    if let ready { continuation.resume(with: ready) }
                }
            } onCancel: {
                signal { $0.cancelled = true }
            }
        } catch let error as TransportError {
            throw error
        } catch {
            throw TransportError(.cancelled, "\(error)")
        }
    }

    /// Waits for the I/O thread to end, then joins it. Every descriptor is closed by then.
    func waitForExit() async {
        await withCheckedContinuation { continuation in
            let done = shared.withLock { shared -> Bool in
                if shared.exited { return true }
                shared.exitWaiter = continuation
                return false
            }
            if done { continuation.resume() }
        }
        if let thread = shared.withLock({ shared -> pthread_t? in
            defer { shared.thread = nil }
            return shared.thread
        }) {
            // The thread's last act was to report its exit: this join returns at once.
            pthread_join(thread, nil)
        }
    }

    // MARK: Outbound, from any task

    func send(_ message: WebSocketMessage) async throws(TransportError) {
        try await enqueue(encodedFrame(message))
    }

    /// Queues the message's frame if the queue has room and no `send` waits; never suspends.
    func trySend(_ message: WebSocketMessage) throws(TransportError) -> Bool {
        let frame = try encodedFrame(message)
        let limit = request.limits.outboundBufferSize
        var wakes = false
        let queued = shared.withLock { shared -> Result<Bool, TransportError> in
            if let error = shared.sendingClosed { return .failure(error) }
            // The same room test as `enqueue`'s: a message goes now exactly when a `send` of it
            // would not have waited.
            guard shared.sendWaiters.isEmpty, shared.queuedBytes <= limit else { return .success(false) }
            wakes = queue(frame, in: &shared)
            return .success(true)
        }
        if wakes { wakeIOThread() }
        return try queued.get()
    }

    /// The masked frame of a data message; the errors `send` and `trySend` throw before queuing.
    private func encodedFrame(_ message: WebSocketMessage) throws(TransportError) -> [UInt8] {
        let opcode: WebSocketOpcode
        let payload: [UInt8]
        switch message {
        case .text(let bytes):
            (opcode, payload) = (.text, bytes)
        case .binary(let bytes):
            (opcode, payload) = (.binary, bytes)
        case .close:
            throw TransportError(.invalidRequest, "close with close(code:reason:), not send")
        }
        guard payload.count <= request.limits.maxMessageSize else {
            throw TransportError(
                .messageTooBig,
                "a message of \(payload.count) bytes exceeds maxMessageSize (\(request.limits.maxMessageSize))")
        }
        var frame: [UInt8] = []
        payload.withUnsafeBytes {
            WebSocketFrameEncoder.encode(opcode: opcode, payload: $0, maskKey: .random(), into: &frame)
        }
        return frame
    }

    private func enqueue(_ frame: [UInt8]) async throws(TransportError) {
        let limit = request.limits.outboundBufferSize
        var wakes = false
        let immediate = shared.withLock { shared -> TransportError?? in
            if let error = shared.sendingClosed { return .some(error) }
            guard shared.sendWaiters.isEmpty, shared.queuedBytes <= limit else { return nil }
            wakes = queue(frame, in: &shared)
            return .some(nil)
        }
        if wakes { wakeIOThread() }
        switch immediate {
        case .some(.some(let error)): throw error
        case .some(.none): return
        case .none: break
        }
        // The queue is over its limit: wait until the I/O thread has written enough.
        let id = shared.withLock { shared -> UInt64 in
            shared.nextWaiterID += 1
            return shared.nextWaiterID
        }
        do {
            try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                    var wakes = false
                    let now = shared.withLock { shared -> Result<Void, TransportError>? in
                        if let error = shared.sendingClosed { return .failure(error) }
                        if Task.isCancelled { return .failure(TransportError(.cancelled, "send was cancelled")) }
                        // Checked again under this lock: the I/O thread may have drained the queue
                        // since the first look, and then no one would ever wake this waiter.
                        if shared.sendWaiters.isEmpty, shared.queuedBytes <= limit {
                            wakes = queue(frame, in: &shared)
                            return .success(())
                        }
                        shared.sendWaiters.append(SendWaiter(id: id, frame: frame, continuation: continuation))
                        return nil
                    }
                    if wakes { wakeIOThread() }
                    if let now { continuation.resume(with: now.mapError { $0 as any Error }) }
                }
            } onCancel: {
                let waiter = shared.withLock { shared -> SendWaiter? in
                    guard let index = shared.sendWaiters.firstIndex(where: { $0.id == id }) else { return nil }
                    return shared.sendWaiters.remove(at: index)
                }
                waiter?.continuation.resume(throwing: TransportError(.cancelled, "send was cancelled"))
            }
        } catch let error as TransportError {
            throw error
        } catch {
            throw TransportError(.cancelled, "\(error)")
        }
    }

    /// Hands `frame` to the I/O thread (called with the lock held); true when the caller must
    /// then wake it (`wakeIOThread`, once out of the lock).
    private func queue(_ frame: [UInt8], in shared: inout Shared) -> Bool {
        shared.pendingFrames.append(frame)
        shared.queuedBytes += frame.count
        return Self.claimWakeup(&shared)
    }

    func close(code: CloseCode, reason: String) {
        var wakes = false
        let waiters = shared.withLock { shared -> [SendWaiter] in
            guard shared.sendingClosed == nil else { return [] }
            shared.sendingClosed = TransportError(.closed, "the connection is closing")
            shared.closeRequest = (code, reason)
            wakes = Self.claimWakeup(&shared)
            defer { shared.sendWaiters.removeAll() }
            return shared.sendWaiters
        }
        if wakes { wakeIOThread() }
        for waiter in waiters {
            waiter.continuation.resume(
                throwing: TransportError(.closed, "the connection closed before the message was queued"))
        }
    }
}
