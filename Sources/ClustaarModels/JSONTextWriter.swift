/// Compact JSON text written by hand, for the one value the SDK encodes on every message
/// (``InterlocutorReply``): byte for byte what ``ClustaarJSON/encode(_:)`` writes through
/// `JSONEncoder` (keys sorted, slashes not escaped, non-ASCII as UTF-8), without its cost
/// (about 30 allocations and 10 us a message). Strings are escaped as `JSONEncoder` does: `"`
/// and `\` with a backslash, `\b \t \n \f \r` by name, the other control characters as
/// `\u00XX` (lowercase hex), everything else as is.
struct JSONTextWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int) { bytes.reserveCapacity(capacity) }

    mutating func raw(_ text: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    mutating func string(_ string: String) {
        bytes.append(UInt8(ascii: "\""))
        var utf8 = string.utf8
        let copied = utf8.withContiguousStorageIfAvailable { buffer -> Bool in
            // Most texts need no escaping: one copy.
            guard buffer.contains(where: Self.needsEscaping) else {
                bytes.append(contentsOf: buffer)
                return true
            }
            return false
        }
        if copied != true { appendEscaped(&utf8) }
        bytes.append(UInt8(ascii: "\""))
    }

    private static func needsEscaping(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\")
    }

    private mutating func appendEscaped(_ utf8: inout String.UTF8View) {
        for byte in utf8 {
            guard Self.needsEscaping(byte) else {
                bytes.append(byte)
                continue
            }
            bytes.append(UInt8(ascii: "\\"))
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(byte)
            case 0x08: bytes.append(UInt8(ascii: "b"))
            case 0x09: bytes.append(UInt8(ascii: "t"))
            case 0x0A: bytes.append(UInt8(ascii: "n"))
            case 0x0C: bytes.append(UInt8(ascii: "f"))
            case 0x0D: bytes.append(UInt8(ascii: "r"))
            default:
                raw("u00")
                bytes.append(Self.hexDigit(byte >> 4))
                bytes.append(Self.hexDigit(byte & 0x0F))
            }
        }
    }

    private static func hexDigit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") + value - 10
    }
}
