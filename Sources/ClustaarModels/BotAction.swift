/// One action of a bot reply, to be played in order.
public enum BotAction: Sendable, Hashable {
    /// `send_text_action`
    case text(SendTextAction)
    /// `send_image_action`
    case image(SendImageAction)
    /// `send_quick_replies_action`
    case quickReplies(SendQuickRepliesAction)
    /// `send_cards_action`
    case cards(SendCardsAction)
    /// `send_simple_cards_action`
    case simpleCards(SendSimpleCardsAction)
    /// `send_choices_list_action`
    case choicesList(SendChoicesListAction)
    /// `wait_action`: delays the next action.
    case wait(WaitAction)
    /// `ask_location_action`
    case askLocation(AskLocationAction)
    /// `send_js_event_action`: for the host app, nothing to draw.
    case jsEvent(SendJSEventAction)
    /// `pause_bot_action`: the bot stops answering (hand-over), nothing to draw.
    case pauseBot(PauseBotAction)
    /// `customer_satisfaction_action`
    case customerSatisfaction(CustomerSatisfactionAction)
    /// `ask_document_action`
    case askDocument(AskDocumentAction)
    /// Any other type (server-side actions, newer ones), kept raw; it never fails the reply.
    case unknown(UnknownObject)

    /// The action's `type` string on the wire.
    public var typeName: String {
        switch self {
        case .text: SendTextAction.typeName
        case .image: SendImageAction.typeName
        case .quickReplies: SendQuickRepliesAction.typeName
        case .cards: SendCardsAction.typeName
        case .simpleCards: SendSimpleCardsAction.typeName
        case .choicesList: SendChoicesListAction.typeName
        case .wait: WaitAction.typeName
        case .askLocation: AskLocationAction.typeName
        case .jsEvent: SendJSEventAction.typeName
        case .pauseBot: PauseBotAction.typeName
        case .customerSatisfaction: CustomerSatisfactionAction.typeName
        case .askDocument: AskDocumentAction.typeName
        case .unknown(let object): object.type
        }
    }
}

extension BotAction: Codable {
    public init(from decoder: any Decoder) throws {
        switch try decodeTypeName(from: decoder) {
        case SendTextAction.typeName: self = .text(try SendTextAction(from: decoder))
        case SendImageAction.typeName: self = .image(try SendImageAction(from: decoder))
        case SendQuickRepliesAction.typeName: self = .quickReplies(try SendQuickRepliesAction(from: decoder))
        case SendCardsAction.typeName: self = .cards(try SendCardsAction(from: decoder))
        case SendSimpleCardsAction.typeName: self = .simpleCards(try SendSimpleCardsAction(from: decoder))
        case SendChoicesListAction.typeName: self = .choicesList(try SendChoicesListAction(from: decoder))
        case WaitAction.typeName: self = .wait(try WaitAction(from: decoder))
        case AskLocationAction.typeName: self = .askLocation(try AskLocationAction(from: decoder))
        case SendJSEventAction.typeName: self = .jsEvent(try SendJSEventAction(from: decoder))
        case PauseBotAction.typeName: self = .pauseBot(try PauseBotAction(from: decoder))
        case CustomerSatisfactionAction.typeName:
            self = .customerSatisfaction(try CustomerSatisfactionAction(from: decoder))
        case AskDocumentAction.typeName: self = .askDocument(try AskDocumentAction(from: decoder))
        default: self = .unknown(try UnknownObject(from: decoder))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .text(let action): try action.encodeTyped(to: encoder)
        case .image(let action): try action.encodeTyped(to: encoder)
        case .quickReplies(let action): try action.encodeTyped(to: encoder)
        case .cards(let action): try action.encodeTyped(to: encoder)
        case .simpleCards(let action): try action.encodeTyped(to: encoder)
        case .choicesList(let action): try action.encodeTyped(to: encoder)
        case .wait(let action): try action.encodeTyped(to: encoder)
        case .askLocation(let action): try action.encodeTyped(to: encoder)
        case .jsEvent(let action): try action.encodeTyped(to: encoder)
        case .pauseBot(let action): try action.encodeTyped(to: encoder)
        case .customerSatisfaction(let action): try action.encodeTyped(to: encoder)
        case .askDocument(let action): try action.encodeTyped(to: encoder)
        case .unknown(let object): try object.encode(to: encoder)
        }
    }
}
