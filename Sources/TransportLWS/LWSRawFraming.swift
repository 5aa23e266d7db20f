// EXPERIMENTAL: the WebSocket protocol done by this package over a raw libwebsockets socket
// (`LWSTransport.Framing.experimentalRawSocket`), off by default.
//
// Why: libwebsockets 4.1's own WebSocket client drops pings parsed while a pong is pending and
// rewrites close codes 1012-1014 to 1002 before any callback. Here lws only connects and moves
// bytes (role raw-skt, `method = "RAW"`); the upgrade (`HTTPUpgradeHandshake`) and the frames
// (`WebSocketFrameDecoder`, `WebSocketConnectionStateMachine`) are WebSocketProtocol's pure pieces,
// which TransportPOSIX uses too.
//
// Limit: ws:// only. lws 4.1.6 starts TLS on a RAW client connection before its socket exists
// (lib/core-net/connect.c calls `lws_client_create_tls(wsi, &cce, 1)` on an unconnected wsi
// when built without async DNS, as Debian's is): SSL_connect fails on fd -1 with EBADF and the
// connection ends with "tls start fail". So wss:// is refused on this path.
//
// Rules: everything here runs on the session's service thread, inside lws callbacks or between
// `lws_service` calls; writes happen only in `LWS_CALLBACK_RAW_WRITEABLE`, one `lws_write` each,
// of as many queued frames as fit in a fragment's worth of bytes.
import CLibWebSockets
import TransportCore
import WebSocketProtocol

/// The service thread's state of a raw-socket connection.
struct LWSRawFraming {
    /// The largest header of a masked client frame (2 + 8 length bytes + 4 mask bytes).
    static let maxHeaderSize = 14

    let handshake: HTTPUpgradeHandshake
    var responseParser = HTTPResponseParser()
    var decoder: WebSocketFrameDecoder
    var machine: WebSocketConnectionStateMachine
    var decoderBroken = false
    /// Bytes to write before any data frame: the upgrade request, then control frames.
    var wireBytes: [UInt8] = []
    var inboundFinished = false
    var closeSocketRequested = false

    init(request: WebSocketRequest, usesTLS: Bool) throws(TransportError) {
        guard !usesTLS else {
            throw TransportError(
                .unsupportedScheme,
                "the experimental raw-socket path of LWSTransport serves ws:// only: libwebsockets 4.1.6 "
                    + "starts TLS on a raw client before its socket is connected; use the default framing for wss://"
            )
        }
        handshake = try HTTPUpgradeHandshake(
            target: HTTPUpgradeHandshake.Target(url: request.url),
            subprotocols: request.subprotocols,
            headers: request.headers
        )
        decoder = WebSocketFrameDecoder(decodingFramesFrom: .server, maxFrameSize: request.limits.maxFrameSize)
        machine = WebSocketConnectionStateMachine(maxMessageSize: request.limits.maxMessageSize)
    }

    /// Queues a control frame from the state machine behind the bytes already waiting.
    mutating func queueControlFrame(_ opcode: WebSocketOpcode, _ payload: [UInt8]) {
        Self.encode(opcode, payload[...], into: &wireBytes)
    }

    /// Appends `payload` as one masked frame to `output`.
    static func encode(
        _ opcode: WebSocketOpcode,
        fin: Bool = true,
        _ payload: ArraySlice<UInt8>,
        into output: inout [UInt8]
    ) {
        payload.withUnsafeBytes { bytes in
            WebSocketFrameEncoder.encode(
                opcode: opcode, fin: fin, payload: bytes, maskKey: .random(), into: &output)
        }
    }
}

extension LWSSession {
    /// TCP is up: the handshake phase begins with our upgrade request.
    func rawConnected(_ wsi: OpaquePointer) -> Int32 {
        guard let handshake = rawFraming?.handshake else { return -1 }
        clientWsi = wsi
        connectDeadline = nil
        handshakeDeadline = .now + request.timeouts.handshake
        if let context = lws_get_context(wsi) { scheduleWake(context) }
        rawFraming?.wireBytes.append(contentsOf: handshake.requestBytes)
        lws_callback_on_writable(wsi)
        return 0
    }

