/// A frame's opcode (RFC 6455 section 5.2). Reserved values are rejected by the decoder.
public enum WebSocketOpcode: UInt8, Sendable, Hashable {
    /// 0x0: a further fragment of the message in progress.
    case continuation = 0x0
    /// 0x1: the first (or only) frame of a text message (UTF-8).
    case text = 0x1
    /// 0x2: the first (or only) frame of a binary message.
    case binary = 0x2
    /// 0x8: the closing handshake, with an optional status code and reason.
    case close = 0x8
    /// 0x9: a ping, answered by a pong with the same payload.
    case ping = 0x9
    /// 0xA: a pong, the answer to a ping (or unsolicited, as a heartbeat).
    case pong = 0xA

    /// Close, ping and pong: at most 125 bytes of payload, never fragmented.
    public var isControl: Bool { rawValue & 0x8 != 0 }
}

/// One WebSocket frame with its payload already unmasked.
public struct WebSocketFrame: Sendable, Hashable {
    /// The last frame of a message.
    public var fin: Bool
    /// RSV1-RSV3 as the top three bits of the first byte's low nibble (0 without extensions).
    public var reservedBits: UInt8
    /// What the frame carries.
    public var opcode: WebSocketOpcode
    /// The key the payload was masked with on the wire (client frames), nil for server frames.
    public var maskKey: WebSocketMaskKey?
    /// The unmasked payload.
    public var payload: [UInt8]

    /// A frame; unmasked, final and without reserved bits unless told otherwise.
    public init(
        fin: Bool = true,
        reservedBits: UInt8 = 0,
        opcode: WebSocketOpcode,
        maskKey: WebSocketMaskKey? = nil,
        payload: [UInt8] = []
    ) {
        self.fin = fin
        self.reservedBits = reservedBits
        self.opcode = opcode
        self.maskKey = maskKey
        self.payload = payload
    }

    /// The largest payload a control frame may carry.
    public static let maxControlPayload = 125
}

/// A rule of RFC 6455 a peer broke, with the close code that answers it.
public enum WebSocketProtocolError: Error, Sendable, Hashable, CustomStringConvertible {
    /// RSV1-3 set while no extension was negotiated (5.2).
    case reservedBitsSet(UInt8)
    /// Opcode 0x3-0x7 or 0xB-0xF (5.2).
    case reservedOpcode(UInt8)
    /// A control frame with FIN clear (5.5).
    case fragmentedControlFrame
    /// A control frame over 125 bytes (5.5).
    case controlFrameTooLong(Int)
    /// A 64-bit length with its most significant bit set (5.2).
    case lengthTooLarge
    /// A length not in the minimal number of bytes (5.2).
    case nonMinimalLength
    /// A server frame that was masked, or a client frame that was not (5.1).
    case unexpectedMasking(masked: Bool)
    /// A frame larger than the configured limit.
    case frameTooBig(size: UInt64, limit: Int)
    /// A whole message larger than the configured limit.
    case messageTooBig(limit: Int)
    /// A continuation frame with no message in progress (5.4).
    case unexpectedContinuation
    /// A new text or binary frame while a fragmented message is in progress (5.4).
    case expectedContinuation
    /// Text (or a close reason) that is not valid UTF-8 (8.1).
    case invalidUTF8
    /// A close frame with a one-byte payload (5.5.1).
    case closePayloadTooShort
    /// A close code that may not appear on the wire (7.4).
    case invalidCloseCode(UInt16)
    /// A frame after the peer's close frame (5.5.1).
    case frameAfterClose

    /// The status code to close the connection with.
    public var closeCode: UInt16 {
        switch self {
        case .invalidUTF8: 1007
        case .frameTooBig, .messageTooBig: 1009
        default: 1002
        }
    }

    /// The broken rule in words.
    public var description: String {
        switch self {
        case .reservedBitsSet(let bits): "reserved bits set (0x\(String(bits, radix: 16))) without an extension"
        case .reservedOpcode(let opcode): "reserved opcode 0x\(String(opcode, radix: 16))"
        case .fragmentedControlFrame: "fragmented control frame"
        case .controlFrameTooLong(let size): "control frame of \(size) bytes (max 125)"
        case .lengthTooLarge: "64-bit payload length with its most significant bit set"
        case .nonMinimalLength: "payload length not minimally encoded"
        case .unexpectedMasking(let masked): masked ? "masked frame from the server" : "unmasked frame from the client"
        case .frameTooBig(let size, let limit): "frame of \(size) bytes exceeds the limit of \(limit)"
        case .messageTooBig(let limit): "message exceeds the limit of \(limit) bytes"
        case .unexpectedContinuation: "continuation frame without a message in progress"
        case .expectedContinuation: "new data frame while a fragmented message is in progress"
        case .invalidUTF8: "text is not valid UTF-8"
        case .closePayloadTooShort: "close frame with a one-byte payload"
        case .invalidCloseCode(let code): "close code \(code) is not allowed on the wire"
        case .frameAfterClose: "frame after the close frame"
        }
    }
}
