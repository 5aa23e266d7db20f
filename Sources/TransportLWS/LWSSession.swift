import CLWSShim
import CLibWebSockets
import Glibc
import TransportCore

/// One connection and the service thread that owns its `lws_context`.
///
/// Threads: the service thread alone touches lws (the context, the `lws*`, every callback) and
/// the properties marked "service thread". Other threads (`send`, `close`, the inbound demand
/// handler, cancellation) only change `shared` under its lock and call `lws_cancel_service`,
/// which the lws header names as the one call that is safe from another thread; the service
/// thread then reads the request in `LWS_CALLBACK_EVENT_WAIT_CANCELLED`.
final class LWSSession: @unchecked Sendable {
    // MARK: Fixed at init

    let request: WebSocketRequest
    let target: LWSTarget
    let framing: LWSTransport.Framing
    let inbound: WebSocketInbound
    /// Bytes queued for writing and not yet handed to lws (for tests).
    var queuedOutboundBytes: Int { shared.withLock { $0.outbound.queuedBytes } }
    let producer: WebSocketInbound.Producer

    // MARK: Shared, under the lock

    enum LinkState: Equatable { case connecting, open, closing, closed }

    struct SendWaiter {
        var id: Int
        var item: LWSOutboundQueue.Item
        var continuation: CheckedContinuation<Void, any Error>
    }

    /// The context pointer, handed to other threads only for `lws_cancel_service`.
    struct ContextHandle: @unchecked Sendable { var pointer: OpaquePointer }

    struct Shared {
        /// Non-nil while the context exists: the only value other threads give to lws.
        var context: ContextHandle?
        var state: LinkState = .connecting
        var outbound: LWSOutboundQueue
        var sendWaiters: [SendWaiter] = []
        var nextWaiterID = 0
        var openOutcome: Result<String?, TransportError>?
        var openWaiter: CheckedContinuation<String?, any Error>?
        var abortRequest: TransportError?
        var resumeReadingRequested = false
        /// A `lws_cancel_service` is on its way and `processRequests` has not run since: a burst
        /// of sends costs the service thread one wake-up (one eventfd write), not one each.
        var wakePending = false
        var terminated = false
        var terminationWaiter: CheckedContinuation<Void, Never>?
    }

    let shared: Locked<Shared>

    /// What tests wait for instead of sleeping: backpressure taking effect.
    enum Event: Sendable, Equatable { case readingPaused, readingResumed, sendSuspended }
    /// Every `Event`, in order (unbounded: a few per connection).
    let events: AsyncStream<Event>
    let eventSink: AsyncStream<Event>.Continuation

    // MARK: Service thread only

    var clientWsi: OpaquePointer?
    var assembler: LWSInboundAssembler
    var writeBuffer: UnsafeMutableRawBufferPointer
    let wakeTimer: UnsafeMutablePointer<lws_sorted_usec_list_t>
    var connectDeadline: ContinuousClock.Instant?
    var handshakeDeadline: ContinuousClock.Instant?
    var closeDeadline: ContinuousClock.Instant?
    var selectedSubprotocol: String?
    var isEstablished = false
    var readingPaused = false
    var closeFrameSent = false
    var peerCloseDelivered = false
    /// The error the connection ends with, decided before lws reports the end.
    var pendingFailure: TransportError?
    /// The first certificate verification error OpenSSL reported for this connection.
    var certificateFailure: TransportError?
    var serviceFinished = false
    /// Whether this connection's TLS handshake counts in `LWSTLSGate`.
    var holdsTLSHandshake = false
    var killRequested = false
    /// The close we owe the server after refusing one of its messages (too big, bad UTF-8). It is
    /// sent from the next writeable callback: closing from inside the receive callback (returning
    /// -1 there) made lws 4.1.6 write past its buffer when more of a large frame was already read
    /// (a segfault found by the hostile-server tests, Tests/ReliabilityTests).
    var refusalClose: (status: UInt16, reason: String)?
    /// The WebSocket protocol done by us over a raw lws socket; nil on the libwebsockets path.
    var rawFraming: LWSRawFraming?

    /// Set by `start`, read by `waitUntilTerminated` on the caller's side only.
    var thread: pthread_t?

    /// lws' private `LWS_WRITE_CLOSE` (4): the public header leaves close frames to
    /// `lws_close_reason`, which would hide the server's answer to our close; writing the frame
    /// ourselves keeps the connection established until that answer arrives.
    static let lwsWriteClose: UInt32 = 4

