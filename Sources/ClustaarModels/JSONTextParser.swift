import Foundation
import Synchronization

/// A small JSON parser that builds a ``JSONValue`` tree keeping key order and duplicates.
///
/// Why it exists: `JSONDecoder` cannot say what kind a value is, so decoding free-form JSON
/// through it means trying each kind in turn, and each failed try costs time proportional to
/// the value's depth (the decoder builds its coding path). A hostile payload (many scalars
/// nested 500 levels deep) would then take minutes. Instead, the payload is parsed once here,
/// and each free-form value is taken whole from that tree, by its coding path.
///
/// It runs only on documents `JSONDecoder` has already accepted, and refuses nesting deeper
/// than ``maximumDepth`` so it cannot exhaust the stack.
struct JSONTextParser {
    /// Matches `JSONDecoder`'s own limit.
    static let maximumDepth = 512

    struct Failure: Error {
        let offset: Int
        let reason: String
    }

    /// A parsed document.
    struct Document: Sendable {
        /// The tree. Numbers beyond `Double`'s range, which `JSONDecoder` refuses to read, are
        /// held as infinities: a lookup that meets one throws.
        let root: JSONValue
        let hasOutOfRangeNumbers: Bool
    }

    private let bytes: UnsafeRawBufferPointer
    private var offset = 0
    private var hasOutOfRangeNumbers = false

