// The actions that show or do one simple thing: text, image, wait, JS event, pause.

/// `send_text_action`: a text message.
public struct SendTextAction: Sendable, Hashable, TypedPayload {
    static let typeName = "send_text_action"

    /// The texts the bot author wrote; the server picks one into `text`.
    public var alternatives: [String]
    /// The alternative the server picked (output only; may be absent).
    public var text: String?

    /// A text action with its alternatives and, when the server picked one, `text`.
    public init(alternatives: [String], text: String? = nil) {
        self.alternatives = alternatives
        self.text = text
    }

    /// What to show: `text`, else the first alternative.
    public var displayText: String? { text ?? alternatives.first }
}

/// `send_image_action`: an image with its alternative text.
public struct SendImageAction: Sendable, Hashable, TypedPayload {
    static let typeName = "send_image_action"

    /// The image to show.
    public var imageURL: String
    /// The image's text alternative, if any.
    public var alt: String?

    /// An image action.
    public init(imageURL: String, alt: String? = nil) {
        self.imageURL = imageURL
        self.alt = alt
    }
}

/// `wait_action`: wait before playing the next action.
public struct WaitAction: Sendable, Hashable, TypedPayload {
    static let typeName = "wait_action"

    /// Seconds, integer or not on the wire. Authoring allows 0.5–7, but any value is accepted:
    /// clamp it in the UI if needed.
    public var duration: Double

    /// A pause of `duration` seconds.
    public init(duration: Double) { self.duration = duration }
}

/// `send_js_event_action`: an event for the host page or app.
public struct SendJSEventAction: Sendable, Hashable, TypedPayload {
    static let typeName = "send_js_event_action"

    /// The event's name, for the host page or app.
    public var event: String
    /// Free-form payload (an object in practice); nil when absent or `null`.
    /// The event's data, free-form, if any.
    public var payload: JSONValue?

    /// A JavaScript event `event` with its `payload`.
    public init(event: String, payload: JSONValue? = nil) {
        self.event = event
        self.payload = payload
    }
}

/// `pause_bot_action`: the bot stops answering; no fields.
public struct PauseBotAction: Sendable, Hashable, TypedPayload {
    static let typeName = "pause_bot_action"

    /// The pause-bot action (it has no fields).
    public init() {}
}
