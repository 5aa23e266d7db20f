/// Why a frame could not be decoded, or a message could not be encoded. Says what was wrong
/// and where; never a trap.
public enum PhoenixCodingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A message part, as named on the wire.
    public enum Field: String, Sendable, Hashable {
        /// The join reference (`join_ref`), first element of a v2 message.
        case joinRef = "join_ref"
        /// The message reference (`ref`).
        case ref
        /// The channel topic.
        case topic
        /// The event name.
        case event
        /// The payload.
        case payload
        /// A reply's status (`ok`, `error`).
        case status
        /// A reply's response.
        case response
    }

    /// The frame had no bytes.
    case emptyFrame
    /// The JSON text is malformed at byte `offset`; `expected` says what should have come.
    case invalidJSON(offset: Int, expected: String)
    /// The JSON is well formed but not a Phoenix envelope (e.g. an array of 4 elements).
    case wrongShape(String)
    /// A field has the wrong JSON type (e.g. a number where a string or null belongs).
    case wrongType(field: Field, expected: String)
    /// A required field is absent (v1 objects, reply payloads).
    case missingField(Field)
    /// A binary frame's first byte is not a known kind (0 push, 1 reply, 2 broadcast).
    case unknownBinaryKind(UInt8)
    /// A binary frame's header announces more bytes than the frame holds.
    case lengthPastEnd(field: Field, length: Int, available: Int)
    /// A name in a binary header (or a JSON string) is not valid UTF-8.
    case invalidUTF8(field: Field)
    /// Encoding: a binary v2 header field is over 255 bytes.
    case fieldTooLong(field: Field, length: Int)
    /// Encoding: the message cannot be expressed in this format (e.g. a binary payload in v1).
    case unencodable(String)

    public var description: String {
        switch self {
        case .emptyFrame: "the frame is empty"
        case .invalidJSON(let offset, let expected): "invalid JSON at byte \(offset): expected \(expected)"
        case .wrongShape(let what): "not a Phoenix message: \(what)"
        case .wrongType(let field, let expected): "\(field.rawValue) must be \(expected)"
        case .missingField(let field): "the message has no \(field.rawValue)"
        case .unknownBinaryKind(let kind):
            "unknown binary message kind \(kind) (0 is a push, 1 a reply, 2 a broadcast)"
        case .lengthPastEnd(let field, let length, let available):
            "\(field.rawValue) length \(length) runs past the end of the frame (\(available) "
                + (available == 1 ? "byte left)" : "bytes left)")
        case .invalidUTF8(let field): "\(field.rawValue) is not valid UTF-8"
        case .fieldTooLong(let field, let length): "\(field.rawValue) is \(length) bytes; binary v2 allows 255"
        case .unencodable(let why): "cannot encode: \(why)"
        }
    }
}
