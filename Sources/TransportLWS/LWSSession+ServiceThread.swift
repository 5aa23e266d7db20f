import CLWSShim
import CLibWebSockets
import Glibc
import TransportCore

// The service thread's side of a session: its loop, what it does with the callers' requests,
// its deadlines and the end of the connection. Everything here runs on the service thread.
extension LWSSession {
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
        // CA bytes reach lws as a private file, removed once the context has read it: lws 4.1.6's
        // `client_ssl_ca_mem` keeps only the first certificate of the bytes (one d2i_X509), so a
        // bundle (two roots during a CA rotation, say) would lose the others, and a certificate it
        // cannot decode leaves the context with no CA at all, silently. The file path is read
        // with SSL_CTX_load_verify_locations, every certificate of it, as TransportPOSIX does.
        var caPEMFile: String?
        if target.usesTLS, let caPEM = request.tls.caPEM {
            switch Self.writePrivateFile(caPEM) {
            case .success(let path):
                caPEMFile = path
                info.client_ssl_ca_filepath = cString(path)
            case .failure(let error):
                finishService(error)
                eventSink.finish()
                signalTerminated()
                return
            }
        }

        if target.usesTLS { LWSTLSGate.shared.beginContextCreation() }
        let created = lws_create_context(&info)
        if let caPEMFile { unlink(caPEMFile) }
        if target.usesTLS {
            LWSTLSGate.shared.endContextCreation(startsHandshake: created != nil)
            holdsTLSHandshake = created != nil
        }
        guard let context = created else {
            // A CA that lws cannot load is a configuration error: no retry fixes it.
            let error =
                target.usesTLS && request.tls.caFilePath != nil
                ? TransportError(
                    .tls, "could not create the TLS context (CA file \(request.tls.caFilePath ?? ""))",
                    isPermanent: true)
                : target.usesTLS && request.tls.caPEM != nil
                    ? TransportError(.tls, "could not create the TLS context (CA PEM data)", isPermanent: true)
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
        wakeTarget.withLock { $0 = handle }

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
        wakeTarget.withLock { $0 = nil }
        lws_sul_cancel(wakeTimer)
        lws_context_destroy(context)
        releaseTLSHandshake()
        clientWsi = nil
        eventSink.finish()
        signalTerminated()
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

    func releaseTLSHandshake() {
        guard holdsTLSHandshake else { return }
        holdsTLSHandshake = false
        LWSTLSGate.shared.endHandshake()
    }
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

extension LWSSession {
    /// Writes `bytes` to a new file only this user can read (mkstemp, mode 0600) in the
    /// temporary directory; the caller removes it.
    static func writePrivateFile(_ bytes: [UInt8]) -> Result<String, TransportError> {
        let directory = getenv("TMPDIR").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array("\(directory)/swift-clustaar-ca-XXXXXX".utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else {
            return .failure(
                TransportError(.tls, "could not write the CA PEM data to a temporary file: errno \(errno)"))
        }
        defer { Glibc.close(descriptor) }
        let path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes {
                Glibc.write(descriptor, $0.baseAddress! + written, bytes.count - written)
            }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else {
                unlink(path)
                return .failure(
                    TransportError(.tls, "could not write the CA PEM data to a temporary file: errno \(errno)"))
            }
            written += count
        }
        return .success(path)
    }
}
