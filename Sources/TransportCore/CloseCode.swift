/// A WebSocket close status code (RFC 6455 section 7.4).
///
/// A struct rather than an enum so that application codes (3000-4999) and codes from future
/// RFCs pass through unchanged.
public struct CloseCode: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    /// The code as sent in the close frame.
    public var rawValue: UInt16

    /// The code `rawValue`, whatever it is (see `isValidOnWire`).
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    /// The code `rawValue`: `CloseCode(4001)`.
    public init(_ rawValue: UInt16) { self.rawValue = rawValue }

    /// 1000: the purpose of the connection was fulfilled.
    public static let normalClosure = CloseCode(1000)
    /// 1001: the endpoint is going away (server shutting down, page navigated away).
    public static let goingAway = CloseCode(1001)
    /// 1002: the peer broke the protocol.
    public static let protocolError = CloseCode(1002)
    /// 1003: a kind of data the endpoint cannot accept.
    public static let unsupportedData = CloseCode(1003)
    /// 1005: the close frame had no status code. Never sent on the wire.
    public static let noStatusReceived = CloseCode(1005)
    /// 1006: the connection dropped without a close frame. Never sent on the wire.
    public static let abnormalClosure = CloseCode(1006)
    /// 1007: a message's data was not consistent with its type (e.g. invalid UTF-8 in text).
    public static let invalidFramePayloadData = CloseCode(1007)
    /// 1008: a message violated the endpoint's policy.
    public static let policyViolation = CloseCode(1008)
    /// 1009: a message was too big to process.
    public static let messageTooBig = CloseCode(1009)
    /// 1010: the client expected the server to negotiate an extension.
    public static let mandatoryExtension = CloseCode(1010)
    /// 1011: the server met an unexpected condition.
    public static let internalServerError = CloseCode(1011)
    /// 1012: the service is restarting; clients should reconnect.
    public static let serviceRestart = CloseCode(1012)
    /// 1013: try again later.
    public static let tryAgainLater = CloseCode(1013)
    /// 1015: the TLS handshake failed. Never sent on the wire.
    public static let tlsHandshake = CloseCode(1015)

    /// Whether this code may appear in a close frame on the wire (RFC 6455 7.4.1 and the IANA
    /// registry): 1000-1003, 1007-1014 and 3000-4999.
    public var isValidOnWire: Bool {
        switch rawValue {
        case 1000...1003, 1007...1014, 3000...4999: true
        default: false
        }
    }

    /// The code's name in RFC 6455 and the IANA registry (`internal server error`), nil for a
    /// code without one (application codes 4000-4999, unassigned codes).
    public var name: String? {
        switch rawValue {
        case 1000: "normal closure"
        case 1001: "going away"
        case 1002: "protocol error"
        case 1003: "unsupported data"
        case 1005: "no status received"
        case 1006: "abnormal closure"
        case 1007: "invalid frame payload data"
        case 1008: "policy violation"
        case 1009: "message too big"
        case 1010: "mandatory extension"
        case 1011: "internal server error"
        case 1012: "service restart"
        case 1013: "try again later"
        case 1014: "bad gateway"
        case 1015: "TLS handshake failure"
        default: nil
        }
    }

    /// The number and, when it has one, the name: `1011 (internal server error)`, `4001`.
    public var description: String { name.map { "\(rawValue) (\($0))" } ?? String(rawValue) }
}
