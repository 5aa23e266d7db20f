/// Where a `go_to_action` (or a satisfaction choice) leads the conversation.
public enum Target: Sendable, Hashable {
    /// A step of the bot (`type: "step"`).
    case step(TargetReference)
    /// A story of the bot (`type: "story"`).
    case story(TargetReference)
    /// Any other target type (`actions_block`, or newer ones), kept raw.
    case unknown(UnknownObject)

    /// The target's `type` string on the wire.
    public var typeName: String {
        switch self {
        case .step: "step"
        case .story: "story"
        case .unknown(let object): object.type
        }
    }
}

/// The id (and display name) of a step or story.
public struct TargetReference: Sendable, Hashable, Codable {
    /// The object id (24 letters and digits; not validated here).
    public var id: String
    /// The object's display name, if known.
    public var name: String?

    /// A reference to the step or story `id`.
    public init(id: String, name: String? = nil) {
        self.id = id
        self.name = name
    }
}

extension Target: Codable {
    public init(from decoder: any Decoder) throws {
        switch try decodeTypeName(from: decoder) {
        case "step": self = .step(try TargetReference(from: decoder))
        case "story": self = .story(try TargetReference(from: decoder))
        default: self = .unknown(try UnknownObject(from: decoder))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .step(let reference), .story(let reference):
            var container = encoder.container(keyedBy: TypeCodingKey.self)
            try container.encode(typeName, forKey: .type)
            try reference.encode(to: encoder)
        case .unknown(let object):
            try object.encode(to: encoder)
        }
    }
}
