// TransportCore: the seam between the Phoenix client and a WebSocket implementation.
//
// Every backend (TransportPOSIX, TransportLWS, the in-memory transport of ClustaarTestSupport)
// implements `Transport`. Rules every backend keeps:
// - A connection lives inside the scope of `withConnection(to:_:)`: when the body returns or
//   throws, the connection is closed and its resources are freed.
// - Inbound messages arrive whole (fragments reassembled, text validated as UTF-8), in order.
//   The sequence ends after a `.close` element (closing handshake), or throws a `TransportError`
//   when the connection is lost without one.
// - `send` suspends while the outbound buffer is full: memory stays bounded. `trySend` queues
//   only when the buffer has room and no `send` waits, and never suspends; both keep one order.
// - Errors are one type, `TransportError`, whatever the backend.

/// A WebSocket client implementation: opens one connection per call, for the duration of a scope.
///
/// ```swift
/// try await transport.withConnection(to: request) { connection in
///     try await connection.send(.text("hello"))
///     for try await message in connection.inbound { ... }
/// }
/// ```
public protocol Transport: Sendable {
    /// Opens a WebSocket connection for `request` and runs `body` with it.
    ///
    /// The connection is closed when `body` returns or throws (with close code 1000 if it is
    /// still open). Connection failures (resolve, connect, TLS, handshake) throw a
    /// `TransportError` before `body` runs.
    func withConnection<Result: Sendable>(
        to request: WebSocketRequest,
        _ body: (any WebSocketConnection) async throws -> Result
    ) async throws -> Result
}

/// One open WebSocket connection, valid inside the scope of `Transport.withConnection(to:_:)`.
public protocol WebSocketConnection: Sendable {
    /// The subprotocol the server selected, if any (always one of the request's).
    var subprotocol: String? { get }

    /// Messages from the server, in order. Ends after a `.close` element, or throws a
    /// `TransportError` when the connection is lost without a closing handshake.
    var inbound: WebSocketInbound { get }

    /// Sends one whole message. Suspends while the outbound buffer is full.
    ///
    /// - Throws: `TransportError` with code `.closed` once the connection is closing or closed,
    ///   `.messageTooBig` if the message exceeds the request's limits.
    func send(_ message: WebSocketMessage) async throws(TransportError)

    /// Queues one whole message without suspending, if it can go now: the outbound buffer has
    /// room and no `send` is waiting for room ahead of it. Returns false, having queued nothing,
    /// when the message would have to wait; `send` it then.
    ///
    /// Messages queued by `trySend` and by `send` go out in the order the calls queued them. A
    /// caller that mixes the two keeps its own order by using `trySend` only while none of its
    /// earlier `send` calls is still suspended. The default implementation returns false, so a
    /// transport without a way to queue synchronously works through `send` alone.
    ///
    /// - Throws: the same errors as `send` for the same message: `TransportError` with code
    ///   `.closed` once the connection is closing or closed, `.messageTooBig` if the message
    ///   exceeds the request's limits, `.invalidRequest` for a `.close` element.
    func trySend(_ message: WebSocketMessage) throws(TransportError) -> Bool

    /// Starts the closing handshake. The inbound sequence then ends with the server's `.close`
    /// (or the transport's close timeout). Calling it again does nothing.
    func close(code: CloseCode, reason: String) async
}

extension WebSocketConnection {
    /// Queues nothing and returns false: every message goes through `send`.
    public func trySend(_ message: WebSocketMessage) throws(TransportError) -> Bool { false }
}
