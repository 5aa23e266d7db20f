/// A whole WebSocket message, as sent or received.
public enum WebSocketMessage: Sendable, Hashable {
    /// A text message. The bytes are valid UTF-8: transports validate inbound text and the
    /// `text(_:)` constructor builds outbound text from a `String`.
    case text([UInt8])
    /// A binary message.
    case binary([UInt8])
    /// The peer's close frame (inbound only: to close, call `WebSocketConnection.close`).
    /// `code` is nil when the close frame carried no status code (1005 is never on the wire).
    case close(code: CloseCode?, reason: String)

    /// A text message holding `string`'s UTF-8 bytes.
    public static func text(_ string: String) -> WebSocketMessage {
        .text(Array(string.utf8))
    }

    /// The text of a `.text` message; nil for other kinds.
    public var string: String? {
        guard case .text(let bytes) = self else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The size of the message's payload in bytes.
    public var byteCount: Int {
        switch self {
        case .text(let bytes), .binary(let bytes): bytes.count
        case .close(let code, let reason): (code == nil ? 0 : 2) + reason.utf8.count
        }
    }
}