    private init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    /// Parses one JSON document.
    static func parse(_ data: Data) throws(Failure) -> Document {
        let result: Result<Document, Failure> = data.withUnsafeBytes { buffer in
            var parser = JSONTextParser(bytes: buffer)
            do throws(Failure) {
                parser.skipByteOrderMark()
                parser.skipWhitespace()
                let value = try parser.parseValue(depth: 0)
                parser.skipWhitespace()
                guard parser.offset == buffer.count else { throw parser.failure("trailing characters") }
                return .success(Document(root: value, hasOutOfRangeNumbers: parser.hasOutOfRangeNumbers))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// `JSONDecoder` accepts a leading UTF-8 byte order mark.
    private mutating func skipByteOrderMark() {
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { offset = 3 }
    }

    private func failure(_ reason: String) -> Failure { Failure(offset: offset, reason: reason) }

    private var current: UInt8? { offset < bytes.count ? bytes[offset] : nil }

    private mutating func skipWhitespace() {
        while let byte = current, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 {
            offset += 1
        }
    }

    private mutating func expect(_ byte: UInt8) throws(Failure) {
        guard current == byte else { throw failure("expected '\(Character(Unicode.Scalar(byte)))'") }
        offset += 1
    }

    private mutating func parseValue(depth: Int) throws(Failure) -> JSONValue {
        guard depth < Self.maximumDepth else { throw failure("nesting too deep") }
        switch current {
        case UInt8(ascii: "{"): return .object(try parseObject(depth: depth))
        case UInt8(ascii: "["): return .array(try parseArray(depth: depth))
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"):
            try parseLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try parseLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try parseLiteral("null")
            return .null
        case .some(let byte) where byte == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte):
            return .number(try parseNumber())
        default:
            throw failure("expected a value")
        }
    }

    private mutating func parseLiteral(_ literal: StaticString) throws(Failure) {
        let count = literal.utf8CodeUnitCount
        guard offset + count <= bytes.count else { throw failure("truncated literal") }
        for index in 0..<count where bytes[offset + index] != literal.utf8Start[index] {
            throw failure("invalid literal")
        }
        offset += count
    }

    private mutating func parseObject(depth: Int) throws(Failure) -> JSONObject {
        offset += 1  // {
        var members: [JSONObject.Member] = []
        skipWhitespace()
        if current == UInt8(ascii: "}") {
            offset += 1
            return JSONObject(members)
        }
        while true {
            skipWhitespace()
            guard current == UInt8(ascii: "\"") else { throw failure("expected a key") }
            let key = try parseString()
            skipWhitespace()
            try expect(UInt8(ascii: ":"))
            skipWhitespace()
            members.append(JSONObject.Member(key: key, value: try parseValue(depth: depth + 1)))
            skipWhitespace()
            if current == UInt8(ascii: ",") {
                offset += 1
                continue
            }
            try expect(UInt8(ascii: "}"))
            return JSONObject(members)
        }
    }

    private mutating func parseArray(depth: Int) throws(Failure) -> [JSONValue] {
        offset += 1  // [
        var elements: [JSONValue] = []
        skipWhitespace()
        if current == UInt8(ascii: "]") {
            offset += 1
            return elements
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue(depth: depth + 1))
            skipWhitespace()
            if current == UInt8(ascii: ",") {
                offset += 1
                continue
            }
            try expect(UInt8(ascii: "]"))
            return elements
        }
    }

    private mutating func parseString() throws(Failure) -> String {
        offset += 1  // opening quote
        let start = offset
        // Fast path: no escapes.
        while let byte = current, byte != UInt8(ascii: "\""), byte != UInt8(ascii: "\\") {
            guard byte >= 0x20 else { throw failure("control character in string") }
            offset += 1
        }
        guard let stop = current else { throw failure("unterminated string") }
        var utf8 = Array(bytes[start..<offset])
        if stop == UInt8(ascii: "\"") {
            offset += 1
            return String(decoding: utf8, as: UTF8.self)
        }
        while true {
            guard let byte = current else { throw failure("unterminated string") }
            offset += 1
            switch byte {
            case UInt8(ascii: "\""):
                return String(decoding: utf8, as: UTF8.self)
            case UInt8(ascii: "\\"):
                try parseEscape(into: &utf8)
            case 0..<0x20:
                throw failure("control character in string")
            default:
                utf8.append(byte)
            }
        }
    }

    private mutating func parseEscape(into utf8: inout [UInt8]) throws(Failure) {
        guard let byte = current else { throw failure("unterminated escape") }
        offset += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(byte)
        case UInt8(ascii: "b"): utf8.append(0x08)
        case UInt8(ascii: "f"): utf8.append(0x0C)
        case UInt8(ascii: "n"): utf8.append(0x0A)
        case UInt8(ascii: "r"): utf8.append(0x0D)
        case UInt8(ascii: "t"): utf8.append(0x09)
        case UInt8(ascii: "u"):
            var scalarValue = UInt32(try parseHex4())
            if (0xD800..<0xDC00).contains(scalarValue) {
                // A high surrogate must be followed by an escaped low surrogate.
                guard current == UInt8(ascii: "\\"), offset + 1 < bytes.count, bytes[offset + 1] == UInt8(ascii: "u")
                else { throw failure("lone surrogate") }
                offset += 2
                let low = UInt32(try parseHex4())
                guard (0xDC00..<0xE000).contains(low) else { throw failure("lone surrogate") }
                scalarValue = 0x10000 + ((scalarValue - 0xD800) << 10) + (low - 0xDC00)
            }
            guard let scalar = Unicode.Scalar(scalarValue) else { throw failure("lone surrogate") }
            UTF8.encode(scalar) { utf8.append($0) }
        default:
            throw failure("invalid escape")
        }
    }

    private mutating func parseHex4() throws(Failure) -> UInt16 {
        guard offset + 4 <= bytes.count else { throw failure("truncated \\u escape") }
        var value: UInt16 = 0
        for _ in 0..<4 {
            let byte = bytes[offset]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw failure("invalid \\u escape")
            }
            value = value << 4 | UInt16(digit)
            offset += 1
        }
        return value
    }

    /// A number; an infinity when it is beyond `Double`'s range.
    private mutating func parseNumber() throws(Failure) -> JSONNumber {
        let start = offset
        var isIntegral = true
        if current == UInt8(ascii: "-") { offset += 1 }
        guard skipDigits() > 0 else { throw failure("invalid number") }
        if current == UInt8(ascii: ".") {
            isIntegral = false
            offset += 1
            guard skipDigits() > 0 else { throw failure("invalid number") }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            isIntegral = false
            offset += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { offset += 1 }
            guard skipDigits() > 0 else { throw failure("invalid number") }
        }
        let text = String(decoding: bytes[start..<offset], as: UTF8.self)
        if isIntegral {
            if let value = Int64(text) { return JSONNumber(value) }
            if let value = UInt64(text) { return JSONNumber(value) }
        }
        guard let value = Double(text) else { throw failure("invalid number") }
        if !value.isFinite { hasOutOfRangeNumbers = true }
        return JSONNumber(value)
    }

    private mutating func skipDigits() -> Int {
        let start = offset
        while let byte = current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { offset += 1 }
        return offset - start
    }
}

