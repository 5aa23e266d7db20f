import Testing

@testable import WebSocketProtocol

/// The frame codec and masking, against RFC 6455 section 5.7 byte for byte and every rule.
@Suite struct FrameCodecTests {
    static let helloMask = WebSocketMaskKey(0x37, 0xfa, 0x21, 0x3d)

    /// Decodes `bytes` fed one byte at a time (the worst split), returning every frame.
    static func decodeBytewise(_ bytes: [UInt8], from peer: WebSocketFrameDecoder.Peer = .server) throws
        -> [WebSocketFrame]
    {
        var decoder = WebSocketFrameDecoder(decodingFramesFrom: peer)
        var frames: [WebSocketFrame] = []
        for byte in bytes {
            decoder.append([byte])
            while let frame = try decoder.nextFrame() { frames.append(frame) }
        }
        #expect(decoder.bufferedByteCount == 0)
        return frames
    }

    @Test func rfcSingleFrameUnmaskedText() throws {
        let wire: [UInt8] = [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]
        #expect(WebSocketFrameEncoder.encode(WebSocketFrame(opcode: .text, payload: Array("Hello".utf8))) == wire)
        #expect(try Self.decodeBytewise(wire) == [WebSocketFrame(opcode: .text, payload: Array("Hello".utf8))])
    }

