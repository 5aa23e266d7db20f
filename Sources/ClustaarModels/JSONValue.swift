import Foundation

/// Any JSON value, for the parts of the protocol that are free-form (session values, JS event
/// payloads, webhook debug data, unknown actions).
///
/// Numbers keep their kind: an integer stays an integer (see ``JSONNumber``). Objects keep their
/// members in order (see ``JSONObject``) and compare as JSON objects, whatever the order.
public enum JSONValue: Sendable, Hashable {
    /// `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// A number, integer or not.
    case number(JSONNumber)
    /// A string.
    case string(String)
    /// An array, in order.
    case array([JSONValue])
    /// An object, its members in order.
    case object(JSONObject)
}

extension JSONValue {
    /// The string, if this is a string.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The bool, if this is a bool.
    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// The number, if this is a number.
    public var numberValue: JSONNumber? {
        if case .number(let value) = self { return value }
        return nil
    }

    /// The number as a `Double`, if this is a number.
    public var doubleValue: Double? { numberValue?.doubleValue }

    /// The elements, if this is an array.
    public var arrayValue: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    /// The object, if this is an object.
    public var objectValue: JSONObject? {
        if case .object(let value) = self { return value }
        return nil
    }

    /// Whether this is `null`.
    public var isNull: Bool { self == .null }

    /// The member named `key`, if this is an object that has one.
    public subscript(key: String) -> JSONValue? { objectValue?[key] }

    /// The element at `index`, if this is an array that long.
    public subscript(index: Int) -> JSONValue? {
        guard let elements = arrayValue, elements.indices.contains(index) else { return nil }
        return elements[index]
    }

    /// JavaScript truthiness, which the reply envelope rule relies on: everything is truthy but
    /// `null`, `false`, `0` and `""` (an empty object or array is truthy).
    public var isTruthy: Bool {
        switch self {
        case .null: false
        case .bool(let value): value
        case .number(let value): value.doubleValue != 0
        case .string(let value): !value.isEmpty
        case .array, .object: true
        }
    }
}

// MARK: - Literals

extension JSONValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int64) { self = .number(JSONNumber(value)) }
    public init(floatLiteral value: Double) { self = .number(JSONNumber(value)) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(JSONObject(elements.map { JSONObject.Member(key: $0.0, value: $0.1) }))
    }
}

// MARK: - Codable

extension JSONValue: Codable {
    /// Decodes any JSON value. Through ``ClustaarJSON`` and ``ClustaarEnvelope`` the value is
    /// taken whole from a parse of the payload (wire key order kept); with another decoder it
    /// is read kind by kind (object keys then come sorted), which is slow on deep input.
    public init(from decoder: any Decoder) throws {
        if let value = try ParsedPayload.value(for: decoder) {
            self = value
            return
        }
        try self.init(probing: decoder)
    }

    /// Reads a value through any decoder. The decoder offers no way to peek at a value's kind,
    /// so each is tried in turn, the most frequent in Clustaar payloads first. Bool and number
    /// never coerce into each other.
    private init(probing decoder: any Decoder) throws {
        let single = try decoder.singleValueContainer()
        if single.decodeNil() {
            self = .null
        } else if let value = try? single.decode(String.self) {
            self = .string(value)
        } else if let value = try? single.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? single.decode(Int64.self) {
            self = .number(JSONNumber(value))
        } else if let value = try? single.decode(UInt64.self) {
            self = .number(JSONNumber(value))
        } else if let value = try? single.decode(Double.self) {
            self = .number(JSONNumber(value))
        } else if let object = try? decoder.container(keyedBy: AnyCodingKey.self) {
            self = .object(try JSONObject(decoding: object))
        } else if var container = try? decoder.unkeyedContainer() {
            var elements: [JSONValue] = []
            if let count = container.count { elements.reserveCapacity(count) }
            while !container.isAtEnd {
                elements.append(try container.decode(JSONValue.self))
            }
            self = .array(elements)
        } else {
            // JSONDecoder parses a number it cannot represent (1e400) but refuses to read it.
            throw DecodingError.dataCorruptedError(
                in: single,
                debugDescription: "a JSON value that cannot be read (a number out of range?)"
            )
        }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .null:
            var container = encoder.singleValueContainer()
            try container.encodeNil()
        case .bool(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .number(let value):
            try value.encode(to: encoder)
        case .string(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .array(let elements):
            var container = encoder.unkeyedContainer()
            for element in elements { try container.encode(element) }
        case .object(let object):
            try object.encode(to: encoder)
        }
    }
}

extension JSONValue: CustomStringConvertible {
    /// Compact JSON text (keys sorted), for logs and test failures.
    public var description: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(self) else { return "<JSON value that cannot be encoded>" }
        return String(decoding: data, as: UTF8.self)
    }
}

extension JSONValue {
    /// Decodes a typed value from this JSON value (e.g. a JS event payload into the app's own
    /// type). Errors name the path inside this value.
    public func decode<Value: Decodable>(_ type: Value.Type) throws(ClustaarDecodingError) -> Value {
        let bytes: [UInt8]
        do {
            bytes = try ClustaarJSON.encode(self)
        } catch {
            throw ClustaarDecodingError(
                kind: .invalidValue,
                codingPath: [],
                debugDescription: "this JSON value cannot be encoded: \(error.debugDescription)"
            )
        }
        return try ClustaarJSON.decode(type, from: bytes[...])
    }
}
