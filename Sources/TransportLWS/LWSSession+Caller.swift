import CLibWebSockets
import Glibc
import TransportCore

// The caller side of a session: runs on any thread or task, never on the service thread. It
// reads what is fixed at init and changes `shared` under its lock, nothing else; the service
// thread picks the requests up in `processRequests` once woken.
extension LWSSession {
    /// Starts the service thread, which connects at once.
    func start() throws(TransportError) {
        let retained = Unmanaged.passRetained(self)
        var thread = pthread_t()
        let status = pthread_create(
            &thread,
            nil,
            { raw in
                guard let raw else { return nil }
                Unmanaged<LWSSession>.fromOpaque(raw).takeRetainedValue().runServiceThread()
                return nil
            },
            retained.toOpaque()
        )
        guard status == 0 else {
            retained.release()
            throw TransportError(.connectFailed, "could not start the lws service thread (error \(status))")
        }
        self.thread = thread
    }

    /// Waits for the handshake; returns the selected subprotocol. Cancelling the task aborts
    /// the attempt.
    func waitUntilOpen() async throws(TransportError) -> String? {
        do {
            return try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { continuation in
                    let outcome = shared.withLock { shared -> Result<String?, TransportError>? in
                        if let outcome = shared.openOutcome { return outcome }
                        shared.openWaiter = continuation
                        return nil
                    }
                    if let outcome { continuation.resume(with: outcome) }
                }
            } onCancel: {
                self.requestAbort(TransportError(.cancelled, "the connection attempt was cancelled"))
            }
        } catch let error as TransportError {
            throw error
        } catch {
            throw TransportError(.cancelled, "\(error)")
        }
    }

    /// Waits until the service thread has destroyed the context, then joins it.
    func waitUntilTerminated() async {
        await withCheckedContinuation { continuation in
            let done = shared.withLock { shared -> Bool in
                if shared.terminated { return true }
                shared.terminationWaiter = continuation
                return false
            }
            if done { continuation.resume() }
        }
        if let thread {
            pthread_join(thread, nil)
            self.thread = nil
        }
    }

    /// The queue item of a data message; the errors `send` and `trySend` throw before queuing.
    private func outboundItem(_ message: WebSocketMessage) throws(TransportError) -> LWSOutboundQueue.Item {
        let item: LWSOutboundQueue.Item
        switch message {
        case .text(let bytes): item = .message(isText: true, bytes: bytes)
        case .binary(let bytes): item = .message(isText: false, bytes: bytes)
        case .close: throw TransportError(.invalidRequest, "close with close(code:reason:), not send")
        }
        guard item.byteCount <= request.limits.maxMessageSize else {
            throw TransportError(
                .messageTooBig,
                "a message of \(item.byteCount) bytes exceeds maxMessageSize \(request.limits.maxMessageSize)"
            )
        }
        return item
    }

    /// Queues the message if the queue has room and no `send` waits; never suspends.
    func trySend(_ message: WebSocketMessage) throws(TransportError) -> Bool {
        let item = try outboundItem(message)
        let limit = request.limits.outboundBufferSize
        var wakes = false
        let queued = shared.withLock { shared -> Result<Bool, TransportError> in
            guard shared.state == .open else { return .failure(shared.state.closedError) }
            // The same room test as `send`'s: a message goes now exactly when a `send` of it
            // would not have waited.
            guard shared.sendWaiters.isEmpty && shared.outbound.canAccept(byteCount: item.byteCount, limit: limit)
            else { return .success(false) }
            shared.outbound.append(item)
            wakes = shared.claimWake()
            return .success(true)
        }
        if wakes { wakeServiceThread() }
        return try queued.get()
    }

    func send(_ message: WebSocketMessage) async throws(TransportError) {
        let item = try outboundItem(message)
        let limit = request.limits.outboundBufferSize
        var wakes = false
        let immediate = shared.withLock { shared -> Result<Int?, TransportError> in
            guard shared.state == .open else { return .failure(shared.state.closedError) }
            if shared.sendWaiters.isEmpty && shared.outbound.canAccept(byteCount: item.byteCount, limit: limit) {
                shared.outbound.append(item)
                wakes = shared.claimWake()
                return .success(nil)
            }
            shared.nextWaiterID += 1
            return .success(shared.nextWaiterID)
        }
        if wakes { wakeServiceThread() }
        guard let waiterID = try immediate.get() else { return }
        do {
            try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                    var wakes = false
                    let now = shared.withLock { shared -> Result<Void, TransportError>? in
                        if Task.isCancelled { return .failure(TransportError(.cancelled, "the send was cancelled")) }
                        guard shared.state == .open else { return .failure(shared.state.closedError) }
                        if shared.sendWaiters.isEmpty
                            && shared.outbound.canAccept(byteCount: item.byteCount, limit: limit)
                        {
                            shared.outbound.append(item)
                            wakes = shared.claimWake()
                            return .success(())
                        }
                        shared.sendWaiters.append(SendWaiter(id: waiterID, item: item, continuation: continuation))
                        return nil
                    }
                    if wakes { wakeServiceThread() }
                    if now == nil { eventSink.yield(.sendSuspended) }
                    if let now { continuation.resume(with: now) }
                }
            } onCancel: {
                let waiter = self.shared.withLock { shared -> SendWaiter? in
                    guard let index = shared.sendWaiters.firstIndex(where: { $0.id == waiterID }) else { return nil }
                    return shared.sendWaiters.remove(at: index)
                }
                waiter?.continuation.resume(throwing: TransportError(.cancelled, "the send was cancelled"))
            }
        } catch let error as TransportError {
            throw error
        } catch {
            throw TransportError(.cancelled, "\(error)")
        }
    }

    /// Queues our close frame behind the messages already queued. Senders still waiting for
    /// room fail with `.closed`.
    func close(code: CloseCode, reason: String) {
        let wireCode = code.isValidOnWire ? code : .normalClosure
        let reasonBytes = Self.truncatedUTF8(reason, maxBytes: 123)
        var wakes = false
        let waiters = shared.withLock { shared -> [SendWaiter] in
            guard shared.state == .open else { return [] }
            shared.state = .closing
            shared.outbound.append(.close(code: wireCode, reason: reasonBytes))
            wakes = shared.claimWake()
            let waiters = shared.sendWaiters
            shared.sendWaiters = []
            return waiters
        }
        if wakes { wakeServiceThread() }
        for waiter in waiters {
            waiter.continuation.resume(throwing: TransportError(.closed, "the connection is closing"))
        }
    }

    func requestAbort(_ error: TransportError) {
        let wakes = shared.withLock { shared -> Bool in
            guard shared.abortRequest == nil else { return false }
            shared.abortRequest = error
            return shared.claimWake()
        }
        if wakes { wakeServiceThread() }
    }

    func requestResumeReading() {
        let wakes = shared.withLock { shared -> Bool in
            shared.resumeReadingRequested = true
            return shared.claimWake()
        }
        if wakes { wakeServiceThread() }
    }

    /// Wakes the service thread (`lws_cancel_service`) once the caller has left `shared`: woken
    /// on the same core while `shared` was still held, it blocked on it at once and had to be
    /// woken a second time. `wakeTarget` has a lock of its own, which the service thread takes
    /// before destroying the context, so the context cannot go away in between.
    func wakeServiceThread() {
        wakeTarget.withLock { target in
            if let target { lws_cancel_service(target.pointer) }
        }
    }

    static func truncatedUTF8(_ text: String, maxBytes: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        for scalar in text.unicodeScalars {
            let encoded = Array(String(scalar).utf8)
            guard bytes.count + encoded.count <= maxBytes else { break }
            bytes.append(contentsOf: encoded)
        }
        return bytes
    }
}