/// The bytes being decoded, parsed into a ``JSONValue`` tree on first need, shared with
/// `JSONValue.init(from:)` through the decoder's `userInfo` (set by ``ClustaarJSON``).
///
/// Lookups stay linear over a whole decode: containers met on the way are remembered by path,
/// so sibling and cousin lookups do not rescan large objects from the root.
final class ParsedPayload: Sendable {
    static let userInfoKey = CodingUserInfoKey(rawValue: "ClustaarModels.ParsedPayload")!

    private typealias Path = [ClustaarDecodingError.PathComponent]

    private struct State {
        var document: Result<JSONTextParser.Document, JSONTextParser.Failure>?
        var containers: [Path: JSONValue] = [:]
    }

    private let data: Data
    private let state = Mutex(State())

    init(data: Data) { self.data = data }

    /// The free-form value at `codingPath`, or nil when this payload cannot answer (not
    /// parsable here, or the path does not lead to a value): the caller then reads it through
    /// the decoder. Throws, as `JSONDecoder` would, when the value holds a number beyond
    /// `Double`'s range.
    func value(at codingPath: [any CodingKey]) throws -> JSONValue? {
        let path = ClustaarDecodingError.components(codingPath)
        let found: (value: JSONValue, checkRange: Bool)? = state.withLock { state in
            if state.document == nil {
                state.document = Result { () throws(JSONTextParser.Failure) in try JSONTextParser.parse(data) }
            }
            guard case .success(let document) = state.document else { return nil }
            // Start from the deepest container already met on this path.
            var start = 0
            var node = document.root
            for length in stride(from: path.count - 1, through: 1, by: -1) {
                if let container = state.containers[Array(path[..<length])] {
                    start = length
                    node = container
                    break
                }
            }
            for index in start..<path.count {
                guard let child = Self.child(of: node, at: path[index]) else { return nil }
                node = child
                if index + 1 < path.count { state.containers[Array(path[...index])] = node }
            }
            return (node, document.hasOutOfRangeNumbers)
        }
        guard let found else { return nil }
        if found.checkRange, let relative = Self.pathToNonFiniteNumber(in: found.value) {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(
                    codingPath: codingPath
                        + relative.map { component in
                            switch component {
                            case .key(let key): AnyCodingKey(key)
                            case .index(let index): AnyCodingKey(index: index)
                            }
                        },
                    debugDescription: "number out of range"
                )
            )
        }
        return found.value
    }

    private static func child(of node: JSONValue, at component: ClustaarDecodingError.PathComponent) -> JSONValue? {
        switch (component, node) {
        case (.index(let index), .array(let elements)):
            elements.indices.contains(index) ? elements[index] : nil
        case (.key(let key), .object(let object)):
            object[key]
        default:
            nil
        }
    }

    /// The relative path of the first infinite number in `value`: a depth-first walk without
    /// recursion, keeping one path that is cut back to each node's depth.
    private static func pathToNonFiniteNumber(in value: JSONValue) -> Path? {
        var path: Path = []
        var pending: [(value: JSONValue, component: ClustaarDecodingError.PathComponent?, depth: Int)] = [
            (value, nil, 0)
        ]
        while let (value, component, depth) = pending.popLast() {
            if let component {
                path.removeSubrange((depth - 1)...)
                path.append(component)
            }
            switch value {
            case .number(let number) where !number.doubleValue.isFinite:
                return path
            case .array(let elements):
                for (index, element) in elements.enumerated().reversed() {
                    pending.append((element, .index(index), depth + 1))
                }
            case .object(let object):
                for member in object.uniqueMembers.reversed() {
                    pending.append((member.value, .key(member.key), depth + 1))
                }
            default:
                break
            }
        }
        return nil
    }

    /// The value for this decoder's position, when it decodes a payload of ours.
    static func value(for decoder: any Decoder) throws -> JSONValue? {
        guard let payload = decoder.userInfo[userInfoKey] as? ParsedPayload else { return nil }
        return try payload.value(at: decoder.codingPath)
    }
}