    /// Frames of larger messages go out in pieces of this size, one per writeable callback.
    static let fragmentSize = 64 << 10
    /// The size of lws' socket read buffer (`pt_serv_buf_size`) and our `rx_buffer_size`.
    static let readBufferSize = 64 << 10

    init(request: WebSocketRequest, framing: LWSTransport.Framing = .libwebsockets) throws(TransportError) {
        self.request = request
        self.target = try LWSTarget(request: request)
        self.framing = framing
        if framing == .experimentalRawSocket {
            rawFraming = try LWSRawFraming(request: request, usesTLS: target.usesTLS)
        }
        (inbound, producer) = WebSocketInbound.makeStream(bufferLimit: request.limits.inboundBufferCount)
        shared = Locked(Shared(outbound: LWSOutboundQueue(fragmentSize: Self.fragmentSize)))
        assembler = LWSInboundAssembler(
            maxFrameSize: request.limits.maxFrameSize,
            maxMessageSize: request.limits.maxMessageSize
        )
        // Room for a frame header too: the raw path writes whole frames.
        writeBuffer = .allocate(
            byteCount: LWSLibrary.writeHeadroom + Self.fragmentSize + LWSRawFraming.maxHeaderSize,
            alignment: 16
        )
        wakeTimer = Self.allocateWakeTimer()
        (events, eventSink) = AsyncStream.makeStream()
        producer.setDemandHandler { [weak self] in self?.requestResumeReading() }
    }

    deinit {
        writeBuffer.deallocate()
        UnsafeMutableRawPointer(wakeTimer).deallocate()
    }

    /// The timer's memory: the lws list element, then the context to wake (read by the C callback,
    /// which gets only the element).
    static func allocateWakeTimer() -> UnsafeMutablePointer<lws_sorted_usec_list_t> {
        let raw = UnsafeMutableRawPointer.allocate(
            byteCount: wakeTimerContextOffset + MemoryLayout<OpaquePointer?>.size,
            alignment: 16
        )
        raw.storeBytes(of: nil, toByteOffset: wakeTimerContextOffset, as: OpaquePointer?.self)
        let timer = raw.bindMemory(to: lws_sorted_usec_list_t.self, capacity: 1)
        timer.initialize(to: lws_sorted_usec_list_t())
        return timer
    }

    static let wakeTimerContextOffset =
        (MemoryLayout<lws_sorted_usec_list_t>.stride + 15) / 16 * 16

    // MARK: Caller side

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

