/// An object whose `type` this SDK does not know (a newer action, button action, target or
/// message body). It keeps the type name and the whole object, and encodes back to that object.
public struct UnknownObject: Sendable, Hashable, Codable {
    /// The object's `type` string.
    public let type: String
    /// The whole object as received, `type` included.
    public let raw: JSONObject

    /// An unknown object from its raw JSON; nil when `raw` has no string `type`.
    public init?(raw: JSONObject) {
        guard let type = raw["type"]?.stringValue else { return nil }
        self.type = type
        self.raw = raw
    }

    public init(from decoder: any Decoder) throws {
        type = try decodeTypeName(from: decoder)
        raw = try JSONObject(from: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        try raw.encode(to: encoder)
    }
}
