/// Reads one direction of a proxied WebSocket connection, without changing it: skips the HTTP
/// upgrade head (up to the first blank line), then splits the bytes into WebSocket frames and
/// unmasks their payloads, so tests can see what went through (e.g. count heartbeats).
///
/// Pure and incremental: bytes come in chunks of any size. It only observes, so on anything it
/// does not understand (a frame larger than `maxFrameLength`, a head that never ends) it stops
/// observing for good instead of failing; the proxy forwards the bytes regardless.
struct FaultProxyFrameObserver: Sendable {
    /// One frame as it was on the wire, payload unmasked (at most `maxKeptPayload` bytes kept).
    struct Frame: Sendable, Hashable {
        var opcode: UInt8
        var isFinal: Bool
        var payloadLength: Int
        var payload: [UInt8]
    }

    private enum Phase: Sendable, Hashable {
        /// In the HTTP head; `matched` bytes of "\r\n\r\n" seen in a row.
        case head(matched: Int, seen: Int)
        case frames
        case gaveUp
    }

    static let maxHeadLength = 64 * 1024
    static let maxFrameLength = 1024 * 1024
    static let maxKeptPayload = 4096

    private var phase: Phase = .head(matched: 0, seen: 0)
    private var buffer: [UInt8] = []

    /// Whether it stopped observing (it met bytes it does not parse).
    var hasGivenUp: Bool { phase == .gaveUp }

    /// Takes the next bytes of this direction; returns the frames they completed, in order.
    mutating func consume(_ bytes: some Collection<UInt8>) -> [Frame] {
        var frames: [Frame] = []
        var rest = bytes[...]
        if case .head(var matched, var seen) = phase {
            let crlfcrlf: [UInt8] = [13, 10, 13, 10]
            while let byte = rest.first, matched < 4 {
                rest = rest.dropFirst()
                seen += 1
                if byte == crlfcrlf[matched] {
                    matched += 1
                } else {
                    matched = byte == 13 ? 1 : 0
                }
            }
            if matched == 4 {
                phase = .frames
            } else if seen > Self.maxHeadLength {
                phase = .gaveUp
                return []
            } else {
                phase = .head(matched: matched, seen: seen)
                return []
            }
        }
        guard phase == .frames else { return [] }
        buffer.append(contentsOf: rest)
        var start = 0
        while let (frame, length) = parseFrame(at: start) {
            frames.append(frame)
            start += length
        }
        // Giving up empties the buffer: only then can `start` exceed it.
        buffer.removeFirst(min(start, buffer.count))
        return frames
    }

    /// The frame starting at `start` in `buffer` and its length on the wire, or nil when more
    /// bytes are needed (or it gave up).
    private mutating func parseFrame(at start: Int) -> (Frame, Int)? {
        let available = buffer.count - start
        guard phase == .frames, available >= 2 else { return nil }
        let first = buffer[start]
        let second = buffer[start + 1]
        let masked = second & 0x80 != 0
        var headerLength = 2
        var payloadLength = UInt64(second & 0x7F)
        if payloadLength == 126 {
            guard available >= 4 else { return nil }
            payloadLength = UInt64(buffer[start + 2]) << 8 | UInt64(buffer[start + 3])
            headerLength = 4
        } else if payloadLength == 127 {
            guard available >= 10 else { return nil }
            payloadLength = 0
            for index in 0..<8 { payloadLength = payloadLength << 8 | UInt64(buffer[start + 2 + index]) }
            headerLength = 10
        }
        guard payloadLength <= UInt64(Self.maxFrameLength) else {
            phase = .gaveUp
            buffer = []
            return nil
        }
        let maskStart = start + headerLength
        if masked { headerLength += 4 }
        let total = headerLength + Int(payloadLength)
        guard available >= total else { return nil }
        let payloadStart = start + headerLength
        let kept = min(Int(payloadLength), Self.maxKeptPayload)
        var payload = Array(buffer[payloadStart..<payloadStart + kept])
        if masked {
            for index in payload.indices { payload[index] ^= buffer[maskStart + index % 4] }
        }
        let frame = Frame(
            opcode: first & 0x0F, isFinal: first & 0x80 != 0, payloadLength: Int(payloadLength), payload: payload)
        return (frame, total)
    }
}
