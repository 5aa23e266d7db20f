/// What a button, a quick reply, a choices list or a location request does when used.
public enum ButtonAction: Sendable, Hashable {
    /// `go_to_action`: send it back as the interlocutor reply body.
    case goTo(GoToAction)
    /// `open_url_action`: open a URL locally; nothing is sent.
    case openURL(OpenURLAction)
    /// `share_action`: the webchat draws it disabled.
    case share(ShareAction)
    /// `legacy_reply_to_message_action`: an old-style canned reply.
    case legacyReply(LegacyReplyToMessageAction)
    /// `customer_satisfaction_callback_action`.
    case satisfactionCallback(CustomerSatisfactionCallbackAction)
    /// Any other type, kept raw.
    case unknown(UnknownObject)

    /// The action's `type` string on the wire.
    public var typeName: String {
        switch self {
        case .goTo: GoToAction.typeName
        case .openURL: OpenURLAction.typeName
        case .share: ShareAction.typeName
        case .legacyReply: LegacyReplyToMessageAction.typeName
        case .satisfactionCallback: CustomerSatisfactionCallbackAction.typeName
        case .unknown(let object): object.type
        }
    }
}

extension ButtonAction: Codable {
    public init(from decoder: any Decoder) throws {
        switch try decodeTypeName(from: decoder) {
        case GoToAction.typeName: self = .goTo(try GoToAction(from: decoder))
        case OpenURLAction.typeName: self = .openURL(try OpenURLAction(from: decoder))
        case ShareAction.typeName: self = .share(try ShareAction(from: decoder))
        case LegacyReplyToMessageAction.typeName: self = .legacyReply(try LegacyReplyToMessageAction(from: decoder))
        case CustomerSatisfactionCallbackAction.typeName:
            self = .satisfactionCallback(try CustomerSatisfactionCallbackAction(from: decoder))
        default: self = .unknown(try UnknownObject(from: decoder))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .goTo(let action): try action.encodeTyped(to: encoder)
        case .openURL(let action): try action.encodeTyped(to: encoder)
        case .share(let action): try action.encodeTyped(to: encoder)
        case .legacyReply(let action): try action.encodeTyped(to: encoder)
        case .satisfactionCallback(let action): try action.encodeTyped(to: encoder)
        case .unknown(let object): try object.encode(to: encoder)
        }
    }
}

/// `go_to_action`: move the conversation to a target, optionally setting session values.
///
/// Encoding writes `"sessionValues": null` when there are none, as the server sends it.
public struct GoToAction: Sendable, Hashable, TypedPayload {
    static let typeName = "go_to_action"

    /// Where the conversation goes: a step or a story.
    public var target: Target
    /// Session values to set (free-form); nil when absent or `null`.
    public var sessionValues: JSONObject?

    /// A go-to `target`, with session values to set.
    public init(target: Target, sessionValues: JSONObject? = nil) {
        self.target = target
        self.sessionValues = sessionValues
    }

    /// This action with `values` merged into its session values (`values` win on a clash), as
    /// the webchat sends a choices-list pick.
    public func addingSessionValues(_ values: JSONObject?) -> GoToAction {
        guard let values, !values.isEmpty else { return self }
        var merged = sessionValues ?? JSONObject()
        for member in values.uniqueMembers { merged[member.key] = member.value }
        return GoToAction(target: target, sessionValues: merged)
    }

    private enum CodingKeys: String, CodingKey {
        case target, sessionValues
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(target, forKey: .target)
        try container.encode(sessionValues, forKey: .sessionValues)
    }
}

/// `open_url_action`: open `url` on the client.
public struct OpenURLAction: Sendable, Hashable, TypedPayload {
    static let typeName = "open_url_action"

    /// The URL to open, as the bot author wrote it.
    public var url: String

    /// An action that opens `url`.
    public init(url: String) { self.url = url }
}

/// `share_action`: no fields.
public struct ShareAction: Sendable, Hashable, TypedPayload {
    static let typeName = "share_action"

    /// The share action (it has no fields).
    public init() {}
}

/// `legacy_reply_to_message_action`: reply with a fixed message (and attachments).
public struct LegacyReplyToMessageAction: Sendable, Hashable, TypedPayload {
    static let typeName = "legacy_reply_to_message_action"

    /// One attachment of a legacy reply.
    public struct Attachment: Sendable, Hashable, Codable {
        /// The attachment's file name.
        public var name: String
        /// Where the attachment is.
        public var url: String

        /// An attachment `name` at `url`.
        public init(name: String, url: String) {
            self.name = name
            self.url = url
        }
    }

    /// The message sent when the button is used.
    public var message: String
    /// Files sent with the message, if any.
    public var attachments: [Attachment]?

    /// A canned reply of `message`, with attachments.
    public init(message: String, attachments: [Attachment]? = nil) {
        self.message = message
        self.attachments = attachments
    }
}

/// `customer_satisfaction_callback_action`: the user rated the conversation.
public struct CustomerSatisfactionCallbackAction: Sendable, Hashable, TypedPayload {
    static let typeName = "customer_satisfaction_callback_action"

    /// The rating given.
    public var kind: SatisfactionKind
    /// Where the conversation goes after the rating, if anywhere.
    public var target: Target?

    /// A rating callback of `kind`, leading to `target`.
    public init(kind: SatisfactionKind, target: Target? = nil) {
        self.kind = kind
        self.target = target
    }
}

/// A satisfaction rating: `positive`, `neutral`, `negative`, or any newer string, kept as is.
public struct SatisfactionKind: RawRepresentable, Sendable, Hashable, Codable, ExpressibleByStringLiteral {
    /// The rating as sent on the wire.
    public var rawValue: String

    /// A rating from its wire string.
    public init(rawValue: String) { self.rawValue = rawValue }
    /// A rating from a string literal, e.g. `"positive"`.
    public init(stringLiteral value: String) { self.rawValue = value }

    /// The user is satisfied.
    public static let positive = SatisfactionKind(rawValue: "positive")
    /// The user is neither satisfied nor dissatisfied.
    public static let neutral = SatisfactionKind(rawValue: "neutral")
    /// The user is dissatisfied.
    public static let negative = SatisfactionKind(rawValue: "negative")

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
