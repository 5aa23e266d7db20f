/// The payload of a `bot_reply` event: what the bot answers, as actions to play in order.
public struct BotReply: Sendable, Hashable, Codable {
    /// Present only when the interlocutor reply asked for it (`params.debug == 1`).
    public var debug: BotReplyDebug?
    /// What the bot does: the actions to play.
    public var fulfillment: Fulfillment
    /// The input that produced this reply (`{type:"text", message}`, a `go_to_action`...), raw;
    /// see ``inputBody`` for a typed view.
    public var input: JSONValue?
    /// The interlocutor the reply is for, when the server says.
    public var interlocutor: Interlocutor?
    /// The conversation's session values after this reply, when the server sends them.
    public var session: BotSession?

    /// A reply from its parts; only the fulfillment is required.
    public init(
        fulfillment: Fulfillment,
        debug: BotReplyDebug? = nil,
        input: JSONValue? = nil,
        interlocutor: Interlocutor? = nil,
        session: BotSession? = nil
    ) {
        self.debug = debug
        self.fulfillment = fulfillment
        self.input = input
        self.interlocutor = interlocutor
        self.session = session
    }

    /// The actions, in the order to play them.
    public var actions: [BotAction] { fulfillment.actions }

    /// `input` read as an interlocutor message body; nil when absent, `null` or malformed.
    public var inputBody: InterlocutorReplyBody? {
        guard let input, !input.isNull else { return nil }
        return try? input.decode(InterlocutorReplyBody.self)
    }
}

/// What the bot does in reply.
public struct Fulfillment: Sendable, Hashable, Codable {
    /// The actions, in the order to play them (may be empty).
    public var actions: [BotAction]
    /// Which part of the bot produced the actions, when the server says.
    public var source: FulfillmentSource?

    /// Actions to play in order, and where they come from.
    public init(actions: [BotAction], source: FulfillmentSource? = nil) {
        self.actions = actions
        self.source = source
    }
}

/// Which part of the bot produced the actions.
public struct FulfillmentSource: Sendable, Hashable, Codable {
    /// `step_actions`, `step_fallback_actions` or `story_fallback_actions`; kept as a string.
    public var type: String
    /// The step the actions belong to, when they come from a step.
    public var step: TargetReference?

    /// A source of kind `type`, from `step`.
    public init(type: String, step: TargetReference? = nil) {
        self.type = type
        self.step = step
    }
}

/// The interlocutor a reply is for (`{type:"interlocutor", id, ...}`), every field kept raw.
public struct Interlocutor: Sendable, Hashable, Codable {
    /// All the fields as received (`id`, `userID`, `externalID`, `firstName`, `isLogged`...).
    public var fields: JSONObject

    /// An interlocutor with these fields.
    public init(fields: JSONObject) { self.fields = fields }

    /// The interlocutor id, when `id` is a string.
    public var id: String? { fields["id"]?.stringValue }

    public init(from decoder: any Decoder) throws { fields = try JSONObject(from: decoder) }

    public func encode(to encoder: any Encoder) throws { try fields.encode(to: encoder) }
}

/// The conversation's session.
public struct BotSession: Sendable, Hashable, Codable {
    /// Session values (usually strings, sometimes numbers); empty when missing or `null`.
    public var values: JSONObject

    /// A session holding `values`.
    public init(values: JSONObject = [:]) { self.values = values }

    private enum CodingKeys: String, CodingKey {
        case values
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        values = try container.decodeIfPresent(JSONObject.self, forKey: .values) ?? JSONObject()
    }
}
