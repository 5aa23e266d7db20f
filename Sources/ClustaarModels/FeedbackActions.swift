// The actions that ask the user for something back: a satisfaction rating, documents.

/// `customer_satisfaction_action`: ask the user to rate the conversation.
public struct CustomerSatisfactionAction: Sendable, Hashable, TypedPayload {
    static let typeName = "customer_satisfaction_action"

    public var message: String
    public var choices: [SatisfactionChoice]

    public init(message: String, choices: [SatisfactionChoice]) {
        self.message = message
        self.choices = choices
    }
}

/// One answer of a satisfaction question (`customer_satisfaction_choice`).
public struct SatisfactionChoice: Sendable, Hashable, Codable {
    public var kind: SatisfactionKind
    /// May be empty.
    public var label: String
    public var target: Target?
    public var matchingIntent: IntentReference?

    public init(kind: SatisfactionKind, label: String, target: Target? = nil, matchingIntent: IntentReference? = nil) {
        self.kind = kind
        self.label = label
        self.target = target
        self.matchingIntent = matchingIntent
    }
}

/// An intent of the bot, by id and name.
public struct IntentReference: Sendable, Hashable, Codable {
    public var id: String
    public var name: String?

    public init(id: String, name: String? = nil) {
        self.id = id
        self.name = name
    }
}

/// `ask_document_action`: ask the user to upload documents.
public struct AskDocumentAction: Sendable, Hashable, TypedPayload {
    static let typeName = "ask_document_action"

    /// May be empty.
    public var message: String
    public var documents: [AskedDocument]

    public init(message: String, documents: [AskedDocument]) {
        self.message = message
        self.documents = documents
    }
}

/// One document asked for (`asked_document`).
public struct AskedDocument: Sendable, Hashable, Codable {
    /// May be empty.
    public var message: String
    public var name: String
    /// MIME types, e.g. `application/pdf`.
    public var authorizedFileTypes: [String]

    public init(message: String, name: String, authorizedFileTypes: [String]) {
        self.message = message
        self.name = name
        self.authorizedFileTypes = authorizedFileTypes
    }
}