    @Test func rfcSingleFrameMaskedText() throws {
        let wire: [UInt8] = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]
        let frame = WebSocketFrame(opcode: .text, maskKey: Self.helloMask, payload: Array("Hello".utf8))
        #expect(WebSocketFrameEncoder.encode(frame) == wire)
        #expect(try Self.decodeBytewise(wire, from: .client) == [frame])
    }

    @Test func rfcFragmentedUnmaskedText() throws {
        let wire: [UInt8] = [0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f]
        let frames = [
            WebSocketFrame(fin: false, opcode: .text, payload: Array("Hel".utf8)),
            WebSocketFrame(fin: true, opcode: .continuation, payload: Array("lo".utf8)),
        ]
        #expect(frames.flatMap(WebSocketFrameEncoder.encode) == wire)
        #expect(try Self.decodeBytewise(wire) == frames)
    }

    @Test func rfcPingAndMaskedPong() throws {
        let ping: [UInt8] = [0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]
        let pong: [UInt8] = [0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]
        #expect(try Self.decodeBytewise(ping) == [WebSocketFrame(opcode: .ping, payload: Array("Hello".utf8))])
        let pongFrame = WebSocketFrame(opcode: .pong, maskKey: Self.helloMask, payload: Array("Hello".utf8))
        #expect(WebSocketFrameEncoder.encode(pongFrame) == pong)
    }

    @Test func rfc256ByteAnd64KiBBinaryLengths() throws {
        let small = [UInt8](repeating: 0xAB, count: 256)
        let encodedSmall = WebSocketFrameEncoder.encode(WebSocketFrame(opcode: .binary, payload: small))
        #expect(Array(encodedSmall.prefix(4)) == [0x82, 0x7E, 0x01, 0x00])
        #expect(encodedSmall.count == 4 + 256)
        let large = [UInt8](repeating: 0xCD, count: 65536)
        let encodedLarge = WebSocketFrameEncoder.encode(WebSocketFrame(opcode: .binary, payload: large))
        #expect(Array(encodedLarge.prefix(10)) == [0x82, 0x7F, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00])
        var decoder = WebSocketFrameDecoder()
        decoder.append(encodedSmall + encodedLarge)
        #expect(try decoder.nextFrame()?.payload == small)
        #expect(try decoder.nextFrame()?.payload == large)
        #expect(try decoder.nextFrame() == nil)
    }

    @Test(arguments: [0, 1, 125, 126, 127, 65535, 65536, 65537])
    func lengthEncodingBoundaries(size: Int) throws {
        let payload = (0..<size).map { UInt8(truncatingIfNeeded: $0) }
        let key = WebSocketMaskKey(1, 2, 3, 4)
        let encoded = WebSocketFrameEncoder.encode(WebSocketFrame(opcode: .binary, maskKey: key, payload: payload))
        let expectedLengthByte: UInt8 = size < 126 ? UInt8(size) : (size <= 0xFFFF ? 126 : 127)
        #expect(encoded[1] == 0x80 | expectedLengthByte)
        #expect(encoded.count == WebSocketFrameEncoder.headerSize(payloadCount: size, masked: true) + size)
        var decoder = WebSocketFrameDecoder(decodingFramesFrom: .client)
        // Split in three uneven pieces: header and payload boundaries fall anywhere.
        let cuts = [0, min(3, encoded.count), encoded.count / 2, encoded.count]
        var frames: [WebSocketFrame] = []
        for index in 0..<3 {
            decoder.append(encoded[cuts[index]..<cuts[index + 1]])
            while let frame = try decoder.nextFrame() { frames.append(frame) }
        }
        #expect(frames == [WebSocketFrame(opcode: .binary, maskKey: key, payload: payload)])
    }

    @Test func maskingMatchesAScalarReferenceAtEveryLengthAndOffset() {
        let key = WebSocketMaskKey(0x12, 0x9A, 0xFE, 0x01)
        for count in 0..<100 {
            for offset in 0..<4 {
                let original = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
                var masked = original
                WebSocketMasking.apply(key, to: &masked, keyOffset: offset)
                let reference = original.enumerated().map { $0.element ^ key[$0.offset + offset] }
                #expect(masked == reference, "count \(count), offset \(offset)")
            }
        }
    }

    @Test func maskingAnUnalignedSliceMatchesTheReference() {
        let key = WebSocketMaskKey(0xA1, 0xB2, 0xC3, 0xD4)
        var buffer = (0..<203).map { UInt8(truncatingIfNeeded: $0) }
        let original = buffer
        buffer.withUnsafeMutableBytes { whole in
            WebSocketMasking.apply(key, to: UnsafeMutableRawBufferPointer(rebasing: whole[3..<200]))
        }
        for index in buffer.indices {
            let expected = (3..<200).contains(index) ? original[index] ^ key[index - 3] : original[index]
            #expect(buffer[index] == expected, "byte \(index)")
        }
    }

    /// `apply` masks the bytes before the first 16-byte boundary one by one, then aligned
    /// blocks, then the tail: from every start address modulo 16, with lengths around the block
    /// sizes and every key offset, it must match the scalar reference and leave the neighbours
    /// alone.
    @Test func maskingFromEveryAddressAlignmentMatchesTheReference() {
        let key = WebSocketMaskKey(0x5C, 0x03, 0xE7, 0x90)
        let capacity = 16 + 300 + 16
        let original = (0..<capacity).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 5) }
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 64)
        defer { storage.deallocate() }
        var mismatches = 0
        for start in 0..<16 {
            for count in [0, 1, 15, 16, 17, 31, 32, 33, 63, 64, 65, 95, 127, 128, 129, 200, 300] {
                for keyOffset in 0..<4 {
                    storage.copyBytes(from: original)
                    let slice = UnsafeMutableRawBufferPointer(rebasing: storage[start..<(start + count)])
                    WebSocketMasking.apply(key, to: slice, keyOffset: keyOffset)
                    for index in 0..<capacity {
                        let inside = (start..<(start + count)).contains(index)
                        let expected = inside ? original[index] ^ key[index - start + keyOffset] : original[index]
                        if storage[index] != expected { mismatches += 1 }
                    }
                }
            }
        }
        #expect(mismatches == 0)
    }

    @Test func aFreshRandomKeyPerFrame() {
        let keys = Set((0..<64).map { _ in WebSocketMaskKey.random() })
        #expect(keys.count > 60)
    }

    @Test(
        arguments: [
            ([0xC1, 0x00], WebSocketProtocolError.reservedBitsSet(4)),
            ([0xA1, 0x00], .reservedBitsSet(2)),
            ([0x91, 0x00], .reservedBitsSet(1)),
            ([0x83, 0x00], .reservedOpcode(3)),
            ([0x87, 0x00], .reservedOpcode(7)),
            ([0x8B, 0x00], .reservedOpcode(0xB)),
            ([0x8F, 0x00], .reservedOpcode(0xF)),
            ([0x09, 0x00], .fragmentedControlFrame),
            ([0x08, 0x00], .fragmentedControlFrame),
            ([0x89, 0x7E, 0x00, 0x7E], .controlFrameTooLong(126)),
            ([0x88, 0x7F], .controlFrameTooLong(127)),
            ([0x82, 0x80, 1, 2, 3, 4], .unexpectedMasking(masked: true)),
            ([0x82, 0x7E, 0x00, 0x7D], .nonMinimalLength),
            ([0x82, 0x7F, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF], .nonMinimalLength),
            ([0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0], .lengthTooLarge),
            ([0x82, 0x7F, 0, 0, 0, 0, 0x01, 0, 0, 1], .frameTooBig(size: 16_777_217, limit: 16 << 20)),
        ] as [([UInt8], WebSocketProtocolError)])
    func everyFrameRuleViolation(bytes: [UInt8], expected: WebSocketProtocolError) {
        var decoder = WebSocketFrameDecoder(decodingFramesFrom: .server)
        decoder.append(bytes)
        #expect(throws: expected) { _ = try decoder.nextFrame() }
    }

    @Test func anUnmaskedClientFrameIsRejectedByAServerSideDecoder() {
        var decoder = WebSocketFrameDecoder(decodingFramesFrom: .client)
        decoder.append([0x81, 0x00])
        #expect(throws: WebSocketProtocolError.unexpectedMasking(masked: false)) { _ = try decoder.nextFrame() }
    }

    @Test func theSizeLimitIsCheckedFromTheHeaderBeforeThePayloadArrives() {
        var decoder = WebSocketFrameDecoder(decodingFramesFrom: .server, maxFrameSize: 1000)
        decoder.append([0x82, 0x7E, 0x03, 0xE9])  // 1001 bytes announced, none sent
        #expect(throws: WebSocketProtocolError.frameTooBig(size: 1001, limit: 1000)) { _ = try decoder.nextFrame() }
    }

    @Test func aHugeLimitStillRejectsAHugeAnnouncedLengthWithoutTrapping() throws {
        var decoder = WebSocketFrameDecoder(decodingFramesFrom: .server, maxFrameSize: .max)
        decoder.append([0x82, 0x7F, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
        #expect(throws: WebSocketProtocolError.frameTooBig(size: UInt64(Int64.max), limit: Int.max / 4)) {
            _ = try decoder.nextFrame()
        }
    }

    @Test func arbitraryBytesNeverTrap() {
        var state: UInt64 = 12345
        for _ in 0..<2000 {
            var decoder = WebSocketFrameDecoder(decodingFramesFrom: .server, maxFrameSize: 300)
            var machine = WebSocketConnectionStateMachine(maxMessageSize: 500)
            let bytes = (0..<64).map { _ -> UInt8 in
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return UInt8(truncatingIfNeeded: state >> 56)
            }
            decoder.append(bytes)
            do {
                while let frame = try decoder.nextFrame() { _ = machine.frameReceived(frame) }
            } catch {
                _ = machine.decodingFailed(error)
            }
        }
    }

    @Test func closeCodesMapToTheRightStatus() {
        #expect(WebSocketProtocolError.invalidUTF8.closeCode == 1007)
        #expect(WebSocketProtocolError.messageTooBig(limit: 1).closeCode == 1009)
        #expect(WebSocketProtocolError.frameTooBig(size: 2, limit: 1).closeCode == 1009)
        #expect(WebSocketProtocolError.reservedOpcode(3).closeCode == 1002)
    }
}