    func rawReceive(_ wsi: OpaquePointer, _ input: UnsafeMutableRawPointer?, _ length: Int) -> Int32 {
        guard rawFraming != nil, !serviceFinished else { return -1 }
        let bytes = UnsafeRawBufferPointer(start: length > 0 ? input : nil, count: max(0, length))
        if !isEstablished {
            do throws(TransportError) {
                guard let (head, leftover) = try rawFraming?.responseParser.append(bytes),
                    let handshake = rawFraming?.handshake
                else { return 0 }
                selectedSubprotocol = try handshake.validate(head)
                rawFraming?.decoder.append(leftover)
            } catch {
                pendingFailure = pendingFailure ?? error
                return -1
            }
            established(wsi)
        } else if rawFraming?.decoderBroken == false && rawFraming?.machine.isClosed == false {
            rawFraming?.decoder.append(bytes)
        }
        rawProcessFrames(wsi)
        return rawFraming?.closeSocketRequested == true ? -1 : 0
    }

    /// Whether to decode: not while the consumer's buffer is full, except when closing (the
    /// server's close frame must still be read).
    private var rawProcessing: Bool {
        guard let raw = rawFraming else { return false }
        return !readingPaused || !raw.machine.canSend
    }

    func rawProcessFrames(_ wsi: OpaquePointer) {
        while rawProcessing, rawFraming?.decoderBroken == false, rawFraming?.closeSocketRequested == false {
            let actions: [WebSocketConnectionStateMachine.Action]
            do throws(WebSocketProtocolError) {
                guard let frame = try rawFraming?.decoder.nextFrame() else { return }
                actions = rawFraming?.machine.frameReceived(frame) ?? []
            } catch {
                rawFraming?.decoderBroken = true
                actions = rawFraming?.machine.decodingFailed(error) ?? []
            }
            rawPerform(actions, wsi)
        }
    }

    func rawPerform(_ actions: [WebSocketConnectionStateMachine.Action], _ wsi: OpaquePointer?) {
        for action in actions {
            switch action {
            case .deliver(let message):
                if readingPaused, case .close = message {
                } else if readingPaused {
                    continue  // closing while the consumer is not reading: drop rather than buffer without bound
                }
                if producer.yield(message) == .enqueuedBufferFull && !readingPaused, let wsi {
                    readingPaused = true
                    lws_rx_flow_control(wsi, 0)
                    eventSink.yield(.readingPaused)
                }
            case .send(let opcode, let payload):
                rawFraming?.queueControlFrame(opcode, payload)
                if opcode == .close {
                    closeFrameSent = true
                    markClosed()
                }
                if let wsi { lws_callback_on_writable(wsi) }
            case .finishInbound(let error):
                rawFraming?.inboundFinished = true
                if let error { pendingFailure = pendingFailure ?? error }
                producer.finish(throwing: error)
            case .startCloseTimer:
                // Keep an earlier deadline: the one set when the user asked to close also bounds
                // the queue draining before our close frame.
                if closeDeadline == nil {
                    closeDeadline = .now + request.timeouts.close
                    if let wsi, let context = lws_get_context(wsi) { scheduleWake(context) }
                }
            case .closeSocket:
                rawFraming?.closeSocketRequested = true
            }
        }
    }

