import Foundation

/// The reply envelope rule of the original JS SDK, applied to every event the server pushes
/// (`bot_reply`, `agent_reply`, `interlocutor_reply`, `control`):
///
/// 1. no `status` key: the value is `body` when `body` is present and JS-truthy, otherwise the
///    whole payload (so `{"body":{}}` yields `{}`);
/// 2. `status` is the number 200: the value is `body.data`;
/// 3. any other `status` (`201`, `"200"`, `null`...): a server error carrying `body.error`.
///
/// ```swift
/// switch try ClustaarEnvelope.decode(BotReply.self, from: payloadBytes) {
/// case .value(let reply): play(reply.actions)
/// case .serverError(let error): report(error)
/// }
/// ```
public enum ClustaarEnvelope {
    /// Decodes one event payload, applying the envelope rule. Malformed input throws; a server
    /// error (rule 3) is a normal result, not a throw.
    public static func decode<Value: Decodable>(
        _ type: Value.Type,
        from bytes: ArraySlice<UInt8>
    ) throws(ClustaarDecodingError) -> EnvelopeContent<Value> {
        try ClustaarJSON.decode(Enveloped<Value>.self, from: bytes).content
    }

    /// Decodes one event payload, applying the envelope rule.
    public static func decode<Value: Decodable>(
        _ type: Value.Type,
        from data: Data
    ) throws(ClustaarDecodingError) -> EnvelopeContent<Value> {
        try ClustaarJSON.decode(Enveloped<Value>.self, from: data).content
    }
}

/// What an event payload holds once the envelope rule is applied.
public enum EnvelopeContent<Value> {
    /// The event's value.
    case value(Value)
    /// The server reported an error instead (a status other than 200).
    case serverError(ClustaarServerError)

    /// The value, or nil for a server error.
    public var value: Value? {
        if case .value(let value) = self { return value }
        return nil
    }

    /// The value, or the server error as a `Result` failure.
    public var result: Result<Value, ClustaarServerError> {
        switch self {
        case .value(let value): .success(value)
        case .serverError(let error): .failure(error)
        }
    }
}

extension EnvelopeContent: Sendable where Value: Sendable {}
extension EnvelopeContent: Equatable where Value: Equatable {}
extension EnvelopeContent: Hashable where Value: Hashable {}

/// An error the server sent in place of an event's value (envelope rule 3).
public struct ClustaarServerError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The `status` as sent (a number other than 200, a string, `null`...).
    public var status: JSONValue
    /// `body.error` as sent (an object or a string in practice); `null` when absent.
    public var error: JSONValue

    /// A server error with its `status` and `error` as sent.
    public init(status: JSONValue, error: JSONValue) {
        self.status = status
        self.error = error
    }

    public var description: String { "server error (status \(status)): \(error)" }
}

/// Decodes the envelope around a value in one pass, so decoding errors carry the full path
/// (`body.data.fulfillment...`).
struct Enveloped<Value: Decodable>: Decodable {
    let content: EnvelopeContent<Value>

    private enum CodingKeys: String, CodingKey {
        case status, body, data, error
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        guard container.contains(.status) else {
            if try Self.isTruthy(container, .body) {
                content = .value(try container.decode(Value.self, forKey: .body))
            } else {
                content = .value(try Value(from: decoder))
            }
            return
        }
        // Strictly the number 200, as the JS `=== 200`.
        if (try? container.decode(Double.self, forKey: .status)) == 200 {
            let body = try container.nestedContainer(keyedBy: CodingKeys.self, forKey: .body)
            content = .value(try body.decode(Value.self, forKey: .data))
            return
        }
        let status = try container.decode(JSONValue.self, forKey: .status)
        let body = try? container.nestedContainer(keyedBy: CodingKeys.self, forKey: .body)
        let error = try body?.decodeIfPresent(JSONValue.self, forKey: .error)
        content = .serverError(ClustaarServerError(status: status, error: error ?? .null))
    }

    /// JS truthiness of `key`, read without decoding its value twice: absent, `null`, `false`,
    /// `0` and `""` are falsy; objects and arrays (even empty) are truthy.
    private static func isTruthy(_ container: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys) throws -> Bool {
        guard container.contains(key), try !container.decodeNil(forKey: key) else { return false }
        if let flag = try? container.decode(Bool.self, forKey: key) { return flag }
        if let number = try? container.decode(Double.self, forKey: key) { return number != 0 }
        if let text = try? container.decode(String.self, forKey: key) { return !text.isEmpty }
        return true
    }
}
