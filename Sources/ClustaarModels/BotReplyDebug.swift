/// The `debug` block of a bot reply. Every member is optional; the `type` strings inside are
/// undocumented, so they are not decoded.
public struct BotReplyDebug: Sendable, Hashable, Codable {
    public var intentDetections: [IntentDetection]?
    public var webhookCalls: [WebhookCall]?
    public var logs: [DebugLog]?

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
    public var query: String?
    public var results: [IntentDetectionResult]?

    public init(query: String? = nil, results: [IntentDetectionResult]? = nil) {
        self.query = query
        self.results = results
    }
}

/// One candidate intent with its score.
public struct IntentDetectionResult: Sendable, Hashable, Codable {
    public var intent: IntentReference?
    /// From 0 to 1.
    public var score: Double?
    public var parameters: [Parameter]?

    /// A parameter extracted from the text (its value is free-form).
    public struct Parameter: Sendable, Hashable, Codable {
        public var name: String
        public var value: JSONValue?

        public init(name: String, value: JSONValue? = nil) {
            self.name = name
            self.value = value
        }
    }

    public init(intent: IntentReference? = nil, score: Double? = nil, parameters: [Parameter]? = nil) {
        self.intent = intent
        self.score = score
        self.parameters = parameters
    }
}

/// A webhook the bot called while answering. Bodies are strings in practice, kept free-form.
public struct WebhookCall: Sendable, Hashable, Codable {
    public var request: Request?
    public var response: Response?
    public var error: String?

    /// The request sent to the webhook.
    public struct Request: Sendable, Hashable, Codable {
        public var method: String?
        public var url: String?
        public var body: JSONValue?

        public init(method: String? = nil, url: String? = nil, body: JSONValue? = nil) {
            self.method = method
            self.url = url
            self.body = body
        }
    }

    /// What the webhook answered.
    public struct Response: Sendable, Hashable, Codable {
        public var status: Int?
        public var body: JSONValue?

        public init(status: Int? = nil, body: JSONValue? = nil) {
            self.status = status
            self.body = body
        }
    }

    public init(request: Request? = nil, response: Response? = nil, error: String? = nil) {
        self.request = request
        self.response = response
        self.error = error
    }
}

/// A log line of the bot run.
public struct DebugLog: Sendable, Hashable, Codable {
    public var level: String?
    public var message: String?
    /// ISO 8601 text, kept as received.
    public var createdAt: String?

    public init(level: String? = nil, message: String? = nil, createdAt: String? = nil) {
        self.level = level
        self.message = message
        self.createdAt = createdAt
    }
}
