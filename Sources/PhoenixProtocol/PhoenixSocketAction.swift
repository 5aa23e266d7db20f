import Foundation

/// What the caller must do after feeding the machine an input, in order.
public enum PhoenixSocketAction: Sendable, Hashable {
    /// Open a WebSocket to `url` offering `subprotocols`; report `transportOpened`, or
    /// `transportFailed` / `transportClosed`.
    case openTransport(url: URL, subprotocols: [String])
    /// Write this frame on the open transport.
    case send(PhoenixFrame)
    /// Close the transport with this code and reason, then report `transportClosed`. The machine
    /// already treats the connection as gone: later frames from it are ignored.
    case closeTransport(code: UInt16, reason: String)
    /// Tell the layer above.
    case emit(PhoenixSocketEvent)
    /// The push `id` is finished. Happens exactly once per push id.
    case completePush(PhoenixPushID, PhoenixPushResult)
    /// The channel wants fresh join params (`PhoenixChannelOptions.refreshesParams`): answer with
    /// `joinParamsProvided(topic:params:now:)` before the join timeout.
    case requestJoinParams(topic: String)
}

/// What happened, for the layer above.
public enum PhoenixSocketEvent: Sendable, Hashable {
    /// The transport opened; channels are being (re)joined.
    case socketOpened
    /// The transport closed or failed (`code` nil: no close frame, e.g. a connect failure).
    case socketClosed(code: UInt16?, reason: String)
    /// A heartbeat went unanswered for a whole interval: the machine closes and reconnects.
    case heartbeatTimedOut
    /// Reconnect attempt `attempt` (1-based) will start at `at` (or at `reconnectNow`).
    case reconnectScheduled(attempt: Int, at: PhoenixInstant)
    /// The reconnect policy gave up (max attempts, a close code it does not reconnect after, or
    /// a permanent transport failure).
    case reconnectAbandoned(attempts: Int)
    /// The server accepted the join; `response` is the reply's response.
    case channelJoined(topic: String, response: PhoenixPayload)
    /// A join failed. `retryAt` nil: it will not be retried and the channel is gone.
    case channelJoinFailed(topic: String, failure: PhoenixJoinFailure, retryAt: PhoenixInstant?)
    /// The channel ended; it is gone from the machine.
    case channelClosed(topic: String, reason: PhoenixChannelCloseReason)
    /// The channel stopped working; it rejoins at `rejoinAt`, or (nil) when the socket reopens.
    case channelErrored(topic: String, reason: PhoenixChannelErrorReason, rejoinAt: PhoenixInstant?)
    /// A server push or broadcast on a channel.
    case message(topic: String, event: String, payload: PhoenixPayload)
    /// An inbound frame could not be decoded; the socket goes on.
    case decodeFailed(PhoenixCodingError)
}

/// Why a join failed.
public enum PhoenixJoinFailure: Sendable, Hashable {
    /// The server answered with a non-ok status (`response` is e.g. `{"reason":"unauthorized"}`).
    case rejected(status: String, response: PhoenixPayload)
    /// No reply (or no refreshed params) within the join timeout.
    case timedOut
    /// The join could not be encoded in this wire format (e.g. a binary payload in v1).
    case unencodable(PhoenixCodingError)
    /// The join's frame is `size` bytes, over `PhoenixSocketConfiguration.maxOutboundFrameSize`
    /// (`limit`): it was not sent, and the channel is gone.
    case tooLarge(size: Int, limit: Int)
}

/// Why a channel ended.
public enum PhoenixChannelCloseReason: Sendable, Hashable {
    /// The user left (the server's leave reply, or no reply within the timeout, or no socket).
    case left
    /// The server sent `phx_close` (kicked, or replaced by another join of the same topic).
    case serverClosed
    /// The user disconnected the socket.
    case disconnected
}

/// Why a channel stopped working for now.
public enum PhoenixChannelErrorReason: Sendable, Hashable {
    /// `phx_error`: the channel process crashed on the server (payload as sent).
    case serverError(PhoenixPayload)
    /// The socket dropped; `loss` says how.
    case connectionLost(PhoenixConnectionLoss)
}

/// How the connection that carried a channel or a push ended.
public enum PhoenixConnectionLoss: Sendable, Hashable, CustomStringConvertible {
    /// The transport closed or failed. `code` is the close frame's code, nil when there was none
    /// (a reset, a failed read); `reason` is the close frame's reason or the transport's text.
    case closed(code: UInt16?, reason: String)
    /// A heartbeat went unanswered for a whole interval: the machine closed the connection.
    case heartbeatTimedOut

    /// One line for people: `closed with code 1011: boom`, `closed without a close frame: reset`,
    /// `no answer to a heartbeat`.
    public var description: String {
        switch self {
        case .closed(let code?, let reason): "closed with code \(code)" + (reason.isEmpty ? "" : ": \(reason)")
        case .closed(nil, let reason): "closed without a close frame" + (reason.isEmpty ? "" : ": \(reason)")
        case .heartbeatTimedOut: "no answer to a heartbeat"
        }
    }
}

