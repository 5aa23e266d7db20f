/// Encodes frames for the wire. Pure: the caller supplies the mask key, so output is
/// deterministic in tests; the transport passes `WebSocketMaskKey.random()` for every frame.
public enum WebSocketFrameEncoder {
    /// The size of the header for a payload of `payloadCount` bytes.
    public static func headerSize(payloadCount: Int, masked: Bool) -> Int {
        let lengthBytes =
            switch payloadCount {
            case ..<126: 0
            case ...0xFFFF: 2
            default: 8
            }
        return 2 + lengthBytes + (masked ? 4 : 0)
    }

    /// Appends the frame `opcode` with `payload` to `output`, masked with `maskKey` if given.
    public static func encode(
        opcode: WebSocketOpcode,
        fin: Bool = true,
        payload: UnsafeRawBufferPointer,
        maskKey: WebSocketMaskKey?,
        into output: inout [UInt8]
    ) {
        let count = payload.count
        output.reserveCapacity(output.count + headerSize(payloadCount: count, masked: maskKey != nil) + count)
        output.append((fin ? 0x80 : 0) | opcode.rawValue)
        let maskBit: UInt8 = maskKey == nil ? 0 : 0x80
        switch count {
        case ..<126:
            output.append(maskBit | UInt8(count))
        case ...0xFFFF:
            output.append(maskBit | 126)
            output.append(UInt8(truncatingIfNeeded: count >> 8))
            output.append(UInt8(truncatingIfNeeded: count))
        default:
            output.append(maskBit | 127)
            let length = UInt64(count)
            for shift in stride(from: 56, through: 0, by: -8) {
                output.append(UInt8(truncatingIfNeeded: length >> shift))
            }
        }
        if let maskKey {
            output.append(maskKey[0])
            output.append(maskKey[1])
            output.append(maskKey[2])
            output.append(maskKey[3])
        }
        let payloadStart = output.count
        output.append(contentsOf: payload)
        if let maskKey, count > 0 {
            output.withUnsafeMutableBytes { whole in
                WebSocketMasking.apply(maskKey, to: UnsafeMutableRawBufferPointer(rebasing: whole[payloadStart...]))
            }
        }
    }

    /// The encoded bytes of `frame` (masked with its `maskKey` if it has one).
    public static func encode(_ frame: WebSocketFrame) -> [UInt8] {
        var output: [UInt8] = []
        frame.payload.withUnsafeBytes {
            encode(opcode: frame.opcode, fin: frame.fin, payload: $0, maskKey: frame.maskKey, into: &output)
        }
        if frame.reservedBits != 0, !output.isEmpty { output[0] |= (frame.reservedBits & 0x7) << 4 }
        return output
    }

    /// The payload of a close frame: the code in network order, then the UTF-8 reason.
    public static func closePayload(code: UInt16?, reason: String) -> [UInt8] {
        guard let code else { return [] }
        return [UInt8(code >> 8), UInt8(code & 0xFF)] + Array(reason.utf8)
    }
}
