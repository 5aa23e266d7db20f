// The actions that ask the user for something back: a satisfaction rating, documents.

/// `customer_satisfaction_action`: ask the user to rate the conversation.
public struct CustomerSatisfactionAction: Sendable, Hashable, TypedPayload {
    static let typeName = "customer_satisfaction_action"

    /// The question asked.
    public var message: String
    /// The possible answers, in order.
    public var choices: [SatisfactionChoice]

    /// A satisfaction question `message` with its `choices`.
    public init(message: String, choices: [SatisfactionChoice]) {
        self.message = message
        self.choices = choices
    }
}

/// One answer of a satisfaction question (`customer_satisfaction_choice`).
public struct SatisfactionChoice: Sendable, Hashable, Codable {
    /// The rating this choice gives.
    public var kind: SatisfactionKind
    /// May be empty.
    public var label: String
    /// Where the conversation goes when this choice is picked, if anywhere.
    public var target: Target?
    /// The intent that also selects this choice when the user types it, if any.
    public var matchingIntent: IntentReference?

    /// A satisfaction choice.
    public init(kind: SatisfactionKind, label: String, target: Target? = nil, matchingIntent: IntentReference? = nil) {
        self.kind = kind
        self.label = label
        self.target = target
        self.matchingIntent = matchingIntent
    }
}

/// An intent of the bot, by id and name.
public struct IntentReference: Sendable, Hashable, Codable {
    /// The intent's id.
    public var id: String
    /// The intent's name, if known.
    public var name: String?

    /// An intent reference.
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
    /// The documents asked for, in order.
    public var documents: [AskedDocument]

    /// A request for `documents`, introduced by `message`.
    public init(message: String, documents: [AskedDocument]) {
        self.message = message
        self.documents = documents
    }
}

/// One document asked for (`asked_document`).
public struct AskedDocument: Sendable, Hashable, Codable {
    /// May be empty.
    public var message: String
    /// The document's name.
    public var name: String
    /// MIME types, e.g. `application/pdf`.
    public var authorizedFileTypes: [String]

    /// A document asked for.
    public init(message: String, name: String, authorizedFileTypes: [String]) {
        self.message = message
        self.name = name
        self.authorizedFileTypes = authorizedFileTypes
    }
}
