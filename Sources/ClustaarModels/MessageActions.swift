// The actions that show or do one simple thing: text, image, wait, JS event, pause.

/// `send_text_action`: a text message.
public struct SendTextAction: Sendable, Hashable, TypedPayload {
    static let typeName = "send_text_action"

    /// The texts the bot author wrote; the server picks one into `text`.
    public var alternatives: [String]
    /// The alternative the server picked (output only; may be absent).
    public var text: String?

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

    public var imageURL: String
    public var alt: String?

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

    public init(duration: Double) { self.duration = duration }
}

/// `send_js_event_action`: an event for the host page or app.
public struct SendJSEventAction: Sendable, Hashable, TypedPayload {
    static let typeName = "send_js_event_action"

    public var event: String
    /// Free-form payload (an object in practice); nil when absent or `null`.
    public var payload: JSONValue?

    public init(event: String, payload: JSONValue? = nil) {
        self.event = event
        self.payload = payload
    }
}

/// `pause_bot_action`: the bot stops answering; no fields.
public struct PauseBotAction: Sendable, Hashable, TypedPayload {
    static let typeName = "pause_bot_action"

    public init() {}
}