    func send(_ message: WebSocketMessage) async throws(TransportError) {
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
        let limit = request.limits.outboundBufferSize
        let immediate = shared.withLock { shared -> Result<Int?, TransportError> in
            guard shared.state == .open else { return .failure(Self.closedError(shared.state)) }
            if shared.sendWaiters.isEmpty && shared.outbound.canAccept(byteCount: item.byteCount, limit: limit) {
                shared.outbound.append(item)
                Self.wake(&shared)
                return .success(nil)
            }
            shared.nextWaiterID += 1
            return .success(shared.nextWaiterID)
        }
        guard let waiterID = try immediate.get() else { return }
        do {
            try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                    let now = shared.withLock { shared -> Result<Void, TransportError>? in
                        if Task.isCancelled { return .failure(TransportError(.cancelled, "the send was cancelled")) }
                        guard shared.state == .open else { return .failure(Self.closedError(shared.state)) }
                        if shared.sendWaiters.isEmpty
                            && shared.outbound.canAccept(byteCount: item.byteCount, limit: limit)
                        {
                            shared.outbound.append(item)
                            Self.wake(&shared)
                            return .success(())
                        }
                        shared.sendWaiters.append(SendWaiter(id: waiterID, item: item, continuation: continuation))
                        return nil
                    }
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
        let waiters = shared.withLock { shared -> [SendWaiter] in
            guard shared.state == .open else { return [] }
            shared.state = .closing
            shared.outbound.append(.close(code: wireCode, reason: reasonBytes))
            Self.wake(&shared)
            let waiters = shared.sendWaiters
            shared.sendWaiters = []
            return waiters
        }
        for waiter in waiters {
            waiter.continuation.resume(throwing: TransportError(.closed, "the connection is closing"))
        }
    }

    func requestAbort(_ error: TransportError) {
        shared.withLock { shared in
            guard shared.abortRequest == nil else { return }
            shared.abortRequest = error
            Self.wake(&shared)
        }
    }

    func requestResumeReading() {
        shared.withLock { shared in
            shared.resumeReadingRequested = true
            Self.wake(&shared)
        }
    }

    /// Wakes the service thread unless a wake-up is already pending; called with the lock held
    /// so the context cannot be destroyed in between.
    static func wake(_ shared: inout Shared) {
        guard !shared.wakePending, let context = shared.context else { return }
        shared.wakePending = true
        lws_cancel_service(context.pointer)
    }

    static func closedError(_ state: LinkState) -> TransportError {
        switch state {
        case .connecting: TransportError(.closed, "the connection is not open yet")
        case .open: TransportError(.closed, "the connection is open")
        case .closing: TransportError(.closed, "the connection is closing")
        case .closed: TransportError(.closed, "the connection is closed")
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

    // MARK: Service thread

    func runServiceThread() {
        _ = LWSLibrary.installDefaultLogging
        var cStrings: [UnsafeMutablePointer<CChar>] = []
        func cString(_ text: String) -> UnsafePointer<CChar>? {
            guard let copy = strdup(text) else { return nil }
            cStrings.append(copy)
            return UnsafePointer(copy)
        }
        defer { cStrings.forEach { free($0) } }

        // The protocol list must outlive the context; a zeroed entry ends it.
        let protocols = UnsafeMutablePointer<lws_protocols>.allocate(capacity: 2)
        protocols.initialize(repeating: lws_protocols(), count: 2)
        defer {
            protocols.deinitialize(count: 2)
            protocols.deallocate()
        }
        protocols[0].name = cString("swift-clustaar-lws")
        protocols[0].callback = lwsSessionCallback
        protocols[0].rx_buffer_size = Self.readBufferSize

        var info = lws_context_creation_info()
        info.port = CONTEXT_PORT_NO_LISTEN
        info.protocols = UnsafePointer(protocols)
        info.user = Unmanaged.passUnretained(self).toOpaque()
        info.fd_limit_per_thread = 16
        // lws reads the socket into this per-thread buffer, default 4096 bytes: a 16 KiB message
        // took five poll + recv rounds and five receive callbacks. One read per 64 KiB instead.
        info.pt_serv_buf_size = UInt32(Self.readBufferSize)
        // No LWS_SERVER_OPTION_VALIDATE_UTF8: the assembler validates whole messages and the
        // close handler the close reason, so the error is always ours to name.
        info.options = 0
        // lws' own timeouts stay behind ours, so ours decide and name the error.
        let longest = max(request.timeouts.connect, request.timeouts.handshake, request.timeouts.close)
        info.timeout_secs = UInt32(clamping: longest.components.seconds + 5)
        info.connect_timeout_secs = info.timeout_secs
        if target.usesTLS {
            // Required even for a client: without it SSL_new fails (TOOLCHAIN §1).
            info.options |= UInt64(LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT)
            if let caFilePath = request.tls.caFilePath { info.client_ssl_ca_filepath = cString(caFilePath) }
        }

        if target.usesTLS { LWSTLSGate.shared.beginContextCreation() }
        let created = lws_create_context(&info)
        if target.usesTLS {
            LWSTLSGate.shared.endContextCreation(startsHandshake: created != nil)
            holdsTLSHandshake = created != nil
        }
        guard let context = created else {
            let error =
                target.usesTLS && request.tls.caFilePath != nil
                ? TransportError(.tls, "could not create the TLS context (CA file \(request.tls.caFilePath ?? ""))")
                : TransportError(.connectFailed, "lws_create_context failed")
            finishService(error)
            eventSink.finish()
            signalTerminated()
            return
        }
        UnsafeMutableRawPointer(wakeTimer).storeBytes(
            of: context,
            toByteOffset: Self.wakeTimerContextOffset,
            as: OpaquePointer?.self
        )
        let handle = ContextHandle(pointer: context)
        shared.withLock { $0.context = handle }

        var connectInfo = lws_client_connect_info()
        connectInfo.context = context
        connectInfo.address = cString(target.address)
        connectInfo.port = target.port
        connectInfo.path = cString(target.path)
        connectInfo.host = cString(target.hostHeader)
        connectInfo.local_protocol_name = protocols[0].name
        if rawFraming != nil {
            // A raw socket: lws connects, we write the upgrade request and do the frames.
            connectInfo.method = cString("RAW")
        } else if !request.subprotocols.isEmpty {
            connectInfo.protocol = cString(request.subprotocols.joined(separator: ","))
        }
        // No retry policy: reconnecting is the Phoenix state machine's job.
        connectInfo.retry_and_idle_policy = nil
        var flags = LCCSCF_HTTP_NO_FOLLOW_REDIRECT.rawValue
        if target.usesTLS {
            flags |= LCCSCF_USE_SSL.rawValue
            if request.tls.insecureSkipVerification {
                flags |=
                    LCCSCF_ALLOW_SELFSIGNED.rawValue | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK.rawValue
                    | LCCSCF_ALLOW_EXPIRED.rawValue | LCCSCF_ALLOW_INSECURE.rawValue
            }
        }
        connectInfo.ssl_connection = Int32(bitPattern: flags)

        connectDeadline = .now + request.timeouts.connect
        let wsi = lws_client_connect_via_info(&connectInfo)
        if let wsi, !serviceFinished {
            clientWsi = wsi
        } else if !serviceFinished {
            finishService(TransportError(.connectFailed, "lws_client_connect_via_info failed"))
        }
        processRequests()  // a cancellation may have come before the context existed
        killIfRequested()
        scheduleWake(context)

        while !serviceFinished {
            if lws_service(context, 0) < 0 {
                if !serviceFinished { finishService(TransportError(.connectionLost, "lws_service failed")) }
                break
            }
            checkDeadlines(context)
            killIfRequested()
        }

        shared.withLock { $0.context = nil }
        lws_sul_cancel(wakeTimer)
        lws_context_destroy(context)
        releaseTLSHandshake()
        clientWsi = nil
        eventSink.finish()
        signalTerminated()
    }

    fileprivate func handle(
        _ wsi: OpaquePointer,
        _ reason: lws_callback_reasons,
        _ user: UnsafeMutableRawPointer?,
        _ input: UnsafeMutableRawPointer?,
        _ length: Int
    ) -> Int32 {
        switch reason {
        case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
            processRequests()
        case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
            return appendHandshakeHeaders(wsi, input, length)
        case LWS_CALLBACK_CLIENT_FILTER_PRE_ESTABLISH:
            // Read here: lws frees the header table before CLIENT_ESTABLISHED.
            selectedSubprotocol = Self.header(wsi, WSI_TOKEN_PROTOCOL)
        case LWS_CALLBACK_CLIENT_ESTABLISHED:
            established(wsi)
        case LWS_CALLBACK_OPENSSL_PERFORM_SERVER_CERT_VERIFICATION:
            // user: the X509_STORE_CTX, length: OpenSSL's preverify_ok. lws' own error text
            // only says "connect SSL err 1", so the reason is taken from here.
            let code = lwsshim_x509_store_error(user)
            if length == 0 && code != 0 && certificateFailure == nil {
                let text = lwsshim_x509_error_text(code).map { String(cString: $0) } ?? "unknown error"
                // Permanent: the same certificate fails again, so reconnecting cannot help.
                certificateFailure = TransportError(
                    .tls,
                    "certificate verification failed: \(text) (X509 error \(code))",
                    isPermanent: true
                )
            }
        case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
            connectionError(wsi, input, length)
        case LWS_CALLBACK_CLIENT_RECEIVE:
            return receive(wsi, input, length)
        case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
            return peerInitiatedClose(wsi, input, length)
        case LWS_CALLBACK_CLIENT_WRITEABLE:
            return writeable(wsi)
        case LWS_CALLBACK_CLIENT_CLOSED:
            if wsi == clientWsi || clientWsi == nil { connectionClosed(wsi) }
        case LWS_CALLBACK_RAW_CONNECTED:
            return rawConnected(wsi)
        case LWS_CALLBACK_RAW_RX:
            return rawReceive(wsi, input, length)
        case LWS_CALLBACK_RAW_WRITEABLE:
            return rawWriteable(wsi)
        case LWS_CALLBACK_RAW_CLOSE:
            if wsi == clientWsi || clientWsi == nil { rawClosed(wsi) }
        case LWS_CALLBACK_WSI_DESTROY:
            // Safety net: the client wsi went away without the callback we expected.
            if wsi == clientWsi {
                clientWsi = nil
                if !serviceFinished {
                    finishService(
                        pendingFailure ?? TransportError(.connectionLost, "libwebsockets closed the connection")
                    )
                }
            }
        default:
            break
        }
        return 0
    }

    func appendHandshakeHeaders(
        _ wsi: OpaquePointer,
        _ input: UnsafeMutableRawPointer?,
        _ length: Int
    ) -> Int32 {
        // TCP (and TLS) are up: the connect phase is over, the handshake phase begins.
        clientWsi = wsi
        connectDeadline = nil
        handshakeDeadline = .now + request.timeouts.handshake
        guard !request.headers.isEmpty else { return 0 }
        guard let cursor = input?.assumingMemoryBound(to: UnsafeMutablePointer<UInt8>?.self),
            let start = cursor.pointee
        else { return -1 }
        let end = start + length
        for header in request.headers {
            let failed = (header.name + ":").withCString { name in
                header.value.withCString { value in
                    lws_add_http_header_by_name(
                        wsi,
                        UnsafeRawPointer(name).assumingMemoryBound(to: UInt8.self),
                        UnsafeRawPointer(value).assumingMemoryBound(to: UInt8.self),
                        Int32(header.value.utf8.count),
                        cursor,
                        end
                    ) != 0
                }
            }
            if failed {
                pendingFailure = TransportError(.invalidRequest, "the request headers do not fit in lws' buffer")
                return -1
            }
        }
        return 0
    }

    func releaseTLSHandshake() {
        guard holdsTLSHandshake else { return }
        holdsTLSHandshake = false
        LWSTLSGate.shared.endHandshake()
    }

    func established(_ wsi: OpaquePointer) {
        releaseTLSHandshake()
        clientWsi = wsi
        isEstablished = true
        handshakeDeadline = nil
        let subprotocol = selectedSubprotocol
        let waiter = shared.withLock { shared -> CheckedContinuation<String?, any Error>? in
            shared.state = .open
            shared.openOutcome = .success(subprotocol)
            defer { shared.openWaiter = nil }
            return shared.openWaiter
        }
        waiter?.resume(returning: subprotocol)
        processRequests()
    }

    func connectionError(_ wsi: OpaquePointer, _ input: UnsafeMutableRawPointer?, _ length: Int) {
        var text = ""
        if let input {
            let bytes = UnsafeRawBufferPointer(start: input, count: max(0, length))
            text = String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
            if length == 0 { text = String(cString: input.assumingMemoryBound(to: CChar.self)) }
        }
        let status = Int(lws_http_client_http_response(wsi))
        let error =
            pendingFailure ?? certificateFailure
            ?? LWSConnectFailure.error(text: text, httpStatus: status, usesTLS: target.usesTLS)
        clientWsi = nil
        finishService(error)
    }

    func receive(_ wsi: OpaquePointer, _ input: UnsafeMutableRawPointer?, _ length: Int) -> Int32 {
        // After a refusal, what lws still hands over is dropped until our close goes out.
        guard !peerCloseDelivered, refusalClose == nil else { return 0 }
        let chunk = UnsafeRawBufferPointer(start: length > 0 ? input : nil, count: length > 0 ? length : 0)
        let outcome = assembler.receive(
            chunk,
            isBinary: lws_frame_is_binary(wsi) != 0,
            remainingInFrame: Int(lws_remaining_packet_payload(wsi)),
            isFinalFragment: lws_is_final_fragment(wsi) != 0
        )
        switch outcome {
        case .needMore:
            return 0
        case .message(let message):
            if producer.yield(message) == .enqueuedBufferFull && !readingPaused {
                readingPaused = true
                lws_rx_flow_control(wsi, 0)
                eventSink.yield(.readingPaused)
            }
            return 0
        case .tooBig(let reason):
            return refuseMessage(
                wsi, TransportError(.messageTooBig, reason), closeStatus: 1009, reason: "message too big")
        case .invalidUTF8:
            return refuseMessage(
                wsi,
                TransportError(.protocolViolation, "a text message was not valid UTF-8"),
                closeStatus: 1007,
                reason: "invalid UTF-8"
            )
        }
    }

    /// Ends the inbound sequence with `error` and lets lws send our close frame (from the peer's
    /// close callback, where lws is closing anyway).
    func failLocally(_ wsi: OpaquePointer, _ error: TransportError, closeStatus: UInt16, reason: String)
        -> Int32
    {
        pendingFailure = pendingFailure ?? error
        producer.finish(throwing: error)
        markClosed()
        var reasonBytes = Array(reason.utf8)
        lws_close_reason(wsi, lws_close_status(rawValue: UInt32(closeStatus)), &reasonBytes, reasonBytes.count)
        return -1
    }

    /// A message refused while receiving: ends the inbound sequence with `error`, stops reading,
    /// and asks for a writeable callback, where our close frame goes out (see `refusalClose`).
    func refuseMessage(_ wsi: OpaquePointer, _ error: TransportError, closeStatus: UInt16, reason: String)
        -> Int32
    {
        pendingFailure = pendingFailure ?? error
        producer.finish(throwing: error)
        markClosed()
        refusalClose = (closeStatus, reason)
        lws_rx_flow_control(wsi, 0)
        lws_callback_on_writable(wsi)
        return 0
    }

    func peerInitiatedClose(_ wsi: OpaquePointer, _ input: UnsafeMutableRawPointer?, _ length: Int) -> Int32 {
        let payload =
            if let input, length > 0 { Array(UnsafeRawBufferPointer(start: input, count: length)) } else { [UInt8]() }
        let code: CloseCode? = payload.count >= 2 ? CloseCode(UInt16(payload[0]) << 8 | UInt16(payload[1])) : nil
        peerCloseDelivered = true
        guard payload.count <= 2 || String(validating: payload[2...], as: UTF8.self) != nil else {
            let error = TransportError(.protocolViolation, "the server's close reason was not valid UTF-8")
            return failLocally(wsi, error, closeStatus: 1007, reason: "invalid UTF-8")
        }
        let reason = payload.count > 2 ? String(decoding: payload[2...], as: UTF8.self) : ""
        if let code, !code.isValidOnWire {
            // A code lws let through (e.g. 5000): answer 1002 ourselves.
            let error = TransportError(.protocolViolation, "the server closed with the invalid code \(code)")
            return failLocally(wsi, error, closeStatus: 1002, reason: "invalid close code")
        }
        if code == .protocolError {
            // lws 4.1 overwrites codes below 1000, 1004-1006 and 1012-2999 (valid 1012-1014
            // included) with 1002 in place before this callback (client-parser-ws.c), so the
            // real code is gone: every case ends as a violation.
            producer.finish(
                throwing: TransportError(
                    .protocolViolation,
                    "the server closed with 1002, or with a code libwebsockets 4.1 replaces by 1002 "
                        + "(below 1000, 1004-1006, 1012-2999)"
                )
            )
        } else {
            producer.yield(.close(code: code, reason: reason))
            producer.finish()
        }
        markClosed()
        // Our own close went out first: this is its answer, and nothing is left to send.
        // Otherwise lws answers with the same code.
        return closeFrameSent ? -1 : 0
    }

    func writeable(_ wsi: OpaquePointer) -> Int32 {
        if let refusal = refusalClose {
            // lws writes the close frame with this code and reason, then closes (TOOLCHAIN §1).
            var reasonBytes = Array(refusal.reason.utf8)
            lws_close_reason(wsi, lws_close_status(rawValue: UInt32(refusal.status)), &reasonBytes, reasonBytes.count)
            return -1
        }
        guard !closeFrameSent, !peerCloseDelivered else { return 0 }
        if lws_send_pipe_choked(wsi) != 0 {
            lws_callback_on_writable(wsi)
            return 0
        }
        // Several frames per callback, up to a fragment's worth of bytes: a burst of small
        // messages then costs one trip through the service loop, not one each. As lws'
        // header asks of several writes in one callback, stop as soon as lws had to keep
        // part of a write (`lws_partial_buffered`) and go on in the next callback.
        var budget = Self.fragmentSize
        while true {
            guard let (frame, more) = takeOutboundFrame() else { return 0 }
            guard writeFrame(frame, wsi) else { return -1 }
            if frame.kind == .close {
                closeFrameSent = true
                return 0
            }
            guard more else { return 0 }
            budget -= max(frame.payload.count, 1)
            if budget <= 0 || lws_partial_buffered(wsi) != 0 { break }
        }
        lws_callback_on_writable(wsi)
        return 0
    }

    /// The next frame of the user's queue and whether more follow, letting waiting senders in
    /// as room frees up.
    func takeOutboundFrame() -> (LWSOutboundQueue.Frame, Bool)? {
        let limit = request.limits.outboundBufferSize
        let (frame, admitted, more) = shared.withLock {
            shared -> (LWSOutboundQueue.Frame?, [CheckedContinuation<Void, any Error>], Bool) in
            guard let frame = shared.outbound.nextFrame() else { return (nil, [], false) }
            var admitted: [CheckedContinuation<Void, any Error>] = []
            while let first = shared.sendWaiters.first,
                shared.outbound.canAccept(byteCount: first.item.byteCount, limit: limit)
            {
                shared.outbound.append(first.item)
                admitted.append(first.continuation)
                shared.sendWaiters.removeFirst()
            }
            return (frame, admitted, !shared.outbound.isEmpty)
        }
        for continuation in admitted { continuation.resume() }
        guard let frame else { return nil }
        return (frame, more)
    }

    /// One `lws_write` of `frame` from `writeBuffer`; false (with the failure recorded) if lws
    /// could not take it.
    private func writeFrame(_ frame: LWSOutboundQueue.Frame, _ wsi: OpaquePointer) -> Bool {
        let headroom = LWSLibrary.writeHeadroom
        let payload = UnsafeMutableRawBufferPointer(rebasing: writeBuffer[headroom...])
        let count = frame.payload.count
        frame.payload.withUnsafeBytes { bytes in
            if let source = bytes.baseAddress, count > 0 {
                payload.baseAddress?.copyMemory(from: source, byteCount: count)
            }
        }
        var kind: UInt32
        switch frame.kind {
        case .text: kind = LWS_WRITE_TEXT.rawValue
        case .binary: kind = LWS_WRITE_BINARY.rawValue
        case .continuation: kind = LWS_WRITE_CONTINUATION.rawValue
        case .close: kind = Self.lwsWriteClose
        }
        if !frame.isFinal { kind |= LWS_WRITE_NO_FIN.rawValue }
        guard let base = payload.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return false }
        let written = lws_write(wsi, base, count, lws_write_protocol(rawValue: kind))
        if written < count {
            pendingFailure = pendingFailure ?? TransportError(.connectionLost, "lws_write failed")
            return false
        }
        return true
    }

    func connectionClosed(_ wsi: OpaquePointer) {
        guard !serviceFinished else { return }
        var error = pendingFailure
        if error == nil && !peerCloseDelivered {
            error =
                Self.lwsCloseError(wsi)
                ?? TransportError(.connectionLost, "the connection closed without a close frame")
        }
        clientWsi = nil
        finishService(peerCloseDelivered ? nil : error)
    }

    /// When lws itself closed (e.g. a protocol error it detected), its close frame says why.
    static func lwsCloseError(_ wsi: OpaquePointer) -> TransportError? {
        let length = Int(lws_get_close_length(wsi))
        guard length >= 2, let payload = lws_get_close_payload(wsi) else { return nil }
        let code = UInt16(payload[0]) << 8 | UInt16(payload[1])
        switch code {
        case 1002, 1007: return TransportError(.protocolViolation, "libwebsockets closed the connection with \(code)")
        case 1009: return TransportError(.messageTooBig, "libwebsockets closed the connection with 1009")
        default: return nil
        }
    }

    /// Runs on every `lws_cancel_service`: applies what other threads asked for.
    func processRequests() {
        let (abort, resumeReading, hasOutbound, closing) = shared.withLock {
            shared -> (TransportError?, Bool, Bool, Bool) in
            // Cleared with the same look at the requests: one made after this wakes again.
            shared.wakePending = false
            let abort = shared.abortRequest
            shared.abortRequest = nil
            let resume = shared.resumeReadingRequested
            shared.resumeReadingRequested = false
            return (abort, resume, !shared.outbound.isEmpty, shared.state == .closing)
        }
        if let abort {
            pendingFailure = pendingFailure ?? abort
            kill()
        }
        guard isEstablished, let wsi = clientWsi else { return }
        if closing && closeDeadline == nil {
            // Bounds draining the queue plus waiting for the answer to our close frame.
            closeDeadline = .now + request.timeouts.close
            if let context = lws_get_context(wsi) { scheduleWake(context) }
        }
        if (resumeReading || closing) && readingPaused {
            readingPaused = false
            lws_rx_flow_control(wsi, 1)
            eventSink.yield(.readingResumed)
            if rawFraming != nil {
                // Frames decoded before the pause may still wait in the decoder.
                rawProcessFrames(wsi)
                if rawFraming?.closeSocketRequested == true { kill() }
            }
        }
        if hasOutbound && !closeFrameSent { lws_callback_on_writable(wsi) }
    }

    func checkDeadlines(_ context: OpaquePointer) {
        let now = ContinuousClock.now
        if let deadline = connectDeadline, now >= deadline {
            connectDeadline = nil
            fail(TransportError(.connectTimeout, "no connection within \(request.timeouts.connect)"))
        }
        if let deadline = handshakeDeadline, now >= deadline {
            handshakeDeadline = nil
            fail(TransportError(.handshakeTimeout, "no handshake answer within \(request.timeouts.handshake)"))
        }
        if let deadline = closeDeadline, now >= deadline, rawFraming != nil {
            closeDeadline = nil
            rawCloseTimerFired()
        } else if let deadline = closeDeadline, now >= deadline {
            closeDeadline = nil
            let error = TransportError(
                .closeTimeout, "the server did not answer our close within \(request.timeouts.close)")
            producer.finish(throwing: error)
            fail(error)
        }
        if !serviceFinished { scheduleWake(context) }
    }

    func fail(_ error: TransportError) {
        pendingFailure = pendingFailure ?? error
        kill()
    }

    /// Asks for the client wsi to be closed once the current `lws_service` returns.
    func kill() {
        killRequested = true
    }

    /// Closes the client wsi synchronously, outside any callback (in lws 4.1 an asynchronous
    /// kill of a wsi waiting for the server's reply was observed to wait for lws' own timeout).
    func killIfRequested() {
        guard killRequested else { return }
        killRequested = false
        if let wsi = clientWsi {
            lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_SYNC)
        }
        if !serviceFinished {
            // On the raw path a connection whose inbound sequence already ended cleanly
            // (closing handshake done) ends without an error.
            let endedCleanly = rawFraming?.inboundFinished == true
            finishService(
                endedCleanly
                    ? pendingFailure : pendingFailure ?? TransportError(.connectionLost, "the connection was aborted"))
        }
    }

    /// Arms lws' timer for the nearest of our deadlines, so `lws_service` returns by then.
    func scheduleWake(_ context: OpaquePointer) {
        let deadlines = [connectDeadline, handshakeDeadline, closeDeadline].compactMap { $0 }
        guard let nearest = deadlines.min() else {
            lws_sul_cancel(wakeTimer)
            return
        }
        let delay = ContinuousClock.now.duration(to: nearest)
        let micros = max(0, delay.components.seconds * 1_000_000 + delay.components.attoseconds / 1_000_000_000_000)
        lws_sul_schedule(context, 0, wakeTimer, lwsWakeTimerFired, lws_usec_t(micros + 1))
    }

    func markClosed() {
        let waiters = shared.withLock { shared -> [SendWaiter] in
            shared.state = .closed
            let waiters = shared.sendWaiters
            shared.sendWaiters = []
            return waiters
        }
        for waiter in waiters {
            waiter.continuation.resume(throwing: TransportError(.closed, "the connection is closed"))
        }
    }

    /// The connection is over: ends the inbound sequence, fails whoever still waits.
    func finishService(_ error: TransportError?) {
        serviceFinished = true
        releaseTLSHandshake()
        producer.finish(throwing: error)
        let openFailure = error ?? TransportError(.closed, "the connection closed during the handshake")
        let (openWaiter, sendWaiters) = shared.withLock {
            shared -> (CheckedContinuation<String?, any Error>?, [SendWaiter]) in
            shared.state = .closed
            if shared.openOutcome == nil { shared.openOutcome = .failure(openFailure) }
            let openWaiter = shared.openWaiter
            shared.openWaiter = nil
            let sendWaiters = shared.sendWaiters
            shared.sendWaiters = []
            return (openWaiter, sendWaiters)
        }
        openWaiter?.resume(throwing: openFailure)
        for waiter in sendWaiters {
            waiter.continuation.resume(throwing: TransportError(.closed, "the connection is closed"))
        }
    }

    func signalTerminated() {
        let waiter = shared.withLock { shared -> CheckedContinuation<Void, Never>? in
            shared.terminated = true
            defer { shared.terminationWaiter = nil }
            return shared.terminationWaiter
        }
        waiter?.resume()
    }

    static func header(_ wsi: OpaquePointer, _ token: lws_token_indexes) -> String? {
        let length = Int(lws_hdr_total_length(wsi, token))
        guard length > 0 else { return nil }
        var buffer = [CChar](repeating: 0, count: length + 1)
        guard lws_hdr_copy(wsi, &buffer, Int32(buffer.count), token) > 0 else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// The protocol callback: a C function pointer, so it finds its session through the context's
/// user pointer (the `user` argument is nil for lws' internal wsi, e.g. EVENT_WAIT_CANCELLED).
private func lwsSessionCallback(
    _ wsi: OpaquePointer?,
    _ reason: lws_callback_reasons,
    _ user: UnsafeMutableRawPointer?,
    _ input: UnsafeMutableRawPointer?,
    _ length: Int
) -> Int32 {
    guard let wsi, let context = lws_get_context(wsi), let raw = lws_context_user(context) else { return 0 }
    return Unmanaged<LWSSession>.fromOpaque(raw).takeUnretainedValue().handle(wsi, reason, user, input, length)
}

/// Our deadline timer. lws may run a due timer before it polls and then poll for up to 30 s, so
/// the timer wakes the poll through the cancel pipe; the service loop then checks the deadlines.
private func lwsWakeTimerFired(_ timer: UnsafeMutablePointer<lws_sorted_usec_list_t>?) {
    guard let timer else { return }
    let slot = UnsafeMutableRawPointer(timer).load(
        fromByteOffset: LWSSession.wakeTimerContextOffset,
        as: OpaquePointer?.self
    )
    if let context = slot { lws_cancel_service(context) }
}
