/// The one error type of every transport. `code` says what failed; `reason` says it in words
/// (for TLS failures, the underlying library's text).
public struct TransportError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What failed, in terms common to every backend.
    public enum Code: Sendable, Hashable {
        /// The request itself is unusable (bad URL, invalid header, invalid limits).
        case invalidRequest
        /// The URL scheme is not one this transport serves (e.g. `http://`, or `wss://` on TransportPOSIX where OpenSSL is unavailable).
        case unsupportedScheme
        /// The host name did not resolve.
        case resolveFailed
        /// No address of the host accepted a TCP connection.
        case connectFailed
        /// Connecting took longer than the request's connect timeout.
        case connectTimeout
        /// TLS failed: certificate, host name, handshake.
        case tls
        /// The server did not complete the HTTP upgrade in time.
        case handshakeTimeout
        /// The server answered the upgrade request with a status other than 101.
        case handshakeRejected(status: Int)
        /// The server's upgrade answer was malformed or failed a check (accept key, subprotocol).
        case handshakeInvalid
        /// The peer broke RFC 6455 (the connection was closed with 1002 or 1007).
        case protocolViolation
        /// A message exceeded the configured limits (1009).
        case messageTooBig
        /// The TCP connection dropped or an I/O call failed (1006).
        case connectionLost
        /// The connection is closing or closed: nothing more can be sent.
        case closed
        /// The peer did not answer our close frame in time.
        case closeTimeout
        /// The operation was cancelled.
        case cancelled
    }

    /// What failed, in the terms every transport shares.
    public var code: Code
    /// What failed, in words (for TLS, the underlying library's own text).
    public var reason: String
    /// Whether trying the same request again cannot succeed, so a reconnect policy should not
    /// retry it: a certificate that fails verification (set by the transport), or a request
    /// that is itself unusable (`invalidRequest`, `unsupportedScheme`). A rejected upgrade
    /// (401, 403...) is not permanent: Phoenix answers 403 for any refusal of `connect/3`,
    /// which may clear on its own or with fresh socket params.
    public var isPermanent: Bool

    /// An error with its code and reason.
    ///
    /// - Parameter code: what failed, in the terms every transport shares.
    /// - Parameter reason: what failed, in words.
    /// - Parameter isPermanent: nil takes the code's default: true for `invalidRequest` and
    ///   `unsupportedScheme`, false otherwise. Transports pass true for certificate
    ///   verification failures.
    public init(_ code: Code, _ reason: String, isPermanent: Bool? = nil) {
        self.code = code
        self.reason = reason
        self.isPermanent = isPermanent ?? (code == .invalidRequest || code == .unsupportedScheme)
    }

    /// One line for people: what failed, then the reason (`TLS failed: self-signed certificate`).
    public var description: String { reason.isEmpty ? code.summary : "\(code.summary): \(reason)" }
}

extension TransportError.Code {
    /// What failed, in a few words (the start of `TransportError.description`).
    public var summary: String {
        switch self {
        case .invalidRequest: "invalid request"
        case .unsupportedScheme: "unsupported URL scheme"
        case .resolveFailed: "could not resolve the host"
        case .connectFailed: "could not connect"
        case .connectTimeout: "connecting timed out"
        case .tls: "TLS failed"
        case .handshakeTimeout: "the WebSocket upgrade timed out"
        case .handshakeRejected(let status): "the server refused the WebSocket upgrade (HTTP \(status))"
        case .handshakeInvalid: "invalid WebSocket upgrade answer"
        case .protocolViolation: "WebSocket protocol violation"
        case .messageTooBig: "message too big"
        case .connectionLost: "connection lost"
        case .closed: "the connection is closed"
        case .closeTimeout: "no answer to the close"
        case .cancelled: "cancelled"
        }
    }
}