    func rawWriteable(_ wsi: OpaquePointer) -> Int32 {
        guard rawFraming != nil else { return -1 }
        if rawFraming?.closeSocketRequested == true { return -1 }
        if lws_send_pipe_choked(wsi) != 0 {
            lws_callback_on_writable(wsi)
            return 0
        }
        let capacity = Self.fragmentSize + LWSRawFraming.maxHeaderSize
        var chunk: [UInt8] = []
        if let wire = rawFraming?.wireBytes, !wire.isEmpty {
            chunk = Array(wire.prefix(capacity))
            rawFraming?.wireBytes.removeFirst(chunk.count)
        } else if isEstablished {
            // Frames of the user's queue until the chunk holds a fragment's worth: a burst of
            // small messages leaves in one write. What passes the capacity waits in `wireBytes`,
            // ahead of anything queued after it.
            while chunk.count < Self.fragmentSize, rawFraming?.machine.canSend == true,
                let (frame, _) = takeOutboundFrame()
            {
                switch frame.kind {
                case .close:
                    let payload = frame.payload
                    let code =
                        payload.count >= 2
                        ? UInt16(payload[payload.startIndex]) << 8 | UInt16(payload[payload.startIndex + 1]) : 1000
                    let reason = String(decoding: payload.dropFirst(2), as: UTF8.self)
                    // The machine queues our close frame in `wireBytes`, behind this chunk.
                    rawPerform(rawFraming?.machine.closeRequested(code: CloseCode(code), reason: reason) ?? [], wsi)
                case .text, .binary, .continuation:
                    let opcode: WebSocketOpcode =
                        switch frame.kind {
                        case .text: .text
                        case .binary: .binary
                        default: .continuation
                        }
                    LWSRawFraming.encode(opcode, fin: frame.isFinal, frame.payload, into: &chunk)
                }
            }
            if chunk.isEmpty, rawFraming?.wireBytes.isEmpty == false { return rawWriteable(wsi) }
            if chunk.count > capacity {
                rawFraming?.wireBytes.insert(contentsOf: chunk[capacity...], at: 0)
                chunk.removeLast(chunk.count - capacity)
            }
        }
        guard !chunk.isEmpty else { return 0 }
        guard let start = writeBuffer.baseAddress?.advanced(by: LWSLibrary.writeHeadroom) else { return -1 }
        let count = chunk.count
        chunk.withUnsafeBytes { bytes in
            if let source = bytes.baseAddress { start.copyMemory(from: source, byteCount: count) }
        }
        let base = start.assumingMemoryBound(to: UInt8.self)
        // `LWS_WRITE_RAW` is a macro alias of `LWS_WRITE_HTTP` that Swift does not import.
        let written = lws_write(wsi, base, count, LWS_WRITE_HTTP)
        if written < count {
            if rawFraming?.inboundFinished == false {
                rawPerform(rawFraming?.machine.ioFailed("lws_write failed") ?? [], wsi)
            }
            return -1
        }
        let moreQueued = shared.withLock { !$0.outbound.isEmpty }
        if rawFraming?.wireBytes.isEmpty == false || (moreQueued && rawFraming?.machine.canSend == true) {
            lws_callback_on_writable(wsi)
        }
        return 0
    }

    /// lws closed the socket (the server ended TCP, or we returned -1).
    func rawClosed(_ wsi: OpaquePointer) {
        guard !serviceFinished, rawFraming != nil else { return }
        let error: TransportError?
        if !isEstablished {
            error =
                pendingFailure
                ?? TransportError(.handshakeInvalid, "the server closed the connection during the WebSocket upgrade")
        } else {
            if rawFraming?.closeSocketRequested == false, let raw = rawFraming {
                let midFrame = !raw.decoderBroken && raw.decoder.bufferedByteCount > 0
                rawPerform(rawFraming?.machine.endOfStream(midFrame: midFrame) ?? [], nil)
            }
            error =
                rawFraming?.inboundFinished == true
                ? pendingFailure : pendingFailure ?? TransportError(.connectionLost, "the connection ended")
        }
        clientWsi = nil
        finishService(error)
    }

    /// Our close deadline passed.
    func rawCloseTimerFired() {
        if rawFraming?.machine.canSend == true {
            // Our close frame is not even written: the queue did not drain in time.
            let error = TransportError(
                .closeTimeout,
                "the queue did not drain and the server did not answer our close within \(request.timeouts.close)")
            rawFraming?.inboundFinished = true
            producer.finish(throwing: error)
            fail(error)
            return
        }
        rawPerform(rawFraming?.machine.closeTimerFired() ?? [], clientWsi)
        if rawFraming?.closeSocketRequested == true { kill() }
    }
}
