/// What the service's socket is doing, as reported on `ClustaarWebChatService.connectionStates`.
public enum ConnectionState: Sendable, Hashable {
    /// Connecting (the first time, or a reconnect attempt starting).
    case connecting
    /// The socket is open; channels (re)join.
    case open
    /// The socket closed. `code` is nil when there was no close frame (the connection dropped).
    case closed(code: CloseCode?, reason: String)
    /// A transport error: a connect attempt failed, or the connection broke (including a
    /// heartbeat that went unanswered).
    case error(TransportError)
    /// Reconnect attempt `attempt` (1-based) starts after `delay`
    /// (`ClustaarWebChatService.reconnectNow()` skips the wait).
    case reconnecting(attempt: Int, delay: Duration)
}
