import TransportCore

/// What a socket is doing, as reported on `PhoenixSocket.connectionStates`.
public enum PhoenixConnectionState: Sendable, Hashable {
    /// Connecting (the first time, or a reconnect attempt starting).
    case connecting
    /// The socket is open; channels (re)join.
    case open
    /// The socket closed. `code` is nil when there was no close frame (the connection dropped).
    case closed(code: CloseCode?, reason: String)
    /// A transport error: a connect attempt failed, or the connection broke (including a
    /// heartbeat that went unanswered).
    case error(TransportError)
    /// Reconnect attempt `attempt` (1-based) starts after `delay` (`PhoenixSocket.reconnectNow()`
    /// skips the wait).
    case reconnecting(attempt: Int, delay: Duration)
}
