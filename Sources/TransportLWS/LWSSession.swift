import CLWSShim
import CLibWebSockets
import Glibc
import TransportCore

/// One connection and the service thread that owns its `lws_context`.
///
/// Who owns what, one file each:
/// - LWSSessionShared.swift: the only state both sides touch (`shared`, behind its lock).
/// - LWSSession+Caller.swift: the caller side (`start`, `waitUntilOpen`, `send`, `close`, the
///   inbound demand handler, cancellation), on any thread or task. It reads what is fixed at
///   init, changes `shared` under its lock, and wakes the service thread with
///   `lws_cancel_service`, the one lws call the header names as safe from another thread.
/// - LWSSession+ServiceThread.swift: the service thread's loop (context, connect, deadlines),
///   what it does with the callers' requests (`processRequests`) and the connection's end.
/// - LWSSession+Callbacks.swift: the lws callbacks of the libwebsockets framing, and
///   LWSRawFraming.swift those of the raw-socket framing: all on the service thread.
/// The service thread alone touches lws (the context, the `lws*`, every callback) and the
/// properties under "Service thread only" below.
final class LWSSession: @unchecked Sendable {
    // MARK: Fixed at init (read from any thread)

    let request: WebSocketRequest
    let target: LWSTarget
    let framing: LWSTransport.Framing
    let inbound: WebSocketInbound
    /// Bytes queued for writing and not yet handed to lws (for tests).
    var queuedOutboundBytes: Int { shared.withLock { $0.outbound.queuedBytes } }
    let producer: WebSocketInbound.Producer
    /// What tests wait for instead of sleeping: backpressure taking effect.
    enum Event: Sendable, Equatable { case readingPaused, readingResumed, sendSuspended }
    /// Every `Event`, in order (unbounded: a few per connection). Either side yields to it.
    let events: AsyncStream<Event>
    let eventSink: AsyncStream<Event>.Continuation

    // MARK: Shared, under the lock (LWSSessionShared.swift)

    typealias Shared = LWSSessionShared
    typealias SendWaiter = LWSSessionShared.SendWaiter
    typealias LinkState = LWSSessionShared.LinkState
    typealias ContextHandle = LWSSessionShared.ContextHandle

    let shared: Locked<Shared>
    /// The context to wake with `lws_cancel_service`, behind a lock of its own (see
    /// `wakeServiceThread`): set once the context exists, cleared before it is destroyed.
    let wakeTarget = Locked<ContextHandle?>(nil)

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

    // MARK: Caller side only

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
}
