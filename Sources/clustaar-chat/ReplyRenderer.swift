import ClustaarSDK

/// What a numbered choice does when the user types its number.
enum Clickable: Sendable, Equatable {
    /// Send this body to the bot (a button's go-to, a legacy reply, a satisfaction pick...).
    case send(InterlocutorReplyBody)
    /// Open this URL (the terminal prints it).
    case open(String)
}

/// One step of playing a bot reply: a line to print, or a pause (a `wait_action`).
enum RenderedStep: Equatable {
    case line(String)
    case typing(seconds: Double)
}

/// Turns bot replies into terminal lines, numbering everything the user can click.
/// Pure: it never prints nor waits, so it is tested as is.
struct ReplyRenderer {
    /// The current numbered choices (a new reply replaces them).
    private(set) var clickables: [Clickable] = []

    mutating func render(_ reply: BotReply) -> [RenderedStep] {
        clickables = []
        var steps: [RenderedStep] = []
        for action in reply.actions { steps += render(action) }
        return steps
    }

    private mutating func render(_ action: BotAction) -> [RenderedStep] {
        switch action {
        case .text(let text):
            return [.line("bot> \(text.displayText ?? "")")]
        case .image(let image):
            return [.line("bot> [image] \(image.imageURL)" + (image.alt.map { " (\($0))" } ?? ""))]
        case .wait(let wait):
            return [.typing(seconds: wait.duration)]
        case .quickReplies(let quickReplies):
            var lines = ["bot> \(quickReplies.message)"]
            for button in quickReplies.buttons { lines.append(numbered(button.title, button.action)) }
            return lines.map(RenderedStep.line)
        case .cards(let cards):
            var lines: [String] = []
            for card in cards.cards {
                lines.append("bot> ┌ \(card.title)" + (card.subtitle.map { " — \($0)" } ?? ""))
                if let image = card.imageURL, !image.isEmpty { lines.append("     │ [image] \(image)") }
                if let url = card.url, !url.isEmpty { lines.append("     │ \(url)") }
                for button in card.buttons { lines.append(numbered(button.title, button.action)) }
            }
            return lines.map(RenderedStep.line)
        case .simpleCards(let cards):
            var lines: [String] = []
            for card in cards.cards {
                lines.append("bot> ┌ \(card.title)" + (card.subtitle.map { " — \($0)" } ?? ""))
                if let image = card.imageURL, !image.isEmpty { lines.append("     │ [image] \(image)") }
                for button in card.buttons { lines.append(numbered(button.title, button.action)) }
            }
            return lines.map(RenderedStep.line)
        case .choicesList(let list):
            var lines = ["bot> \(list.message ?? list.placeholder)"]
            for section in list.sections {
                if let title = section.title { lines.append("     \(title):") }
                for choice in section.choices {
                    lines.append(
                        add(.send(.goTo(list.action.addingSessionValues(choice.sessionValues))), title: choice.title))
                }
            }
            return lines.map(RenderedStep.line)
        case .askLocation(let ask):
            return [.line("bot> \(ask.message)  (type /location LAT LONG)")]
        case .jsEvent(let event):
            return [.line("bot> (event for the page: \(event.event))")]
        case .pauseBot:
            return [.line("bot> (the bot pauses: a human takes over)")]
        case .customerSatisfaction(let satisfaction):
            var lines = ["bot> \(satisfaction.message)"]
            for choice in satisfaction.choices {
                let label = choice.label.isEmpty ? choice.kind.rawValue : choice.label
                if let target = choice.target {
                    lines.append(add(.send(.goTo(GoToAction(target: target))), title: label))
                } else {
                    lines.append("     - \(label)")
                }
            }
            return lines.map(RenderedStep.line)
        case .askDocument(let ask):
            var lines = ["bot> \(ask.message)"]
            for document in ask.documents {
                lines.append("     - \(document.name) (\(document.authorizedFileTypes.joined(separator: ", ")))")
            }
            return lines.map(RenderedStep.line)
        case .unknown(let object):
            return [.line("bot> (\(object.type): not shown by this client)")]
        }
    }

    private mutating func numbered(_ title: String, _ action: ButtonAction) -> String {
        switch action {
        case .goTo(let goTo): return add(.send(.goTo(goTo)), title: title)
        case .openURL(let open): return add(.open(open.url), title: "\(title) ↗ \(open.url)")
        case .legacyReply(let reply): return add(.send(.text(reply.message)), title: title)
        case .satisfactionCallback(let callback):
            guard let target = callback.target else { return "     - \(title)" }
            return add(.send(.goTo(GoToAction(target: target))), title: title)
        case .share: return "     - \(title) (share)"
        case .unknown(let object): return "     - \(title) (\(object.type))"
        }
    }

    private mutating func add(_ clickable: Clickable, title: String) -> String {
        clickables.append(clickable)
        return "  [\(clickables.count)] \(title)"
    }
}
