// TransportLWS: a `Transport` on libwebsockets (Debian's libwebsockets-dev 4.1), for production
// use and wss://.
//
// Rules of this module:
// - One service thread per connection owns that connection's `lws_context` and its `lws*`;
//   every libwebsockets call but `lws_cancel_service` happens on it (LWSSession). Other threads
//   queue requests under a lock and wake it with `lws_cancel_service`.
// - Writes happen only in `LWS_CALLBACK_CLIENT_WRITEABLE`, with `LWS_PRE` headroom: queued
//   frames up to a fragment's worth of bytes per callback, stopping when lws had to buffer part
//   of a write; messages larger than a fragment go out as continuation frames.
// - Memory stays bounded both ways: `send` suspends while the outbound queue is full, and
//   reading stops (`lws_rx_flow_control`) while the inbound buffer is full.
// - libwebsockets' own retry and redirect following are off; its logs go to swift-log.
// - All logic is Swift; the C shim (CLWSShim) only exposes what Swift cannot import.
// - Two framings (`LWSTransport.Framing`): libwebsockets' own WebSocket client (the default), or,
//   experimental and ws:// only, a raw lws socket carrying WebSocketProtocol's pure handshake,
//   decoder and state machine (LWSRawFraming), which answers every ping and keeps every close code.
import TransportCore

/// A `Transport` on libwebsockets, with TLS (`wss://`) through OpenSSL.
///
/// Each connection runs its own service thread, which owns that connection's `lws_context`;
/// leaving `withConnection(to:_:)` closes the connection, joins the thread and frees the
/// context. Certificates and host names are verified by default; see `TLSOptions`.
///
/// ```swift
/// let transport = LWSTransport()
/// try await transport.withConnection(to: WebSocketRequest(url: url)) { connection in
///     try await connection.send(.text("hello"))
///     for try await message in connection.inbound { ... }
/// }
/// ```
///
/// Differences from TransportPOSIX that come from libwebsockets 4.1 (Debian's 4.1.6) and that
/// no public lws option or callback can change:
/// - lws overwrites a server close code below 1000, 1004-1006 or 1012-2999 with 1002 in its
///   receive buffer before the close callback, then answers with that buffer. So a server
///   close with one of those codes, or with 1002 itself, ends `inbound` with
///   `.protocolViolation` instead of a `.close` element, and the server gets 1002 back. That
///   includes the registered 1012 (service restart), 1013 (try again later) and 1014; lws 4.2
///   lets 1012-1015 through.
/// - lws keeps one pending pong and never shows pings to the application: a ping parsed while
///   a pong is pending is dropped. Of several pings read together only the first is answered
///   (Autobahn 2.10 and 2.11 fail). RFC 6455 §5.5.3 would allow answering only the most
///   recent one; lws answers the oldest.
/// - lws parses received frames one byte per call and masks sent ones one byte per iteration,
///   so larger messages cost more than with TransportPOSIX: a 16 KiB echo round trip takes
///   about 1.8 times a swift-nio client's, a 64 B one the same (BENCHMARKS.md).
///
/// `LWSTransport(framing: .experimentalRawSocket)` has none of these limits (Autobahn 1.* to
/// 10.*: none failed, the same results as TransportPOSIX; 16 KiB round trips about as fast as
/// TransportPOSIX's) but serves ws:// only: libwebsockets 4.1.6 cannot run TLS on a raw client
/// connection (see `Framing`).
public struct LWSTransport: Transport {
    /// Who speaks the WebSocket protocol over the connection libwebsockets makes.
    public enum Framing: Sendable, Hashable, CaseIterable {
        /// libwebsockets' own WebSocket client, with the limits listed above. The default.
        case libwebsockets
        /// EXPERIMENTAL, ws:// only: libwebsockets opens a raw socket and this package does the
        /// upgrade and the frames (WebSocketProtocol's handshake, decoder and state machine), so
        /// every ping is answered and every close code arrives as sent. `wss://` throws
        /// `.unsupportedScheme`: libwebsockets 4.1.6 starts TLS on a raw client connection
        /// before its socket is connected, so the TLS handshake always fails.
        case experimentalRawSocket
    }

    /// Who does the WebSocket protocol for this transport's connections.
    public let framing: Framing

    /// A transport; each `withConnection` call gets its own service thread and `lws_context`.
    public init(framing: Framing = .libwebsockets) {
        self.framing = framing
    }

    public func withConnection<Result: Sendable>(
        to request: WebSocketRequest,
        _ body: (any WebSocketConnection) async throws -> Result
    ) async throws -> Result {
        let session = try LWSSession(request: request, framing: framing)
        try session.start()
        let subprotocol: String?
        do {
            subprotocol = try await session.waitUntilOpen()
        } catch {
            await session.waitUntilTerminated()
            throw error
        }
        let connection = LWSConnection(session: session, subprotocol: subprotocol)
        do {
            let result = try await body(connection)
            session.close(code: .normalClosure, reason: "")
            await session.waitUntilTerminated()
            return result
        } catch {
            session.close(code: .normalClosure, reason: "")
            await session.waitUntilTerminated()
            throw error
        }
    }
}

/// The `WebSocketConnection` handed to a `withConnection` body.
final class LWSConnection: WebSocketConnection {
    let subprotocol: String?
    let session: LWSSession

    init(session: LWSSession, subprotocol: String?) {
        self.session = session
        self.subprotocol = subprotocol
    }

    var inbound: WebSocketInbound { session.inbound }

    func send(_ message: WebSocketMessage) async throws(TransportError) {
        try await session.send(message)
    }

    func trySend(_ message: WebSocketMessage) throws(TransportError) -> Bool {
        try session.trySend(message)
    }

    func close(code: CloseCode, reason: String) async {
        session.close(code: code, reason: reason)
    }
}
