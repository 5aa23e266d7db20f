/// What the client sends as `interlocutor_reply`: `{"token", "params", "body"}`, encoded exactly
/// as the original JS SDK does.
///
/// ```swift
/// let reply = InterlocutorReply(token: botToken, body: .text("Hello"))
/// ```
public struct InterlocutorReply: Sendable, Hashable, Codable {
    /// The bot's access token (not the socket token).
    public var token: String
    /// How the server handles the message: debug, display, channel.
    public var params: InterlocutorReplyParams
    /// What the user said or did.
    public var body: InterlocutorReplyBody

    /// A reply; `display` defaults to the body's ``InterlocutorReplyBody/isDisplayedByDefault``.
    public init(
        token: String,
        body: InterlocutorReplyBody,
        debug: Bool = false,
        display: Bool? = nil,
        channel: String? = nil
    ) {
        self.token = token
        self.body = body
        self.params = InterlocutorReplyParams(
            debug: debug,
            display: display ?? body.isDisplayedByDefault,
            channel: channel
        )
    }

    /// A reply with explicit params.
    public init(token: String, params: InterlocutorReplyParams, body: InterlocutorReplyBody) {
        self.token = token
        self.params = params
        self.body = body
    }
}

extension InterlocutorReply {
    /// The reply as compact JSON written by hand, for the bodies a chat sends all the time
    /// (text, custom event, URL loaded): the bytes `JSONEncoder` writes with sorted keys and
    /// unescaped slashes. Nil for the other bodies (their numbers and nested values are left to
    /// `JSONEncoder`).
    var handWrittenJSON: [UInt8]? {
        let bodyText: String
        switch body {
        case .text(let text), .customEvent(let text), .urlLoaded(let text): bodyText = text
        case .goTo, .coordinates, .unknown: return nil
        }
        let strings = token.utf8.count + bodyText.utf8.count + (params.channel?.utf8.count ?? 0)
        var writer = JSONTextWriter(capacity: strings + 128)
        // Keys in sorted order, as JSONEncoder's `.sortedKeys`.
        switch body {
        case .customEvent: writer.raw(#"{"body":{"name":"#)
        case .urlLoaded: writer.raw(#"{"body":{"type":"url_loaded_event","url":"#)
        default: writer.raw(#"{"body":{"message":"#)
        }
        writer.string(bodyText)
        switch body {
        case .customEvent: writer.raw(#","type":"custom_event"},"params":{"#)
        case .urlLoaded: writer.raw(#"},"params":{"#)
        default: writer.raw(#","type":"text"},"params":{"#)
        }
        if let channel = params.channel {
            writer.raw(#""channel":"#)
            writer.string(channel)
            writer.raw(",")
        }
        writer.raw(params.debug ? #""debug":1,"# : #""debug":0,"#)
        writer.raw(params.display ? #""display":true},"token":"# : #""display":false},"token":"#)
        writer.string(token)
        writer.raw("}")
        return writer.bytes
    }
}

/// The `params` of an interlocutor reply.
public struct InterlocutorReplyParams: Sendable, Hashable, Codable {
    /// The channel name the Clustaar webchat uses.
    public static let webChatChannel = "clustaar_web_chat"

    /// Ask for the `debug` block in the bot reply. On the wire the number 0 or 1, never a bool.
    public var debug: Bool
    /// Whether the message shows in the conversation.
    public var display: Bool
    /// Free channel name; the key is left out when nil.
    public var channel: String?

    /// Params; by default no debug block, displayed, no channel name.
    public init(debug: Bool = false, display: Bool = true, channel: String? = nil) {
        self.debug = debug
        self.display = display
        self.channel = channel
    }

    private enum CodingKeys: String, CodingKey {
        case debug, display, channel
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        switch try container.decode(Int.self, forKey: .debug) {
        case 0: debug = false
        case 1: debug = true
        default:
            throw DecodingError.dataCorruptedError(
                forKey: .debug,
                in: container,
                debugDescription: "debug must be the number 0 or 1"
            )
        }
        display = try container.decode(Bool.self, forKey: .display)
        channel = try container.decodeIfPresent(String.self, forKey: .channel)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(debug ? 1 : 0, forKey: .debug)
        try container.encode(display, forKey: .display)
        try container.encodeIfPresent(channel, forKey: .channel)
    }
}

/// The `body` of an interlocutor reply: what the user said or did. Also the payload of the
/// inbound `interlocutor_reply` event (the server echoing a user message).
public enum InterlocutorReplyBody: Sendable, Hashable {
    /// `{"type":"text","message":…}`: a text typed by the user.
    case text(String)
    /// `{"type":"custom_event","name":…}`: an event configured on the webchat channel.
    case customEvent(name: String)
    /// `{"type":"go_to_action","target":…,"sessionValues":…}`: a button, quick reply, list
    /// choice or location callback was used; send the button's action as is.
    case goTo(GoToAction)
    /// `{"type":"url_loaded_event","url":…}`: the page the user is on.
    case urlLoaded(url: String)
    /// `{"type":"coordinates","lat":…,"long":…}`: the user's location. The wire shape is
    /// inferred (no source shows it); it lives in this one encoder.
    case coordinates(latitude: Double, longitude: Double)
    /// Any other body type met while decoding, kept raw.
    case unknown(UnknownObject)

    /// A `go_to_action` body that moves the conversation to a step.
    public static func goTo(step id: String, name: String? = nil, sessionValues: JSONObject? = nil) -> Self {
        .goTo(GoToAction(target: .step(TargetReference(id: id, name: name)), sessionValues: sessionValues))
    }

    /// A `go_to_action` body that moves the conversation to a story.
    public static func goTo(story id: String, name: String? = nil, sessionValues: JSONObject? = nil) -> Self {
        .goTo(GoToAction(target: .story(TargetReference(id: id, name: name)), sessionValues: sessionValues))
    }

    /// The body's `type` string on the wire.
    public var typeName: String {
        switch self {
        case .text: "text"
        case .customEvent: "custom_event"
        case .goTo: GoToAction.typeName
        case .urlLoaded: "url_loaded_event"
        case .coordinates: "coordinates"
        case .unknown(let object): object.type
        }
    }

    /// Whether the message shows in the conversation unless told otherwise: silent events
    /// (`custom_event`, `url_loaded_event`) do not.
    public var isDisplayedByDefault: Bool {
        switch self {
        case .customEvent, .urlLoaded: false
        case .text, .goTo, .coordinates, .unknown: true
        }
    }
}

extension InterlocutorReplyBody: Codable {
    private enum CodingKeys: String, CodingKey {
        case type, message, name, url, lat, long
    }

    public init(from decoder: any Decoder) throws {
        let type = try decodeTypeName(from: decoder)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        switch type {
        case "text": self = .text(try container.decode(String.self, forKey: .message))
        case "custom_event": self = .customEvent(name: try container.decode(String.self, forKey: .name))
        case GoToAction.typeName: self = .goTo(try GoToAction(from: decoder))
        case "url_loaded_event": self = .urlLoaded(url: try container.decode(String.self, forKey: .url))
        case "coordinates":
            self = .coordinates(
                latitude: try container.decode(Double.self, forKey: .lat),
                longitude: try container.decode(Double.self, forKey: .long)
            )
        default: self = .unknown(try UnknownObject(from: decoder))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        if case .unknown(let object) = self {
            try object.encode(to: encoder)
            return
        }
        if case .goTo(let action) = self {
            try action.encodeTyped(to: encoder)
            return
        }
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(typeName, forKey: .type)
        switch self {
        case .text(let message): try container.encode(message, forKey: .message)
        case .customEvent(let name): try container.encode(name, forKey: .name)
        case .urlLoaded(let url): try container.encode(url, forKey: .url)
        case .coordinates(let latitude, let longitude):
            try container.encode(latitude, forKey: .lat)
            try container.encode(longitude, forKey: .long)
        case .goTo, .unknown: break  // written above
        }
    }
}
