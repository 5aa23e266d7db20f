import CLWSShim
import CLibWebSockets
import TransportCore

// The lws callbacks of the libwebsockets framing (the raw-socket framing's are in
// LWSRawFraming.swift). lws calls them from `lws_service`, so all run on the service thread.
extension LWSSession {
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

    static func header(_ wsi: OpaquePointer, _ token: lws_token_indexes) -> String? {
        let length = Int(lws_hdr_total_length(wsi, token))
        guard length > 0 else { return nil }
        var buffer = [CChar](repeating: 0, count: length + 1)
        guard lws_hdr_copy(wsi, &buffer, Int32(buffer.count), token) > 0 else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// The protocol callback (installed by `runServiceThread`): a C function pointer, so it finds its session through the context's
/// user pointer (the `user` argument is nil for lws' internal wsi, e.g. EVENT_WAIT_CANCELLED).
func lwsSessionCallback(
    _ wsi: OpaquePointer?,
    _ reason: lws_callback_reasons,
    _ user: UnsafeMutableRawPointer?,
    _ input: UnsafeMutableRawPointer?,
    _ length: Int
) -> Int32 {
    guard let wsi, let context = lws_get_context(wsi), let raw = lws_context_user(context) else { return 0 }
    return Unmanaged<LWSSession>.fromOpaque(raw).takeUnretainedValue().handle(wsi, reason, user, input, length)
}
