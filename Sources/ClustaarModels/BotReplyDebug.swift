/// The `debug` block of a bot reply. Every member is optional; the `type` strings inside are
/// undocumented, so they are not decoded.
public struct BotReplyDebug: Sendable, Hashable, Codable {
    /// How the user's text was matched against the bot's intents.
    public var intentDetections: [IntentDetection]?
    /// The webhooks the bot called while answering.
    public var webhookCalls: [WebhookCall]?
    /// Log lines of the bot run.
    public var logs: [DebugLog]?

    /// A debug block; every member is optional.
    public init(
        intentDetections: [IntentDetection]? = nil,
        webhookCalls: [WebhookCall]? = nil,
        logs: [DebugLog]? = nil
    ) {
        self.intentDetections = intentDetections
        self.webhookCalls = webhookCalls
        self.logs = logs
    }
}

/// How the user's text was matched against the bot's intents.
public struct IntentDetection: Sendable, Hashable, Codable {
    /// The text that was matched.
    public var query: String?
    /// The candidate intents, best first as the server sends them.
    public var results: [IntentDetectionResult]?

    /// The detection of `query`, with its candidate intents.
    public init(query: String? = nil, results: [IntentDetectionResult]? = nil) {
        self.query = query
        self.results = results
    }
}

/// One candidate intent with its score.
public struct IntentDetectionResult: Sendable, Hashable, Codable {
    /// The candidate intent.
    public var intent: IntentReference?
    /// From 0 to 1.
    public var score: Double?
    /// The parameters extracted from the text for this intent.
    public var parameters: [Parameter]?

    /// A parameter extracted from the text (its value is free-form).
    public struct Parameter: Sendable, Hashable, Codable {
        /// The parameter's name.
        public var name: String
        /// The extracted value, free-form.
        public var value: JSONValue?

        /// A parameter `name` with its `value`.
        public init(name: String, value: JSONValue? = nil) {
            self.name = name
            self.value = value
        }
    }

    /// A candidate intent, its score and parameters.
    public init(intent: IntentReference? = nil, score: Double? = nil, parameters: [Parameter]? = nil) {
        self.intent = intent
        self.score = score
        self.parameters = parameters
    }
}

/// A webhook the bot called while answering. Bodies are strings in practice, kept free-form.
public struct WebhookCall: Sendable, Hashable, Codable {
    /// What was sent to the webhook.
    public var request: Request?
    /// What the webhook answered, if it did.
    public var response: Response?
    /// Why the call failed, if it did.
    public var error: String?

    /// The request sent to the webhook.
    public struct Request: Sendable, Hashable, Codable {
        /// The HTTP method.
        public var method: String?
        /// The webhook's URL.
        public var url: String?
        /// The request body, free-form (a string in practice).
        public var body: JSONValue?

        /// A webhook request.
        public init(method: String? = nil, url: String? = nil, body: JSONValue? = nil) {
            self.method = method
            self.url = url
            self.body = body
        }
    }

    /// What the webhook answered.
    public struct Response: Sendable, Hashable, Codable {
        /// The HTTP status code.
        public var status: Int?
        /// The response body, free-form (a string in practice).
        public var body: JSONValue?

        /// A webhook response.
        public init(status: Int? = nil, body: JSONValue? = nil) {
            self.status = status
            self.body = body
        }
    }

    /// A webhook call: its request, and its response or error.
    public init(request: Request? = nil, response: Response? = nil, error: String? = nil) {
        self.request = request
        self.response = response
        self.error = error
    }
}

/// A log line of the bot run.
public struct DebugLog: Sendable, Hashable, Codable {
    /// The level (`info`, `error`...), as received.
    public var level: String?
    /// The text of the line.
    public var message: String?
    /// ISO 8601 text, kept as received.
    public var createdAt: String?

    /// A log line.
    public init(level: String? = nil, message: String? = nil, createdAt: String? = nil) {
        self.level = level
        self.message = message
        self.createdAt = createdAt
    }
}
