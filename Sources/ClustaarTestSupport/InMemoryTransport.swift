import TransportCore

/// A `Transport` with no network: each connection attempt is handed to the test, which plays
/// the server through an `InMemoryServerConnection`.
///
/// ```swift
/// let transport = InMemoryTransport()
/// async let server = transport.nextConnection()     // the test's side
/// try await transport.withConnection(to: request) { client in ... }
/// ```
///
/// By default attempts are accepted at once, before the server side sees them; with
/// `autoAccept: false` the client's `withConnection` waits until the test calls `accept()` or
/// `reject(_:)`, so a test can play a server that never answers the handshake. Whatever the
/// server does after accepting (send, close, drop), even before the connecting task runs on,
/// the client gets its connection and finds it in the inbound, as over a network.
public final class InMemoryTransport: Transport {
    private let autoAccept: Bool
    private let attemptsStream: AsyncStream<InMemoryServerConnection>
    private let attemptsContinuation: AsyncStream<InMemoryServerConnection>.Continuation
    private let attemptedRequests = Locked<[WebSocketRequest]>([])

    /// A transport with no connection yet.
    ///
    /// - Parameter autoAccept: true opens every connection attempt at once; false holds each until
    ///   the test calls `accept()` or `reject(_:)` on its `InMemoryServerConnection`.
    public init(autoAccept: Bool = true) {
        self.autoAccept = autoAccept
        (attemptsStream, attemptsContinuation) = AsyncStream.makeStream()
    }

    /// The request of every connection attempt so far, in order. (Readable while another task
    /// consumes `connections`, e.g. a `ScriptedPhoenixServer`.)
    public var requests: [WebSocketRequest] { attemptedRequests.withLock { $0 } }

    /// Every connection attempt, in order, as the server sees it. One consumer at a time.
    public var connections: AsyncStream<InMemoryServerConnection> { attemptsStream }

    /// The next connection attempt (nil once the transport is finished).
    public func nextConnection() async -> InMemoryServerConnection? {
        var iterator = attemptsStream.makeAsyncIterator()
        return await iterator.next()
    }

    /// Ends `connections`.
    public func finish() { attemptsContinuation.finish() }

    public func withConnection<Result: Sendable>(
        to request: WebSocketRequest,
        _ body: (any WebSocketConnection) async throws -> Result
    ) async throws -> Result {
        let pair = announceAttempt(request)
        let client = try await pair.waitForAcceptance()
        do {
            let result = try await body(client)
            await client.close(code: .normalClosure, reason: "")
            return result
        } catch {
            await client.close(code: .normalClosure, reason: "")
            throw error
        }
    }

    /// Records `request` and hands its attempt to the server side (`connections`). The
    /// connecting task then waits for the attempt's answer; tests call the two steps apart to
    /// force the server's moves in between.
    func announceAttempt(_ request: WebSocketRequest) -> InMemoryServerConnection {
        let pair = InMemoryServerConnection(request: request)
        attemptedRequests.withLock { $0.append(request) }
        // Accepted before the server can see it: the server may send or close the moment it
        // gets the connection, before the connecting task runs on.
        if autoAccept { pair.accept() }
        attemptsContinuation.yield(pair)
        return pair
    }
}

/// The server's side of one in-memory connection.
public final class InMemoryServerConnection: Sendable {
    /// The client's request, as given to `withConnection`.
    public let request: WebSocketRequest

    /// What the client sent, in order; a `.close` element when the client closed.
    public let inbound: WebSocketInbound

    fileprivate let toServer: WebSocketInbound.Producer
    fileprivate let toClient: WebSocketInbound.Producer
    fileprivate let clientInbound: WebSocketInbound

    private enum Phase {
        /// Not answered yet; `waiter` is the connecting task once it waits for the answer.
        case pending(waiter: CheckedContinuation<String?, any Error>?)
        /// The handshake succeeded and neither side has closed.
        case open(subprotocol: String?)
        /// The handshake succeeded, then a side closed or the server dropped. A connecting task
        /// that had not come to wait yet still gets its connection and reads the close (or the
        /// loss) in its inbound, as a real client reads the 101 before the close frame behind it.
        case closed(subprotocol: String?)
        /// Rejected, or closed before any answer: the connecting task's `withConnection` throws.
        case failed(TransportError)
    }

    private let phase: Locked<Phase>

    init(request: WebSocketRequest) {
        self.request = request
        let (serverStream, serverProducer) = WebSocketInbound.makeStream(bufferLimit: .max)
        let (clientStream, clientProducer) = WebSocketInbound.makeStream(bufferLimit: .max)
        inbound = serverStream
        toServer = serverProducer
        clientInbound = clientStream
        toClient = clientProducer
        phase = Locked(.pending(waiter: nil))
    }

    /// Completes the handshake; the client's `withConnection` proceeds.
    public func accept(subprotocol: String? = nil) {
        let waiter = phase.withLock { phase -> CheckedContinuation<String?, any Error>? in
            guard case .pending(let waiter) = phase else { return nil }
            phase = .open(subprotocol: subprotocol)
            return waiter
        }
        waiter?.resume(returning: subprotocol)
    }

    /// Fails the attempt: the client's `withConnection` throws `error`.
    public func reject(_ error: TransportError) {
        let waiter = phase.withLock { phase -> CheckedContinuation<String?, any Error>? in
            guard case .pending(let waiter) = phase else { return nil }
            phase = .failed(error)
            return waiter
        }
        waiter?.resume(throwing: error)
    }

    /// Whether the test accepted this attempt and the connection is not closed yet.
    public var isOpen: Bool {
        phase.withLock { phase in
            if case .open = phase { return true }
            return false
        }
    }

