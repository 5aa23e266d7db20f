/// A forward-only JSON scanner over a frame's bytes, just enough to read the Phoenix envelope:
/// strings and nulls are read, any other value is validated and skipped, returning its byte
/// range so that the payload can be handed on as a slice, never re-encoded.
///
/// Nesting is tracked with an explicit stack (no recursion), so hostile input cannot overflow the
/// call stack; depth is capped at `maximumDepth`.
struct JSONScanner: ~Copyable {
    static let maximumDepth = 1024

    let bytes: UnsafeBufferPointer<UInt8>
    var index: Int

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
        self.index = 0
    }

    var isAtEnd: Bool { index >= bytes.count }

    func error(_ expected: String) -> PhoenixCodingError {
        .invalidJSON(offset: index, expected: expected)
    }

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"): index += 1
            default: return
            }
        }
    }

    /// The next non-whitespace byte, without consuming it.
    mutating func peek() -> UInt8? {
        skipWhitespace()
        return index < bytes.count ? bytes[index] : nil
    }

    mutating func expect(_ byte: UInt8, _ what: String) throws(PhoenixCodingError) {
        skipWhitespace()
        guard index < bytes.count, bytes[index] == byte else { throw error(what) }
        index += 1
    }

    /// Consumes `byte` if it comes next.
    mutating func consume(_ byte: UInt8) -> Bool {
        skipWhitespace()
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    mutating func expectEnd() throws(PhoenixCodingError) {
        skipWhitespace()
        guard isAtEnd else { throw error("the end of the frame") }
    }

    // MARK: Strings

    /// Reads a string for `field`, or nil for `null`. Any other value is a type error.
    mutating func readOptionalString(_ field: PhoenixCodingError.Field) throws(PhoenixCodingError) -> String? {
        switch peek() {
        case UInt8(ascii: "\""): return try readString(field)
        case UInt8(ascii: "n"):
            try readLiteral("null")
            return nil
        case nil: throw error("a string or null for \(field.rawValue)")
        default: throw .wrongType(field: field, expected: "a string or null")
        }
    }

    /// Reads a string for `field`; any other value is a type error.
    mutating func readString(_ field: PhoenixCodingError.Field) throws(PhoenixCodingError) -> String {
        var noNames: PhoenixNameCache?
        return try readString(field, names: &noNames)
    }

    /// Reads a string for `field`, taken from `names` (and kept there) when it has one.
    mutating func readString(
        _ field: PhoenixCodingError.Field,
        names: inout PhoenixNameCache?
    ) throws(PhoenixCodingError) -> String {
        guard let first = peek() else { throw error("a string for \(field.rawValue)") }
        guard first == UInt8(ascii: "\"") else {
            if first == UInt8(ascii: "n") || first == UInt8(ascii: "t") || first == UInt8(ascii: "f")
                || first == UInt8(ascii: "{") || first == UInt8(ascii: "[") || first == UInt8(ascii: "-")
                || (first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9"))
            {
                throw .wrongType(field: field, expected: "a string")
            }
            throw error("a string for \(field.rawValue)")
        }
        let (range, hasEscapes) = try scanString()
        let content = UnsafeBufferPointer(rebasing: bytes[(range.lowerBound + 1)..<(range.upperBound - 1)])
        if !hasEscapes {
            let string = names == nil ? String(validating: content, as: UTF8.self) : names?.name(content)
            guard let string else { throw .invalidUTF8(field: field) }
            return string
        }
        var unescaped: [UInt8] = []
        unescaped.reserveCapacity(content.count)
        try unescape(content, startOffset: range.lowerBound + 1, into: &unescaped)
        guard let string = String(validating: unescaped, as: UTF8.self) else { throw .invalidUTF8(field: field) }
        return string
    }

    /// Whether the string at the current position (quotes excluded) equals `literal` byte for
    /// byte. Consumes the string. Keys with escapes never match (Phoenix never escapes them).
    mutating func readKey() throws(PhoenixCodingError) -> Range<Int> {
        guard peek() == UInt8(ascii: "\"") else { throw error("an object key") }
        let (range, _) = try scanString()
        return (range.lowerBound + 1)..<(range.upperBound - 1)
    }

    func bytesEqual(_ range: Range<Int>, _ literal: StaticString) -> Bool {
        guard range.count == literal.utf8CodeUnitCount else { return false }
        let start = literal.utf8Start
        for offset in 0..<range.count where bytes[range.lowerBound + offset] != start[offset] {
            return false
        }
        return true
    }

    /// Scans a string starting at its opening quote; returns its range, quotes included.
    private mutating func scanString() throws(PhoenixCodingError) -> (Range<Int>, hasEscapes: Bool) {
        let start = index
        index += 1
        var hasEscapes = false
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                return (start..<index, hasEscapes)
            }
            if byte == UInt8(ascii: "\\") {
                hasEscapes = true
                index += 1
                guard index < bytes.count else { break }
                switch bytes[index] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
                    UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    index += 1
                case UInt8(ascii: "u"):
                    guard index + 4 < bytes.count else {
                        index = bytes.count
                        throw error("4 hex digits after \\u")
                    }
                    for offset in 1...4 where Self.hexValue(bytes[index + offset]) == nil {
                        index += offset
                        throw error("a hex digit")
                    }
                    index += 5
                default:
                    throw error("a valid escape after \\")
                }
                continue
            }
            if byte < 0x20 { throw error("no control character inside a string") }
            index += 1
        }
        throw error("the closing quote of a string")
    }

    private func unescape(
        _ content: UnsafeBufferPointer<UInt8>,
        startOffset: Int,
        into output: inout [UInt8]
    ) throws(PhoenixCodingError) {
        var i = 0
        while i < content.count {
            let byte = content[i]
            guard byte == UInt8(ascii: "\\") else {
                output.append(byte)
                i += 1
                continue
            }
            let escape = content[i + 1]  // scanString guaranteed a complete escape
            i += 2
            switch escape {
            case UInt8(ascii: "b"): output.append(0x08)
            case UInt8(ascii: "f"): output.append(0x0C)
            case UInt8(ascii: "n"): output.append(0x0A)
            case UInt8(ascii: "r"): output.append(0x0D)
            case UInt8(ascii: "t"): output.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = Self.hex4(content, at: i)
                i += 4
                if (0xD800...0xDBFF).contains(scalar) {
                    // A high surrogate must be followed by an escaped low surrogate.
                    guard i + 5 < content.count, content[i] == UInt8(ascii: "\\"),
                        content[i + 1] == UInt8(ascii: "u")
                    else { throw .invalidJSON(offset: startOffset + i, expected: "a low surrogate escape") }
                    let low = Self.hex4(content, at: i + 2)
                    guard (0xDC00...0xDFFF).contains(low) else {
                        throw .invalidJSON(offset: startOffset + i, expected: "a low surrogate escape")
                    }
                    i += 6
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(scalar) {
                    throw .invalidJSON(offset: startOffset + i - 6, expected: "no lone low surrogate")
                }
                guard let unicode = Unicode.Scalar(scalar) else {
                    throw .invalidJSON(offset: startOffset + i, expected: "a valid Unicode scalar")
                }
                output.append(contentsOf: UTF8.encode(unicode).map { Array($0) } ?? [])
            default: output.append(escape)  // " \ /
            }
        }
    }

    private static func hex4(_ content: UnsafeBufferPointer<UInt8>, at offset: Int) -> UInt32 {
        var value: UInt32 = 0
        for k in 0..<4 { value = value << 4 | UInt32(hexValue(content[offset + k]) ?? 0) }
        return value
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    // MARK: Skipping any value

    mutating func readLiteral(_ literal: StaticString) throws(PhoenixCodingError) {
        skipWhitespace()
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw error("\(literal)") }
        let start = literal.utf8Start
        for offset in 0..<count where bytes[index + offset] != start[offset] {
            throw error("\(literal)")
        }
        index += count
    }

    private mutating func skipNumber() throws(PhoenixCodingError) {
        func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count, isDigit(bytes[index]) else { throw error("a digit") }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard index < bytes.count, isDigit(bytes[index]) else { throw error("a digit after the decimal point") }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                index += 1
            }
            guard index < bytes.count, isDigit(bytes[index]) else { throw error("a digit in the exponent") }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
    }

    /// Validates and skips one JSON value; returns its byte range (whitespace excluded).
    mutating func skipValue() throws(PhoenixCodingError) -> Range<Int> {
        skipWhitespace()
        let start = index
        var containers = ContainerStack()
        while true {
            // Here a value is expected.
            guard index < bytes.count else { throw error("a value") }
            switch bytes[index] {
            case UInt8(ascii: "\""): _ = try scanString()
            case UInt8(ascii: "n"): try readLiteral("null")
            case UInt8(ascii: "t"): try readLiteral("true")
            case UInt8(ascii: "f"): try readLiteral("false")
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try skipNumber()
            case UInt8(ascii: "["):
                index += 1
                if consume(UInt8(ascii: "]")) { break }
                guard containers.count < Self.maximumDepth else { throw error("less nesting") }
                containers.append(false)
                skipWhitespace()
                continue
            case UInt8(ascii: "{"):
                index += 1
                if consume(UInt8(ascii: "}")) { break }
                guard containers.count < Self.maximumDepth else { throw error("less nesting") }
                containers.append(true)
                guard peek() == UInt8(ascii: "\"") else { throw error("an object key") }
                _ = try scanString()
                try expect(UInt8(ascii: ":"), "':' after an object key")
                skipWhitespace()
                continue
            default:
                throw error("a value")
            }
            // A value ended: close containers or move to the next element.
            while let isObject = containers.last {
                if consume(UInt8(ascii: ",")) {
                    if isObject {
                        guard peek() == UInt8(ascii: "\"") else { throw error("an object key") }
                        _ = try scanString()
                        try expect(UInt8(ascii: ":"), "':' after an object key")
                    }
                    skipWhitespace()
                    break
                }
                try expect(isObject ? UInt8(ascii: "}") : UInt8(ascii: "]"), isObject ? "',' or '}'" : "',' or ']'")
                containers.removeLast()
            }
            if containers.isEmpty { return start..<index }
        }
    }
}

/// The containers `skipValue` is inside, innermost last: whether each is an object (true) or an
/// array. The first 64 levels are bits of one word, so a usual payload costs no allocation.
private struct ContainerStack {
    private var shallow: UInt64 = 0
    private var deep: [Bool] = []
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    var last: Bool? {
        guard count > 0 else { return nil }
        let level = count - 1
        return level < 64 ? shallow & (1 << UInt64(level)) != 0 : deep[level - 64]
    }

    mutating func append(_ isObject: Bool) {
        if count < 64 {
            let bit: UInt64 = 1 << UInt64(count)
            shallow = isObject ? shallow | bit : shallow & ~bit
        } else {
            deep.append(isObject)
        }
        count += 1
    }

    mutating func removeLast() {
        count -= 1
        if count >= 64 { deep.removeLast() }
    }
}
