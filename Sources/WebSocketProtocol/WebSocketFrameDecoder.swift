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

    /// Payloads at least this large are assembled in an array of their own, which the frame
    /// then takes as is: the bytes are copied once (from the read into that array) instead of
    /// twice (into the shared buffer, then out into the frame).
    static let ownedPayloadThreshold = 16 << 10
    /// The largest payload given its room before its bytes arrive.
    static let reservableSize = 1 << 28

    /// A large frame's payload while it arrives. Its header stays in `buffer` at `readIndex`;
    /// bytes after the payload go to `buffer`, behind the header.
    private struct OwnedPayload {
        var bytes: [UInt8]
        let length: Int
        var missing: Int { length - bytes.count }
    }

    /// A parsed frame header.
    private struct Header {
        var fin: Bool
        var opcode: WebSocketOpcode
        var maskKey: WebSocketMaskKey?
        var headerLength: Int
        var payloadLength: Int
    }

    private let peer: Peer
    private let maxFrameSize: Int
    private var buffer: [UInt8] = []
    private var readIndex = 0
    private var owned: OwnedPayload?

    /// A decoder with an empty buffer.
    ///
    /// - Parameters:
    ///   - peer: whose frames are decoded; decides the masking rule.
    ///   - maxFrameSize: the largest payload accepted; larger frames fail with `.frameTooBig`.
    public init(decodingFramesFrom peer: Peer = .server, maxFrameSize: Int = 16 << 20) {
        self.peer = peer
        // Clamped so that header + payload sizes can never overflow `Int`.
        self.maxFrameSize = min(max(0, maxFrameSize), Int.max / 4)
    }

    /// Bytes received but not yet returned as frames.
    public var bufferedByteCount: Int { buffer.count - readIndex + (owned?.bytes.count ?? 0) }

    /// Adds received bytes.
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        compactIfUseful()
        var rest = bytes
        // A read that starts with a large frame's header: its payload goes straight to the
        // array the frame will own. A header that breaks a rule is left to `nextFrame` to report.
        if owned == nil, readIndex == buffer.count,
            let header = try? Self.parseHeader(bytes, peer: peer, maxFrameSize: maxFrameSize),
            header.payloadLength >= Self.ownedPayloadThreshold, header.payloadLength <= Self.reservableSize
        {
            buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[..<header.headerLength]))
            var payload: [UInt8] = []
            payload.reserveCapacity(header.payloadLength)
            owned = OwnedPayload(bytes: payload, length: header.payloadLength)
            rest = UnsafeRawBufferPointer(rebasing: bytes[header.headerLength...])
        }
        if let missing = owned?.missing, missing > 0 {
            let taken = min(missing, rest.count)
            owned?.bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: rest[..<taken]))
            rest = UnsafeRawBufferPointer(rebasing: rest[taken...])
        }
        buffer.append(contentsOf: rest)
    }

    /// Adds received bytes.
    public mutating func append(_ bytes: some Sequence<UInt8>) {
        let appended: Void? = bytes.withContiguousStorageIfAvailable { append(UnsafeRawBufferPointer($0)) }
        if appended == nil { Array(bytes).withUnsafeBytes { append($0) } }
    }

    /// The next whole frame, or nil until more bytes arrive. After an error the decoder's
    /// state is unspecified: the connection must be failed.
    public mutating func nextFrame() throws(WebSocketProtocolError) -> WebSocketFrame? {
        let peer = peer
        let maxFrameSize = maxFrameSize
        let frameStart = readIndex
        // `withUnsafeBytes` only rethrows untyped errors: the typed one travels in a Result.
        let parsed = buffer.withUnsafeBytes { whole in
            Result<Header?, WebSocketProtocolError> { () throws(WebSocketProtocolError) in
                try Self.parseHeader(
                    UnsafeRawBufferPointer(rebasing: whole[frameStart...]), peer: peer, maxFrameSize: maxFrameSize)
            }
        }
        guard let header = try parsed.get() else { return nil }
        let start = frameStart + header.headerLength
        let length = header.payloadLength
        var payload: [UInt8]
        if let pending = owned {
            guard pending.missing == 0 else { return nil }
            payload = pending.bytes
            owned = nil
            readIndex = start
        } else if buffer.count - start >= length {
            payload = Array(buffer[start..<start + length])
            readIndex = start + length
        } else {
            // Sizes an allocation can honour get their room at once; beyond that, growth
            // follows the bytes that arrive.
            if length >= Self.ownedPayloadThreshold && length <= Self.reservableSize {
                // The payload arrives over several reads: move what came so far to an array of
                // its own, which the later reads fill directly.
                var bytes: [UInt8] = []
                bytes.reserveCapacity(length)
                bytes.append(contentsOf: buffer[start...])
                buffer.removeSubrange(start...)
                owned = OwnedPayload(bytes: bytes, length: length)
            } else if length <= Self.reservableSize {
                buffer.reserveCapacity(start + length)
            }
            return nil
        }
        if let maskKey = header.maskKey { WebSocketMasking.apply(maskKey, to: &payload) }
        return WebSocketFrame(
            fin: header.fin, reservedBits: 0, opcode: header.opcode, maskKey: header.maskKey, payload: payload)
    }

    /// The header at the start of `bytes`, nil until it is whole; throws on the first rule it breaks.
    private static func parseHeader(
        _ bytes: UnsafeRawBufferPointer, peer: Peer, maxFrameSize: Int
    ) throws(WebSocketProtocolError) -> Header? {
        let available = bytes.count
        guard available >= 2 else { return nil }
        let first = bytes[0]
        let second = bytes[1]
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
            payloadLength = UInt64(bytes[2]) << 8 | UInt64(bytes[3])
            guard payloadLength >= 126 else { throw .nonMinimalLength }
        case 127:
            headerLength += 8
            guard available >= headerLength else { return nil }
            var length: UInt64 = 0
            for offset in 2..<10 { length = length << 8 | UInt64(bytes[offset]) }
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
            maskKey = WebSocketMaskKey(
                bytes[headerLength], bytes[headerLength + 1], bytes[headerLength + 2], bytes[headerLength + 3])
            headerLength += 4
        }
        return Header(
            fin: fin, opcode: opcode, maskKey: maskKey, headerLength: headerLength, payloadLength: Int(payloadLength))
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