    /// Delivers `message` to the client. Throws `.closed` before the attempt is accepted and
    /// once the connection is closed.
    public func send(_ message: WebSocketMessage) throws(TransportError) {
        let open = phase.withLock { phase -> Result<Void, TransportError> in
            switch phase {
            case .open: .success(())
            case .pending: .failure(TransportError(.closed, "the in-memory connection is not accepted yet"))
            case .closed, .failed: .failure(TransportError(.closed, "the in-memory connection is closed"))
            }
        }
        try open.get()
        toClient.yield(message)
    }

    /// A JSON or other text frame to the client.
    public func send(text: String) throws(TransportError) { try send(.text(text)) }

    /// The server closes: the client sees `.close(code, reason)` and its inbound ends; the
    /// server's inbound sees the client's echo and ends. Before the attempt is accepted, this
    /// fails it: the client's `withConnection` throws `.closed`.
    public func close(code: CloseCode, reason: String) {
        let failure = TransportError(.closed, "the in-memory server closed the attempt before accepting it")
        guard markClosed(failingAPendingAttemptWith: failure) else { return }
        toClient.yield(.close(code: code, reason: reason))
        toClient.finish()
        toServer.yield(.close(code: code, reason: reason))
        toServer.finish()
    }

    /// The connection drops without a closing handshake (like a TCP reset): the client's
    /// inbound throws `connectionLost`. Before the attempt is accepted, the client's
    /// `withConnection` throws `connectionLost`.
    public func drop(reason: String = "connection dropped") {
        guard markClosed(failingAPendingAttemptWith: TransportError(.connectionLost, reason)) else { return }
        toClient.finish(throwing: TransportError(.connectionLost, reason))
        toServer.finish()
    }

    fileprivate func clientClosed(code: CloseCode, reason: String) {
        // The client has its connection, so the attempt is not pending: the failure is unused.
        guard markClosed(failingAPendingAttemptWith: TransportError(.closed, "closed by the client")) else {
            return
        }
        toServer.yield(.close(code: code, reason: reason))
        toServer.finish()
        toClient.yield(.close(code: code, reason: reason))
        toClient.finish()
    }

    /// Whether the connecting task is waiting for this attempt's answer (lets a test force the
    /// order "the client waits, then the server moves").
    var hasWaitingClient: Bool {
        phase.withLock { phase in
            if case .pending(waiter: .some) = phase { return true }
            return false
        }
    }

    /// Moves an open connection to `.closed` and returns true: the caller then delivers the
    /// close. A pending attempt fails with `failure` instead (its waiting client, if any, is
    /// resumed with it); a closed or failed one does not change. Returns false in those cases.
    private func markClosed(failingAPendingAttemptWith failure: TransportError) -> Bool {
        let (wasOpen, waiter) = phase.withLock { phase -> (Bool, CheckedContinuation<String?, any Error>?) in
            switch phase {
            case .open(let subprotocol):
                phase = .closed(subprotocol: subprotocol)
                return (true, nil)
            case .pending(let waiter):
                phase = .failed(failure)
                return (false, waiter)
            case .closed, .failed:
                return (false, nil)
            }
        }
        waiter?.resume(throwing: failure)
        return wasOpen
    }

    func waitForAcceptance() async throws -> InMemoryClientConnection {
        // The client side is made here, on the connecting task, not by whoever accepts: handing an
        // object over through a continuation is a path ThreadSanitizer does not see as ordered
        // (swiftlang/swift#57803), and it reported the object's fields as racing.
        let subprotocol = try await acceptedSubprotocol()
        return InMemoryClientConnection(server: self, subprotocol: subprotocol)
    }

    private func acceptedSubprotocol() async throws -> String? {
        try await withCheckedThrowingContinuation { continuation in
            let immediate = phase.withLock { phase -> Result<String?, TransportError>? in
                switch phase {
                case .pending:
                    phase = .pending(waiter: continuation)
                    return nil
                // Closed after the accept: the handshake succeeded, the close waits in the inbound.
                case .open(let subprotocol), .closed(let subprotocol): return .success(subprotocol)
                case .failed(let error): return .failure(error)
                }
            }
            switch immediate {
            case .none: break
            case .success(let subprotocol):
                continuation.resume(returning: subprotocol)
            case .failure(let error): continuation.resume(throwing: error)
            }
        }
    }
}

/// The client's side of one in-memory connection.
final class InMemoryClientConnection: WebSocketConnection {
    let subprotocol: String?
    private let server: InMemoryServerConnection

    init(server: InMemoryServerConnection, subprotocol: String?) {
        self.server = server
        self.subprotocol = subprotocol
    }

    var inbound: WebSocketInbound { server.clientInbound }

    func send(_ message: WebSocketMessage) async throws(TransportError) {
        try deliver(message)
    }

    /// Hands a data message to the server side at once (the buffer has no limit). A message over
    /// the request's `maxMessageSize` is refused with `.messageTooBig`, as the network transports
    /// do.
    private func deliver(_ message: WebSocketMessage) throws(TransportError) {
        let size: Int
        switch message {
        case .text(let bytes), .binary(let bytes): size = bytes.count
        case .close: throw TransportError(.invalidRequest, "close with close(code:reason:), not send")
        }
        guard server.isOpen else { throw TransportError(.closed, "the in-memory connection is closed") }
        let limit = server.request.limits.maxMessageSize
        guard size <= limit else {
            throw TransportError(.messageTooBig, "a message of \(size) bytes exceeds maxMessageSize (\(limit))")
        }
        server.toServer.yield(message)
    }

    /// The in-memory buffer has no limit: an open connection always takes the message now.
    func trySend(_ message: WebSocketMessage) throws(TransportError) -> Bool {
        try deliver(message)
        return true
    }

    func close(code: CloseCode, reason: String) async {
        server.clientClosed(code: code, reason: reason)
    }
}
