/// A JSON number, kept as exactly as `JSONDecoder` can give it.
///
/// Integral values that fit in `Int64` (or `UInt64`) are stored as integers, anything else as a
/// `Double`. Storage is canonical: `JSONNumber(2.0) == JSONNumber(2)`, because `JSONDecoder`
/// reads the text `2.0` as the integer 2 and cannot tell them apart. Integers beyond `UInt64`
/// and non-integral values are the closest `Double`.
public struct JSONNumber: Sendable, Hashable {
    private enum Storage: Sendable, Hashable {
        case integer(Int64)
        case unsigned(UInt64)  // only above Int64.max
        case double(Double)  // only when not integral or beyond UInt64
    }

    private let storage: Storage

    /// The integer `value`.
    public init(_ value: Int64) { storage = .integer(value) }

    /// The integer `value`.
    public init(_ value: Int) { storage = .integer(Int64(value)) }

    /// The unsigned integer `value` (stored as an integer when it fits in `Int64`).
    public init(_ value: UInt64) {
        if let signed = Int64(exactly: value) {
            storage = .integer(signed)
        } else {
            storage = .unsigned(value)
        }
    }

    /// The number `value` (stored as an integer when it is integral and fits).
    public init(_ value: Double) {
        if let signed = Int64(exactly: value) {
            storage = .integer(signed)
        } else if let unsigned = UInt64(exactly: value) {
            storage = .unsigned(unsigned)
        } else {
            storage = .double(value)
        }
    }

    /// The value as an `Int64`, if it is an integer in range.
    public var int64Value: Int64? {
        switch storage {
        case .integer(let value): value
        case .unsigned, .double: nil
        }
    }

    /// The value as a `UInt64`, if it is a non-negative integer in range.
    public var uint64Value: UInt64? {
        switch storage {
        case .integer(let value): UInt64(exactly: value)
        case .unsigned(let value): value
        case .double: nil
        }
    }

    /// Whether the value is an integer (in `Int64` or `UInt64` range).
    public var isInteger: Bool {
        if case .double = storage { return false }
        return true
    }

    /// The value as a `Double` (the nearest one for integers beyond 2^53).
    public var doubleValue: Double {
        switch storage {
        case .integer(let value): Double(value)
        case .unsigned(let value): Double(value)
        case .double(let value): value
        }
    }
}

extension JSONNumber: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Int64.self) {
            self.init(value)
        } else if let value = try? container.decode(UInt64.self) {
            self.init(value)
        } else {
            self.init(try container.decode(Double.self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch storage {
        case .integer(let value): try container.encode(value)
        case .unsigned(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        }
    }
}

extension JSONNumber: ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral, CustomStringConvertible {
    public init(integerLiteral value: Int64) { self.init(value) }
    public init(floatLiteral value: Double) { self.init(value) }

    public var description: String {
        switch storage {
        case .integer(let value): String(value)
        case .unsigned(let value): String(value)
        case .double(let value): String(value)
        }
    }
}
