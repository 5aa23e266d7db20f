import Foundation

/// Plain JSON decoding and encoding of this module's values, with typed errors. For events
/// pushed by the server, use ``ClustaarEnvelope`` instead: it applies the reply envelope rule.
public enum ClustaarJSON {
    /// Decodes a value from the bytes of one JSON document.
    public static func decode<Value: Decodable>(
        _ type: Value.Type,
        from bytes: ArraySlice<UInt8>
    ) throws(ClustaarDecodingError) -> Value {
        // Every join reply is read this way (twice: by the channel and by `join()`): its usual
        // shapes are read by hand, to the same value; anything else goes through `JSONDecoder`.
        if type == JoinStatus.self, let status = JoinStatus(plainJSON: bytes) as? Value { return status }
        return try decode(type, from: Data(bytes))
    }

    /// Decodes a value from the bytes of one JSON document.
    public static func decode<Value: Decodable>(
        _ type: Value.Type,
        from data: Data
    ) throws(ClustaarDecodingError) -> Value {
        do {
            let decoder = JSONDecoder()
            decoder.userInfo[ParsedPayload.userInfoKey] = ParsedPayload(data: data)
            return try decoder.decode(type, from: data)
        } catch {
            var failure = ClustaarDecodingError(any: error)
            // Foundation says only "The given data was not valid JSON." (on Linux); our own
            // parser says what was wrong and where.
            if failure.kind == .invalidJSON {
                do {
                    _ = try JSONTextParser.parse(data)
                } catch {
                    failure.debugDescription = "\(error.reason) at byte \(error.offset)"
                }
            }
            throw failure
        }
    }

    /// Encodes a value as compact JSON (keys sorted, slashes not escaped).
    public static func encode(_ value: some Encodable) throws(ClustaarEncodingError) -> [UInt8] {
        // What the SDK sends on every message is written by hand, to the same bytes.
        if let reply = value as? InterlocutorReply, let bytes = reply.handWrittenJSON { return bytes }
        if let params = value as? JoinParams { return params.handWrittenJSON }
        return try encodeWithFoundation(value)
    }

    /// `encode(_:)` through `JSONEncoder` alone (the reference for the hand-written writers).
    static func encodeWithFoundation(_ value: some Encodable) throws(ClustaarEncodingError) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return Array(try encoder.encode(value))
        } catch {
            throw ClustaarEncodingError(debugDescription: String(describing: error))
        }
    }
}

/// A coding key for any string or index.
struct AnyCodingKey: CodingKey, Hashable {
    let stringValue: String
    let intValue: Int?

    init(_ stringValue: String) {
        self.stringValue = stringValue
        self.intValue = nil
    }

    init?(stringValue: String) { self.init(stringValue) }

    init(index: Int) {
        self.stringValue = String(index)
        self.intValue = index
    }

    init?(intValue: Int) { self.init(index: intValue) }
}

/// The discriminator key of every typed object.
enum TypeCodingKey: String, CodingKey {
    case type
}

/// A payload struct whose enum case is chosen by the `type` key.
protocol TypedPayload: Codable {
    /// The `type` string on the wire.
    static var typeName: String { get }
}

extension TypedPayload {
    /// Encodes `type` then the payload's own keys into the same object.
    func encodeTyped(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: TypeCodingKey.self)
        try container.encode(Self.typeName, forKey: .type)
        try encode(to: encoder)
    }
}

/// Reads the `type` string of an object; missing, null or not a string is a decode error (there
/// is no type to keep, so it cannot be `.unknown`).
func decodeTypeName(from decoder: any Decoder) throws -> String {
    try decoder.container(keyedBy: TypeCodingKey.self).decode(String.self, forKey: .type)
}
