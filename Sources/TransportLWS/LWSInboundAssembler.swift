import TransportCore

/// Joins the chunks lws hands to `LWS_CALLBACK_CLIENT_RECEIVE` into whole messages and
/// enforces the size limits. Pure: the service thread feeds it what lws reports.
struct LWSInboundAssembler {
    enum Outcome: Equatable {
        /// The message is not complete yet.
        case needMore
        case message(WebSocketMessage)
        /// A frame or the message went over the limits: close with 1009.
        case tooBig(String)
        /// A text message was not valid UTF-8: close with 1007.
        case invalidUTF8
    }

    let maxFrameSize: Int
    let maxMessageSize: Int
    private var buffer: [UInt8] = []
    private var messageIsText: Bool?
    private var frameBytes = 0

    init(maxFrameSize: Int, maxMessageSize: Int) {
        self.maxFrameSize = maxFrameSize
        self.maxMessageSize = maxMessageSize
    }

    /// One chunk of payload.
    /// - Parameters:
    ///   - isBinary: the message's type (lws keeps the first frame's type for continuations).
    ///   - remainingInFrame: `lws_remaining_packet_payload`: bytes of this frame still to come.
    ///   - isFinalFragment: `lws_is_final_fragment`: this frame has the FIN bit.
    mutating func receive(
        _ chunk: UnsafeRawBufferPointer,
        isBinary: Bool,
        remainingInFrame: Int,
        isFinalFragment: Bool
    ) -> Outcome {
        if messageIsText == nil { messageIsText = !isBinary }
        frameBytes += chunk.count
        if frameBytes + remainingInFrame > maxFrameSize {
            return .tooBig("a frame of \(frameBytes + remainingInFrame) bytes exceeds maxFrameSize \(maxFrameSize)")
        }
        if buffer.count + chunk.count + remainingInFrame > maxMessageSize {
            return .tooBig(
                "a message of over \(buffer.count + chunk.count + remainingInFrame) bytes exceeds "
                    + "maxMessageSize \(maxMessageSize)"
            )
        }
        let bytes: [UInt8]
        if buffer.isEmpty && remainingInFrame == 0 && isFinalFragment {
            // The whole message in one chunk (the usual case): one copy, straight into its array.
            bytes = Array(chunk)
        } else {
            // Room for the rest of this frame at once (already checked against the limits), so a
            // frame in several chunks grows the buffer once, not once per chunk.
            buffer.reserveCapacity(buffer.count + chunk.count + remainingInFrame)
            buffer.append(contentsOf: chunk)
            guard remainingInFrame == 0 else { return .needMore }
            frameBytes = 0
            guard isFinalFragment else { return .needMore }
            bytes = buffer
            buffer = []
        }
        frameBytes = 0
        let isText = messageIsText ?? true
        messageIsText = nil
        if isText {
            guard String(validating: bytes, as: UTF8.self) != nil else { return .invalidUTF8 }
            return .message(.text(bytes))
        }
        return .message(.binary(bytes))
    }
}
