// The actions that offer the user buttons or choices: quick replies, cards, simple cards,
// choices list, location request.

/// `send_quick_replies_action`: a message with buttons under it.
public struct SendQuickRepliesAction: Sendable, Hashable, TypedPayload {
    static let typeName = "send_quick_replies_action"

    /// The text shown above the buttons.
    public var message: String
    /// The buttons, in order.
    public var buttons: [QuickReply]

    /// Quick replies: `message` and its `buttons`.
    public init(message: String, buttons: [QuickReply]) {
        self.message = message
        self.buttons = buttons
    }
}

/// One quick reply button. Its `type` key (`quick_reply`) may be missing on the wire.
public struct QuickReply: Sendable, Hashable, Codable {
    /// The button's label.
    public var title: String
    /// What the button does when used.
    public var action: ButtonAction

    /// A quick reply titled `title` doing `action`.
    public init(title: String, action: ButtonAction) {
        self.title = title
        self.action = action
    }
}

/// `send_cards_action`: a carousel of cards.
public struct SendCardsAction: Sendable, Hashable, TypedPayload {
    static let typeName = "send_cards_action"

    /// The cards, in order.
    public var cards: [Card]

    /// A carousel of `cards`.
    public init(cards: [Card]) { self.cards = cards }
}

/// A card of `send_cards_action`. `imageURL` and `url` may be `""`, meaning none.
public struct Card: Sendable, Hashable, Codable {
    /// The card's title.
    public var title: String
    /// A line under the title, if any.
    public var subtitle: String?
    /// The image's text alternative, if any.
    public var alt: String?
    /// The card's image, if any (may be empty).
    public var imageURL: String?
    /// The page the card links to, if any (may be empty).
    public var url: String?
    /// The card's buttons; empty when missing or `null`.
    public var buttons: [CardButton]

    /// A card from its parts; only the title is required.
    public init(
        title: String,
        subtitle: String? = nil,
        alt: String? = nil,
        imageURL: String? = nil,
        url: String? = nil,
        buttons: [CardButton] = []
    ) {
        self.title = title
        self.subtitle = subtitle
        self.alt = alt
        self.imageURL = imageURL
        self.url = url
        self.buttons = buttons
    }

    private enum CodingKeys: String, CodingKey {
        case title, subtitle, alt, imageURL, url, buttons
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        title = try container.decode(String.self, forKey: .title)
        subtitle = try container.decodeIfPresent(String.self, forKey: .subtitle)
        alt = try container.decodeIfPresent(String.self, forKey: .alt)
        imageURL = try container.decodeIfPresent(String.self, forKey: .imageURL)
        url = try container.decodeIfPresent(String.self, forKey: .url)
        buttons = try container.decodeIfPresent([CardButton].self, forKey: .buttons) ?? []
    }
}

/// `send_simple_cards_action`: a carousel of simpler cards.
public struct SendSimpleCardsAction: Sendable, Hashable, TypedPayload {
    static let typeName = "send_simple_cards_action"

    /// The cards, in order.
    public var cards: [SimpleCard]

    /// A carousel of simple `cards`.
    public init(cards: [SimpleCard]) { self.cards = cards }
}

/// A card of `send_simple_cards_action`. The schema has no `url` or `alt`, but the webchat reads
/// `url`, so both are decoded when present.
public struct SimpleCard: Sendable, Hashable, Codable {
    /// The card's title.
    public var title: String
    /// A line under the title, if any.
    public var subtitle: String?
    /// The card's image, if any (may be empty).
    public var imageURL: String?
    /// The page the card links to, if any (may be empty).
    public var url: String?
    /// The image's text alternative, if any.
    public var alt: String?
    /// The card's buttons (`open_url_button`s); empty when missing or `null`.
    public var buttons: [CardButton]

    /// A simple card from its parts; only the title is required.
    public init(
        title: String,
        subtitle: String? = nil,
        imageURL: String? = nil,
        url: String? = nil,
        alt: String? = nil,
        buttons: [CardButton] = []
    ) {
        self.title = title
        self.subtitle = subtitle
        self.imageURL = imageURL
        self.url = url
        self.alt = alt
        self.buttons = buttons
    }

    private enum CodingKeys: String, CodingKey {
        case title, subtitle, imageURL, url, alt, buttons
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        title = try container.decode(String.self, forKey: .title)
        subtitle = try container.decodeIfPresent(String.self, forKey: .subtitle)
        imageURL = try container.decodeIfPresent(String.self, forKey: .imageURL)
        url = try container.decodeIfPresent(String.self, forKey: .url)
        alt = try container.decodeIfPresent(String.self, forKey: .alt)
        buttons = try container.decodeIfPresent([CardButton].self, forKey: .buttons) ?? []
    }
}

/// A button on a card (`button` or `open_url_button` on the wire).
public struct CardButton: Sendable, Hashable, Codable {
    /// The button's label.
    public var title: String
    /// What the button does when used.
    public var action: ButtonAction

    /// A card button titled `title` doing `action`.
    public init(title: String, action: ButtonAction) {
        self.title = title
        self.action = action
    }
}

/// `send_choices_list_action`: a searchable list of choices in sections; picking one sends
/// `action` with the choice's session values added (see ``reply(choosing:)``).
public struct SendChoicesListAction: Sendable, Hashable, TypedPayload {
    static let typeName = "send_choices_list_action"

    /// The text shown above the list, if any.
    public var message: String?
    /// The hint shown in the list's search field (or in place of `message`).
    public var placeholder: String
    /// The sections of choices, in order.
    public var sections: [ChoicesSection]
    /// The action every pick sends, with the picked choice's session values merged in.
    public var action: GoToAction

    /// A choices list.
    public init(message: String? = nil, placeholder: String, sections: [ChoicesSection], action: GoToAction) {
        self.message = message
        self.placeholder = placeholder
        self.sections = sections
        self.action = action
    }

    /// The body to send when the user picks `choice`: the list's action with the choice's
    /// session values copied into it.
    public func reply(choosing choice: Choice) -> InterlocutorReplyBody {
        .goTo(action.addingSessionValues(choice.sessionValues))
    }
}

/// A section of a choices list.
public struct ChoicesSection: Sendable, Hashable, Codable {
    /// The section's heading, if any.
    public var title: String?
    /// The choices of the section, in order.
    public var choices: [Choice]

    /// A section titled `title` with its `choices`.
    public init(title: String? = nil, choices: [Choice]) {
        self.title = title
        self.choices = choices
    }
}

/// One choice of a choices list. On the wire its image key is `imageUrl` (lower-case `rl`).
public struct Choice: Sendable, Hashable, Codable {
    /// The choice's label.
    public var title: String
    /// An image for the choice, if any.
    public var imageURL: String?
    /// Session values a pick of this choice sets, if any.
    public var sessionValues: JSONObject?

    /// A choice titled `title`.
    public init(title: String, imageURL: String? = nil, sessionValues: JSONObject? = nil) {
        self.title = title
        self.imageURL = imageURL
        self.sessionValues = sessionValues
    }

    private enum CodingKeys: String, CodingKey {
        case title
        case imageURL = "imageUrl"
        case sessionValues
    }
}

/// `ask_location_action`: ask for the user's location, then send `action`.
public struct AskLocationAction: Sendable, Hashable, TypedPayload {
    static let typeName = "ask_location_action"

    /// The text asking for the location.
    public var message: String
    /// The callback to send once the location is known.
    public var action: GoToAction

    /// A location request showing `message`, with the callback to send once the location is known.
    public init(message: String, action: GoToAction) {
        self.message = message
        self.action = action
    }
}
