// TransportPOSIX: a WebSocket client (RFC 6455) in pure Swift over POSIX sockets. ws://, and
// wss:// through TLSEngine (the system's OpenSSL driven through memory; Linux).
//
// Layers, each in its own file, each testable alone:
// - SystemCalls, Wakeup, Resolver: libc calls with errno turned into Swift errors.
// - The protocol itself (upgrade handshake, frame codec, connection state machine) is the pure
//   WebSocketProtocol module, which TransportLWS's raw framing shares.
// - ConnectionCore + IOLoop: one I/O thread per connection running a poll loop, woken through a
//   pipe; other threads only touch the state behind ConnectionCore's lock.
// - TLSSocketLayer: for wss://, moves ciphertext between the socket and a TLSEngine; the
//   loop reads and writes plaintext through it. Verification is OpenSSL's (see TLSEngine).
// Rules: nothing read from the network can crash the process; every failure is a
// TransportError; leaving withConnection joins the I/O thread and closes every descriptor.
import TransportCore
import WebSocketProtocol

/// A `Transport` over POSIX sockets: a complete RFC 6455 client written in Swift.
///
/// Each connection runs on its own I/O thread (a `poll` loop), which `withConnection` joins
/// before returning. `wss://` runs TLS through the system's OpenSSL (TLS 1.2 at least, the
/// certificate and host name verified against the system trust store or `request.tls`'s CA);
/// where OpenSSL is not available (Apple platforms) `wss://` throws `.unsupportedScheme`.
///
/// ```swift
/// let transport = POSIXTransport()
/// try await transport.withConnection(to: WebSocketRequest(url: url)) { connection in
///     try await connection.send(.text("hello"))
///     for try await message in connection.inbound { print(message) }
/// }
/// ```
public struct POSIXTransport: Transport {
    /// A transport; each `withConnection` call opens one connection on its own I/O thread.
    public init() {}

    /// Resolves, connects, upgrades, then runs `body` with the open connection. On the way out
    /// (return or throw) it closes with 1000 if still open, waits for the closing handshake (at
    /// most the close timeout), joins the I/O thread and closes every descriptor.
    ///
    /// - Throws: `TransportError` (`unsupportedScheme` for `wss://` without OpenSSL,
    ///   `resolveFailed`, `connectFailed`, `connectTimeout`, `tls` with OpenSSL's reason,
    ///   `handshakeTimeout` (TLS handshake and upgrade), `handshakeRejected(status:)`,
    ///   `handshakeInvalid`, `cancelled`), or what `body` throws.
    public func withConnection<Result: Sendable>(
        to request: WebSocketRequest,
        _ body: (any WebSocketConnection) async throws -> Result
    ) async throws -> Result {
        let target = try HTTPUpgradeHandshake.Target(url: request.url)
        if target.usesTLS && !TLSSocketLayer.isAvailable {
            throw TransportError(
                .unsupportedScheme,
                "POSIXTransport has no TLS on this platform (no OpenSSL) and cannot open \(request.url.absoluteString): use LWSTransport or ws://"
            )
        }
        if target.usesTLS, let problem = request.tls.configurationProblem {
            throw TransportError(.tls, problem, isPermanent: true)
        }
        try Self.validate(request.limits)
        let handshake = try HTTPUpgradeHandshake(
            target: target, subprotocols: request.subprotocols, headers: request.headers)
        let core = try ConnectionCore(request: request, handshake: handshake)
        try core.start()
        let subprotocol: String?
        do {
            subprotocol = try await core.waitUntilOpen()
        } catch {
            await core.waitForExit()
            throw error
        }
        let connection = POSIXWebSocketConnection(core: core, subprotocol: subprotocol)
        do {
            let result = try await body(connection)
            core.close(code: .normalClosure, reason: "")
            await core.waitForExit()
            return result
        } catch {
            core.close(code: .normalClosure, reason: "")
            await core.waitForExit()
            throw error
        }
    }

    private static func validate(_ limits: WebSocketLimits) throws(TransportError) {
        guard limits.maxFrameSize > 0, limits.maxMessageSize > 0, limits.outboundBufferSize > 0,
            limits.inboundBufferCount > 0
        else { throw TransportError(.invalidRequest, "every limit must be positive: \(limits)") }
    }
}

/// One connection of `POSIXTransport`.
final class POSIXWebSocketConnection: WebSocketConnection {
    let subprotocol: String?
    private let core: ConnectionCore

    init(core: ConnectionCore, subprotocol: String?) {
        self.core = core
        self.subprotocol = subprotocol
    }

    var inbound: WebSocketInbound { core.inbound }

    func send(_ message: WebSocketMessage) async throws(TransportError) {
        try await core.send(message)
    }

    func trySend(_ message: WebSocketMessage) throws(TransportError) -> Bool {
        try core.trySend(message)
    }

    func close(code: CloseCode, reason: String) async {
        core.close(code: code, reason: reason)
    }
}
