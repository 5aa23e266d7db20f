/// An incremental decoder of WebSocket frames: feed it bytes as they arrive, in pieces of any
/// size, and take whole frames out. Pure: no I/O, no clock.
///
/// Rules checked as soon as the bytes that break them have arrived (each a
/// `WebSocketProtocolError`): reserved bits, reserved opcodes, fragmented or over-long control
/// frames, masking by the wrong side, non-minimal or over-large lengths, and the frame size
/// limit (checked from the header, before the payload is buffered). Message-level rules
/// (continuations, UTF-8, close payloads) belong to `WebSocketConnectionStateMachine`.
public struct WebSocketFrameDecoder: Sendable {
    /// Which side's frames this decoder reads.
    public enum Peer: Sendable, Hashable {
        /// Frames from a server: must not be masked (what a client decodes).
        case server
        /// Frames from a client: must be masked (what a server decodes).
        case client
    }

    private let peer: Peer
    private let maxFrameSize: Int
    private var buffer: [UInt8] = []
    private var readIndex = 0

    /// - Parameters:
    ///   - peer: whose frames are decoded; decides the masking rule.
    ///   - maxFrameSize: the largest payload accepted; larger frames fail with `.frameTooBig`.
    public init(decodingFramesFrom peer: Peer = .server, maxFrameSize: Int = 16 << 20) {
        self.peer = peer
        // Clamped so that header + payload sizes can never overflow `Int`.
        self.maxFrameSize = min(max(0, maxFrameSize), Int.max / 4)
    }

    /// Bytes received but not yet returned as frames.
    public var bufferedByteCount: Int { buffer.count - readIndex }

    /// Adds received bytes.
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        compactIfUseful()
        buffer.append(contentsOf: bytes)
    }

    /// Adds received bytes.
    public mutating func append(_ bytes: some Sequence<UInt8>) {
        compactIfUseful()
        buffer.append(contentsOf: bytes)
    }

    /// The next whole frame, or nil until more bytes arrive. After an error the decoder's
    /// state is unspecified: the connection must be failed.
    public mutating func nextFrame() throws(WebSocketProtocolError) -> WebSocketFrame? {
        let available = buffer.count - readIndex
        guard available >= 2 else { return nil }
        let first = buffer[readIndex]
        let second = buffer[readIndex + 1]
        let fin = first & 0x80 != 0
        let reservedBits = (first >> 4) & 0x7
        guard reservedBits == 0 else { throw .reservedBitsSet(reservedBits) }
        guard let opcode = WebSocketOpcode(rawValue: first & 0x0F) else { throw .reservedOpcode(first & 0x0F) }
        let masked = second & 0x80 != 0
        let shortLength = Int(second & 0x7F)
        if opcode.isControl {
            guard fin else { throw .fragmentedControlFrame }
            guard shortLength <= WebSocketFrame.maxControlPayload else { throw .controlFrameTooLong(shortLength) }
        }
        guard masked == (peer == .client) else { throw .unexpectedMasking(masked: masked) }

        var headerLength = 2
        let payloadLength: UInt64
        switch shortLength {
        case 126:
            headerLength += 2
            guard available >= headerLength else { return nil }
            payloadLength = UInt64(buffer[readIndex + 2]) << 8 | UInt64(buffer[readIndex + 3])
            guard payloadLength >= 126 else { throw .nonMinimalLength }
        case 127:
            headerLength += 8
            guard available >= headerLength else { return nil }
            var length: UInt64 = 0
            for offset in 2..<10 { length = length << 8 | UInt64(buffer[readIndex + offset]) }
            guard length & (1 << 63) == 0 else { throw .lengthTooLarge }
            guard length > 0xFFFF else { throw .nonMinimalLength }
            payloadLength = length
        default:
            payloadLength = UInt64(shortLength)
        }
        guard payloadLength <= UInt64(maxFrameSize) else {
            throw .frameTooBig(size: payloadLength, limit: maxFrameSize)
        }
        var maskKey: WebSocketMaskKey?
        if masked {
            guard available >= headerLength + 4 else { return nil }
            let at = readIndex + headerLength
            maskKey = WebSocketMaskKey(buffer[at], buffer[at + 1], buffer[at + 2], buffer[at + 3])
            headerLength += 4
        }
        let length = Int(payloadLength)
        guard available >= headerLength + length else {
            // Grow once to the frame's size instead of doubling through a large payload (only for
            // sizes an allocation can honour; beyond that, growth follows the bytes that arrive).
            if length <= 1 << 28 { buffer.reserveCapacity(readIndex + headerLength + length) }
            return nil
        }
        let start = readIndex + headerLength
        var payload = Array(buffer[start..<start + length])
        if let maskKey { WebSocketMasking.apply(maskKey, to: &payload) }
        readIndex = start + length
        return WebSocketFrame(fin: fin, reservedBits: 0, opcode: opcode, maskKey: maskKey, payload: payload)
    }

    private mutating func compactIfUseful() {
        if readIndex == buffer.count {
            buffer.removeAll(keepingCapacity: buffer.capacity <= 1 << 20)
            readIndex = 0
        } else if readIndex > 4096 && readIndex * 2 >= buffer.count {
            buffer.removeFirst(readIndex)
            readIndex = 0
        }
    }
}
