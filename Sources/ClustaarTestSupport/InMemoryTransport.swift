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
/// By default attempts are accepted at once; with `autoAccept: false` the client's
/// `withConnection` waits until the test calls `accept()` or `reject(_:)`, so a test can play a
/// server that never answers the handshake.
public final class InMemoryTransport: Transport {
    private let autoAccept: Bool
    private let attemptsStream: AsyncStream<InMemoryServerConnection>
    private let attemptsContinuation: AsyncStream<InMemoryServerConnection>.Continuation
    private let attemptedRequests = Locked<[WebSocketRequest]>([])

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
        let pair = InMemoryServerConnection(request: request)
        attemptedRequests.withLock { $0.append(request) }
        attemptsContinuation.yield(pair)
        if autoAccept { pair.accept() }
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
        case pending(waiter: CheckedContinuation<String?, any Error>?)
        case accepted(subprotocol: String?)
        case rejected(TransportError)
        case closed
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
            phase = .accepted(subprotocol: subprotocol)
            return waiter
        }
        waiter?.resume(returning: subprotocol)
    }

    /// Fails the attempt: the client's `withConnection` throws `error`.
    public func reject(_ error: TransportError) {
        let waiter = phase.withLock { phase -> CheckedContinuation<String?, any Error>? in
            guard case .pending(let waiter) = phase else { return nil }
            phase = .rejected(error)
            return waiter
        }
        waiter?.resume(throwing: error)
    }

    /// Whether the test accepted this attempt and the connection is not closed yet.
    public var isOpen: Bool {
        phase.withLock { phase in
            if case .accepted = phase { return true }
            return false
        }
    }

    /// Delivers `message` to the client. Throws `.closed` once the connection is closed.
    public func send(_ message: WebSocketMessage) throws(TransportError) {
        guard isOpen else { throw TransportError(.closed, "the in-memory connection is closed") }
        toClient.yield(message)
    }

    /// A JSON or other text frame to the client.
    public func send(text: String) throws(TransportError) { try send(.text(text)) }

    /// The server closes: the client sees `.close(code, reason)` and its inbound ends; the
    /// server's inbound sees the client's echo and ends.
    public func close(code: CloseCode, reason: String) {
        guard markClosed() else { return }
        toClient.yield(.close(code: code, reason: reason))
        toClient.finish()
        toServer.yield(.close(code: code, reason: reason))
        toServer.finish()
    }

    /// The connection drops without a closing handshake (like a TCP reset): the client's
    /// inbound throws `connectionLost`.
    public func drop(reason: String = "connection dropped") {
        guard markClosed() else { return }
        toClient.finish(throwing: TransportError(.connectionLost, reason))
        toServer.finish()
    }

    fileprivate func clientClosed(code: CloseCode, reason: String) {
        guard markClosed() else { return }
        toServer.yield(.close(code: code, reason: reason))
        toServer.finish()
        toClient.yield(.close(code: code, reason: reason))
        toClient.finish()
    }

    private func markClosed() -> Bool {
        phase.withLock { phase in
            switch phase {
            case .accepted:
                phase = .closed
                return true
            case .pending(let waiter):
                phase = .closed
                waiter?.resume(throwing: TransportError(.closed, "the in-memory connection was closed"))
                return false
            case .rejected, .closed:
                return false
            }
        }
    }

    fileprivate func waitForAcceptance() async throws -> InMemoryClientConnection {
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
                case .accepted(let subprotocol): return .success(subprotocol)
                case .rejected(let error): return .failure(error)
                case .closed: return .failure(TransportError(.closed, "the in-memory connection was closed"))
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
        if case .close = message {
            throw TransportError(.invalidRequest, "close with close(code:reason:), not send")
        }
        guard server.isOpen else { throw TransportError(.closed, "the in-memory connection is closed") }
        server.toServer.yield(message)
    }

    func close(code: CloseCode, reason: String) async {
        server.clientClosed(code: code, reason: reason)
    }
}
