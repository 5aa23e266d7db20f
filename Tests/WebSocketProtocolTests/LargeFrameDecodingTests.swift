import Testing

@testable import WebSocketProtocol

/// Frames at or above `WebSocketFrameDecoder.ownedPayloadThreshold` are assembled in an array of
/// their own: the frames, their order and the bytes left over must be exactly those of the
/// small-frame path, however the reads split them.
@Suite(.timeLimit(.minutes(1))) struct LargeFrameDecodingTests {
    static func payload(_ count: Int, seed: UInt8 = 7) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) }
    }

    /// Feeds `wire` in the given pieces, taking frames after each.
    static func decode(
        _ wire: [UInt8], cuts: [Int], from peer: WebSocketFrameDecoder.Peer = .server
    ) throws -> (frames: [WebSocketFrame], left: Int) {
        var decoder = WebSocketFrameDecoder(decodingFramesFrom: peer)
        var frames: [WebSocketFrame] = []
        let bounds = [0] + cuts + [wire.count]
        for index in 0..<(bounds.count - 1) {
            decoder.append(wire[bounds[index]..<bounds[index + 1]])
            while let frame = try decoder.nextFrame() { frames.append(frame) }
        }
        return (frames, decoder.bufferedByteCount)
    }

    @Test func aLargeFrameThenASmallOneInOneRead() throws {
        let large = Self.payload(100 << 10)
        let wire =
            WebSocketFrameEncoder.encode(WebSocketFrame(opcode: .binary, payload: large))
            + WebSocketFrameEncoder.encode(WebSocketFrame(opcode: .text, payload: Array("after".utf8)))
        let result = try Self.decode(wire, cuts: [])
        #expect(
            result.frames == [
                WebSocketFrame(opcode: .binary, payload: large),
                WebSocketFrame(opcode: .text, payload: Array("after".utf8)),
            ])
        #expect(result.left == 0)
    }

    @Test func everySplitPointAroundTheHeaderAndThePayloadEnd() throws {
        let small = Array("first".utf8)
        let large = Self.payload(70_000)
        let tail = Array("tail".utf8)
        let frames = [
            WebSocketFrame(opcode: .text, payload: small),
            WebSocketFrame(fin: false, opcode: .binary, payload: large),
            WebSocketFrame(opcode: .continuation, payload: tail),
        ]
        let wire = frames.flatMap(WebSocketFrameEncoder.encode)
        let largeStart = 7  // after the 2-byte header and 5-byte payload of the first frame
        let largeEnd = largeStart + 10 + large.count
        let points = [1, 6, 7, 8, 9, 12, 16, 17, 18, 4096, largeEnd - 1, largeEnd, largeEnd + 1, wire.count - 1]
        for point in points {
            let result = try Self.decode(wire, cuts: [point])
            #expect(result.frames == frames, "cut at \(point)")
            #expect(result.left == 0, "cut at \(point)")
        }
        for first in points {
            for second in points where second > first {
                #expect(try Self.decode(wire, cuts: [first, second]).frames == frames, "cuts \(first), \(second)")
            }
        }
    }

    @Test func aMaskedLargeClientFrameInUnevenReads() throws {
        let large = Self.payload(64 << 10, seed: 99)
        let key = WebSocketMaskKey(0xA1, 0xB2, 0xC3, 0xD4)
        let frame = WebSocketFrame(opcode: .binary, maskKey: key, payload: large)
        let wire = WebSocketFrameEncoder.encode(frame)
        let result = try Self.decode(wire, cuts: Array(stride(from: 7000, to: wire.count, by: 7000)), from: .client)
        #expect(result.frames == [frame])
        #expect(result.left == 0)
    }

    @Test(arguments: [WebSocketFrameDecoder.ownedPayloadThreshold - 1, WebSocketFrameDecoder.ownedPayloadThreshold])
    func bothSidesOfTheThreshold(size: Int) throws {
        let large = Self.payload(size)
        let wire = WebSocketFrameEncoder.encode(WebSocketFrame(opcode: .binary, payload: large)) + [0x8A, 0x00]
        for cuts in [[], [3], [size / 2], [wire.count - 2]] {
            let result = try Self.decode(wire, cuts: cuts)
            #expect(
                result.frames == [WebSocketFrame(opcode: .binary, payload: large), WebSocketFrame(opcode: .pong)],
                "cuts \(cuts)")
        }
    }

    @Test func bytesOfAnUnfinishedLargeFrameCountAsBuffered() throws {
        let wire = WebSocketFrameEncoder.encode(WebSocketFrame(opcode: .binary, payload: Self.payload(64 << 10)))
        var decoder = WebSocketFrameDecoder()
        decoder.append(wire[..<1010])
        #expect(try decoder.nextFrame() == nil)
        #expect(decoder.bufferedByteCount == 1010)
        decoder.append(wire[1010..<5000])
        #expect(try decoder.nextFrame() == nil)
        #expect(decoder.bufferedByteCount == 5000)
    }

    @Test func aLargeHeaderThatBreaksARuleIsStillReported() {
        // A masked server frame announcing 100 KiB: the read is not adopted as a payload.
        var decoder = WebSocketFrameDecoder(decodingFramesFrom: .server)
        decoder.append([0x82, 0xFF, 0, 0, 0, 0, 0, 0x01, 0x90, 0x00, 1, 2, 3, 4] + Self.payload(1000))
        #expect(throws: WebSocketProtocolError.unexpectedMasking(masked: true)) { _ = try decoder.nextFrame() }
        var limited = WebSocketFrameDecoder(decodingFramesFrom: .server, maxFrameSize: 20_000)
        limited.append([0x82, 0x7F, 0, 0, 0, 0, 0, 0x01, 0x90, 0x00] + Self.payload(1000))
        #expect(throws: WebSocketProtocolError.frameTooBig(size: 102_400, limit: 20_000)) {
            _ = try limited.nextFrame()
        }
    }
}
