import CLibWebSockets
import TransportCore

/// The one state the caller side and the service thread share: `LWSSession.shared`, behind its
/// lock. Everything else of a session is either fixed at init or the service thread's alone.
///
/// Rules: touch it only inside `shared.withLock`; never resume a continuation or call lws with
/// the lock held: take the waiters out under the lock, resume them (or wake the service
/// thread, `LWSSession.wakeServiceThread`) after.
struct LWSSessionShared {
    /// The link as the caller side sees it: `send` needs `.open`, `close` moves it to `.closing`.
    enum LinkState: Equatable {
        case connecting, open, closing, closed

        /// What a `send` gets when the link is not (or no longer) open.
        var closedError: TransportError {
            switch self {
            case .connecting: TransportError(.closed, "the connection is not open yet")
            case .open: TransportError(.closed, "the connection is open")
            case .closing: TransportError(.closed, "the connection is closing")
            case .closed: TransportError(.closed, "the connection is closed")
            }
        }
    }

    /// A `send` waiting for room in the outbound queue (backpressure).
    struct SendWaiter {
        var id: Int
        var item: LWSOutboundQueue.Item
        var continuation: CheckedContinuation<Void, any Error>
    }

    /// The context pointer, handed to other threads only for `lws_cancel_service`.
    struct ContextHandle: @unchecked Sendable { var pointer: OpaquePointer }

    // Written by the service thread, read by callers.

    /// Non-nil while the context exists: the only value other threads give to lws.
    var context: ContextHandle?
    var state: LinkState = .connecting
    var openOutcome: Result<String?, TransportError>?
    var terminated = false

    // Written by callers, taken by the service thread.

    /// The user's messages and our close frame, in order; the service thread takes frames.
    var outbound: LWSOutboundQueue
    var sendWaiters: [SendWaiter] = []
    var nextWaiterID = 0
    var openWaiter: CheckedContinuation<String?, any Error>?
    var abortRequest: TransportError?
    var resumeReadingRequested = false
    /// A `lws_cancel_service` is on its way and `processRequests` has not run since: a burst
    /// of sends costs the service thread one wake-up (one eventfd write), not one each.
    var wakePending = false
    var terminationWaiter: CheckedContinuation<Void, Never>?

    init(outbound: LWSOutboundQueue) {
        self.outbound = outbound
    }

    /// Whether the caller should wake the service thread (`LWSSession.wakeServiceThread`) once
    /// it has left the lock: not while a wake-up is already pending, nor without a context.
    mutating func claimWake() -> Bool {
        guard !wakePending, context != nil else { return false }
        wakePending = true
        return true
    }
}