/// Identifies one push for its whole life (the wire `ref` changes if it is buffered).
public struct PhoenixPushID: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The number the machine gave the push (increasing, never reused by one machine).
    public let rawValue: UInt64

    /// The push numbered `rawValue`.
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// Whether `lhs` was made before `rhs`.
    public static func < (lhs: PhoenixPushID, rhs: PhoenixPushID) -> Bool { lhs.rawValue < rhs.rawValue }

    /// `push#<number>`.
    public var description: String { "push#\(rawValue)" }
}

/// How a push ended.
public enum PhoenixPushResult: Sendable, Hashable {
    /// The server replied `ok` with this response.
    case ok(PhoenixPayload)
    /// The server replied with another status (usually `error`) and this response.
    case error(status: String, response: PhoenixPayload)
    /// No reply within the push's timeout (counted from the push, buffered time included).
    case timeout
    /// The push was given up; whether the server saw it depends on the reason.
    case cancelled(PhoenixPushCancellation)
}

/// Why a push was given up.
public enum PhoenixPushCancellation: Sendable, Hashable {
    /// The channel's buffer was full; never sent.
    case bufferFull(limit: Int)
    /// The user left the channel.
    case left
    /// The user disconnected the socket.
    case disconnected
    /// The server closed the channel.
    case channelClosed
    /// The channel crashed on the server (`phx_error`) while the push was in flight: its handler
    /// may or may not have run.
    case channelErrored
    /// The join was rejected for good; never sent.
    case joinFailed
    /// The socket dropped after the push was sent: the server may or may not have handled it.
    /// The machine never re-sends such a push by itself. `loss` says how the connection ended.
    case connectionLost(PhoenixConnectionLoss)
    /// The push cannot be written in this wire format.
    case unencodable(PhoenixCodingError)
    /// The push's frame is `size` bytes, over `PhoenixSocketConfiguration.maxOutboundFrameSize`
    /// (`limit`): it was never sent. The connection and the channel go on.
    case tooLarge(size: Int, limit: Int)
}

/// A user command the machine refuses, or a configuration it cannot use.
public enum PhoenixSocketError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The endpoint is not an http, https, ws or wss URL with a host.
    case invalidEndpoint(String)
    /// `join` on a topic that already has a channel. Use the existing one, `rejoin` it with new
    /// params, or `leave` it first.
    case alreadyJoined(topic: String)
    /// No channel for this topic (never joined, left, closed, or its join failed for good).
    case unknownTopic(String)
    /// The channel is leaving; it takes no more pushes.
    case channelLeaving(topic: String)
    /// `phoenix` is the socket's own topic (heartbeats).
    case reservedTopic(String)
    /// The join message cannot be encoded in this wire format.
    case unencodable(PhoenixCodingError)
    /// The join's frame is `size` bytes, over `PhoenixSocketConfiguration.maxOutboundFrameSize`
    /// (`limit`).
    case tooLarge(size: Int, limit: Int)

    public var description: String {
        switch self {
        case .invalidEndpoint(let endpoint): "not a ws/wss/http/https URL with a host: \(endpoint)"
        case .alreadyJoined(let topic): "a channel for \(topic) already exists"
        case .unknownTopic(let topic): "no channel for \(topic)"
        case .channelLeaving(let topic): "the channel \(topic) is leaving"
        case .reservedTopic(let topic): "\(topic) is reserved for the socket"
        case .unencodable(let error): "cannot encode the join: \(error)"
        case .tooLarge(let size, let limit): "the join is \(size) bytes, over the limit of \(limit) bytes"
        }
    }
}

/// The socket's state, as observed from outside.
public enum PhoenixSocketState: Sendable, Hashable {
    /// Never connected.
    case idle
    /// Waiting for the transport to open; `attempt` 0 is the user's `connect`.
    case connecting(attempt: Int)
    /// Open; heartbeats running.
    case open
    /// The machine asked the transport to close and waits for it.
    case closing
    /// Waiting to start reconnect attempt `attempt` at `at`.
    case waitingToReconnect(attempt: Int, at: PhoenixInstant)
    /// Disconnected by the user, or the reconnect policy gave up. `connect` starts again.
    case closed
}

/// A channel's state, as observed from outside.
public enum PhoenixChannelState: Sendable, Hashable {
    /// Will join when the socket opens.
    case waitingForSocket
    /// Waiting for `joinParamsProvided`.
    case awaitingParams
    /// `phx_join` sent with this join ref; waiting for the reply.
    case joining(joinRef: String)
    /// Joined with this join ref.
    case joined(joinRef: String)
    /// Errored; rejoins at `rejoinAt`.
    case errored(rejoinAt: PhoenixInstant)
    /// `phx_leave` sent; waiting for the reply.
    case leaving
}
