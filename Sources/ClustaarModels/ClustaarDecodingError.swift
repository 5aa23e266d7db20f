/// Why a payload could not be decoded, and where.
///
/// `path` names the faulty value from the root of the decoded bytes, in the form
/// `body.data.fulfillment.actions[2].buttons[0].title` (empty for the root itself).
public struct ClustaarDecodingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong.
    public enum Kind: Sendable, Hashable {
        /// The bytes are not JSON (empty, truncated, invalid UTF-8, a lone surrogate, nesting
        /// deeper than the parser allows, a number out of range...).
        case invalidJSON
        /// A required key is missing or `null`.
        case missingValue
        /// The value has the wrong JSON type; `expected` is `string`, `number`, `bool`,
        /// `object` or `array`.
        case typeMismatch(expected: String)
        /// The value has the right type but a value this protocol does not allow.
        case invalidValue
    }

    /// What went wrong.
    public var kind: Kind
    /// The coding path of the faulty value, one element per key or array index.
    public var codingPath: [PathComponent]
    /// Details from the decoder, for logs.
    public var debugDescription: String

    /// One step of a coding path.
    public enum PathComponent: Sendable, Hashable {
        /// A key of an object.
        case key(String)
        /// An index of an array (0-based).
        case index(Int)
    }

    /// An error of `kind` at `codingPath`, with details for logs.
    public init(kind: Kind, codingPath: [PathComponent], debugDescription: String) {
        self.kind = kind
        self.codingPath = codingPath
        self.debugDescription = debugDescription
    }

    /// The coding path as text: `fulfillment.actions[2].buttons[0].title`.
    public var path: String {
        var text = ""
        for component in codingPath {
            switch component {
            case .key(let key):
                if !text.isEmpty { text += "." }
                text += key
            case .index(let index):
                text += "[\(index)]"
            }
        }
        return text
    }

    public var description: String {
        let place = path.isEmpty ? "payload" : path
        switch kind {
        case .invalidJSON: return "invalid JSON: \(debugDescription)"
        case .missingValue: return "\(place): missing or null"
        case .typeMismatch(let expected): return "\(place): expected \(expected)"
        case .invalidValue: return "\(place): \(debugDescription)"
        }
    }
}

extension ClustaarDecodingError {
    /// Translates Foundation's `DecodingError`, keeping the path of the faulty value.
    init(_ error: DecodingError) {
        switch error {
        case .keyNotFound(let key, let context):
            self.init(
                kind: .missingValue,
                codingPath: Self.components(context.codingPath + [key]),
                debugDescription: context.debugDescription
            )
        case .valueNotFound(_, let context):
            self.init(
                kind: .missingValue,
                codingPath: Self.components(context.codingPath),
                debugDescription: context.debugDescription
            )
        case .typeMismatch(let type, let context):
            self.init(
                kind: .typeMismatch(expected: Self.jsonTypeName(type)),
                codingPath: Self.components(context.codingPath),
                debugDescription: context.debugDescription
            )
        case .dataCorrupted(let context):
            // The parser reports syntax errors at the root (on Linux without an underlying
            // error); nothing in this module throws `dataCorrupted` at the root itself.
            let isSyntaxError = context.codingPath.isEmpty
            self.init(
                kind: isSyntaxError ? .invalidJSON : .invalidValue,
                codingPath: Self.components(context.codingPath),
                debugDescription: context.debugDescription
            )
        @unknown default:
            self.init(kind: .invalidValue, codingPath: [], debugDescription: String(describing: error))
        }
    }

    /// Translates any error thrown while decoding.
    init(any error: any Error) {
        if let error = error as? ClustaarDecodingError {
            self = error
        } else if let error = error as? DecodingError {
            self.init(error)
        } else {
            self.init(kind: .invalidValue, codingPath: [], debugDescription: String(describing: error))
        }
    }

    static func components(_ codingPath: [any CodingKey]) -> [PathComponent] {
        codingPath.map { key in
            if let index = key.intValue { .index(index) } else { .key(key.stringValue) }
        }
    }

    static func jsonTypeName(_ type: Any.Type) -> String {
        if type == String.self { return "string" }
        if type == Bool.self { return "bool" }
        if type is any BinaryInteger.Type || type is any BinaryFloatingPoint.Type { return "number" }
        let name = String(describing: type)
        if name.hasPrefix("Dictionary") || name.hasPrefix("KeyedDecodingContainer") { return "object" }
        if name.hasPrefix("Array") || name.contains("UnkeyedDecodingContainer") { return "array" }
        return name
    }
}

/// Why a value could not be encoded (a `Double` that is not finite, in practice).
public struct ClustaarEncodingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Details from the encoder, naming the faulty value.
    public var debugDescription: String

    /// An error described by `debugDescription`.
    public init(debugDescription: String) { self.debugDescription = debugDescription }

    public var description: String { "cannot encode: \(debugDescription)" }
}
