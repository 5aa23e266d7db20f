import ClustaarModels
import Foundation

/// Every payload the sandbox writes, and the bot that decides what to answer.
///
/// The shapes copy what the recorded Clustaar-like server sends (`shared/fixtures/phoenix`):
/// bare bot replies (no `status`/`body` envelope) with keys sorted, echoes that add a
/// `timestamp`. All JSON is built here so a later change can swap it for ClustaarModels types.
enum SandboxBot {
    /// The id and name of the step every sandbox bot reply claims to come from.
    static let sourceStepID = "5c8a6f9e2b1d4a0012f3e7c1"
    static let sourceStepName = "Welcome"

    // MARK: Phoenix reply responses

    static let emptyResponse: JSONValue = [:]

    static func joinResponse(control: Bool) -> JSONValue { ["control": .bool(control)] }

    static func errorResponse(reason: String) -> JSONValue { ["reason": .string(reason)] }

    // MARK: What the interlocutor sent

    /// The `body` of an `interlocutor_reply` push, by kind.
    enum InterlocutorMessage: Sendable, Hashable {
        case text(String)
        case customEvent(name: String)
        case goToAction
        case urlLoaded(url: String)
        case coordinates(latitude: Double, longitude: Double)
        /// A body of another `type`: acknowledged, never an error (the protocol grows).
        case other(type: String)
    }

    /// Why an `interlocutor_reply` payload is refused (the push gets an error reply).
    struct InvalidPush: Error, Sendable, Hashable {
        var reason: String
    }

    /// Reads an `interlocutor_reply` payload `{token, params, body}`; returns the body as sent
    /// (for the echo and the bot reply's `input`) and what it says.
    static func readInterlocutorReply(_ payload: JSONValue) throws(InvalidPush) -> (
        body: JSONObject, message: InterlocutorMessage
    ) {
        guard payload.objectValue != nil else { throw InvalidPush(reason: "payload must be an object") }
        guard payload["token"]?.stringValue != nil else { throw InvalidPush(reason: "missing token") }
        guard let body = payload["body"]?.objectValue else { throw InvalidPush(reason: "missing body") }
        guard let type = body["type"]?.stringValue else { throw InvalidPush(reason: "missing body.type") }
        switch type {
        case "text":
            guard let text = body["message"]?.stringValue else { throw InvalidPush(reason: "missing body.message") }
            return (body, .text(text))
        case "custom_event":
            guard let name = body["name"]?.stringValue else { throw InvalidPush(reason: "missing body.name") }
            return (body, .customEvent(name: name))
        case "go_to_action":
            guard body["target"]?.objectValue != nil else { throw InvalidPush(reason: "missing body.target") }
            return (body, .goToAction)
        case "url_loaded_event":
            guard let url = body["url"]?.stringValue else { throw InvalidPush(reason: "missing body.url") }
            return (body, .urlLoaded(url: url))
        case "coordinates":
            guard let latitude = body["lat"]?.doubleValue, let longitude = body["long"]?.doubleValue else {
                throw InvalidPush(reason: "body.lat and body.long must be numbers")
            }
            return (body, .coordinates(latitude: latitude, longitude: longitude))
        default:
            return (body, .other(type: type))
        }
    }

    /// Text messages that steer the sandbox instead of being echoed (trimmed, case-insensitive).
    enum Command: String, Sendable, CaseIterable {
        case rich
        case takeControl = "take control"
        case releaseControl = "release control"
        /// No ack and no answer: the push times out (like the recorded server's `noreply`).
        case noReply = "noreply"
        /// An error reply `{"reason":"bad request"}`.
        case error
        /// Ack, then the channel is closed by the server (`phx_close`).
        case kick
        /// Ack and echo, then the whole socket is closed with 1000.
        case drop
        /// No ack: the channel "crashes" (`phx_error`) and is no longer joined.
        case crash
        /// Ack and echo, then a `binary_event` push with the raw bytes 01 02 03 ff (v1 cannot
        /// carry it: there, the channel crashes instead, as recorded).
        case binary

        init?(text: String) {
            self.init(rawValue: text.trimmingCharacters(in: .whitespacesAndNewlines).lowercased())
        }
    }

    // MARK: Server pushes

    /// The `interlocutor_reply` echo: the body as sent, plus when the server got it.
    static func echo(of body: JSONObject, at now: Date) -> JSONValue {
        var echoed = body
        echoed["timestamp"] = .string(iso8601(now))
        return .object(echoed)
    }

    /// A `control` event: `value` true when an agent takes over, false when the bot is back.
    static func control(_ value: Bool, at now: Date) -> JSONValue {
        ["at": .integer(wholeMilliseconds(now) / 1000), "value": .bool(value)]
    }

    static func agentReply(_ text: String) -> JSONValue {
        ["type": "text", "message": .string(text)]
    }

    /// The payload of the `binary_event` push.
    static let binaryEventPayload: [UInt8] = [0x01, 0x02, 0x03, 0xFF]

    static let agentGreeting = "Hello, I am an agent. How can I help?"
    static let botIsBack = "You are talking to the bot again."

    /// What the agent says to a text while it holds the conversation.
    static func agentAnswer(to text: String) -> String { "Agent: \(text)" }

    /// The bot's one-line answer to what the interlocutor sent (the recorded server's wording).
    static func echoText(for message: InterlocutorMessage) -> String {
        switch message {
        case .text(let text): "Echo: \(text)"
        case .customEvent(let name): "Echo: custom_event \(name)"
        case .goToAction: "Echo: go_to_action"
        case .urlLoaded(let url): "Echo: url_loaded_event \(url)"
        case .coordinates(let latitude, let longitude): "Echo: coordinates \(latitude),\(longitude)"
        case .other(let type): "Echo: \(type)"
        }
    }

    /// A bot reply holding one text action.
    static func textReply(_ text: String, input: JSONObject, interlocutorID: String) -> JSONValue {
        botReply(actions: [sendText(text)], input: input, interlocutorID: interlocutorID)
    }

    /// A bot reply `{fulfillment:{actions,source}, input, interlocutor, session}`.
    static func botReply(actions: [JSONValue], input: JSONObject, interlocutorID: String) -> JSONValue {
        [
            "fulfillment": [
                "actions": .array(actions),
                "source": [
                    "step": ["id": .string(sourceStepID), "name": .string(sourceStepName), "type": "step"],
                    "type": "step",
                ],
            ],
            "input": .object(input),
            "interlocutor": ["id": .string(interlocutorID), "type": "interlocutor"],
            "session": ["values": [:]],
        ]
    }

    static func sendText(_ text: String) -> JSONValue {
        ["alternatives": [.string(text)], "text": .string(text), "type": "send_text_action"]
    }

    // MARK: The "rich" reply: every client-rendered action (CLUSTAAR-PROTOCOL §7.1), every button
    // action (§7.2) and both target kinds (§7.3).

    static func stepTarget(_ id: String, _ name: String) -> JSONValue {
        ["type": "step", "id": .string(id), "name": .string(name)]
    }

    static func storyTarget(_ id: String, _ name: String) -> JSONValue {
        ["type": "story", "id": .string(id), "name": .string(name)]
    }

    static func goTo(_ target: JSONValue, sessionValues: JSONValue = .null) -> JSONValue {
        ["type": "go_to_action", "target": target, "sessionValues": sessionValues]
    }

    static func openURL(_ url: String) -> JSONValue { ["type": "open_url_action", "url": .string(url)] }

    static let richActionTypes = [
        "send_text_action", "send_image_action", "wait_action", "send_quick_replies_action", "send_cards_action",
        "send_simple_cards_action", "send_choices_list_action", "ask_location_action", "send_js_event_action",
        "customer_satisfaction_action", "ask_document_action", "pause_bot_action",
    ]

    static func richActions() -> [JSONValue] {
        let pricing = stepTarget("6a1f0a11c3d24e5f6a7b8c92", "Pricing")
        let support = storyTarget("6a1f0b22d4e35f6a7b8c9d01", "Support")
        let thanks = stepTarget("6a1f0a11c3d24e5f6a7b8c94", "Thanks")
        func quickReply(_ title: String, _ action: JSONValue) -> JSONValue {
            ["type": "quick_reply", "title": .string(title), "action": action]
        }
        func button(_ title: String, _ action: JSONValue, type: String = "button") -> JSONValue {
            ["type": .string(type), "title": .string(title), "action": action]
        }
        return [
            sendText("Here is everything I can show you"),
            ["type": "send_image_action", "imageURL": "https://example.com/cat.png", "alt": "A cat"],
            ["type": "wait_action", "duration": 1],
            [
                "type": "send_quick_replies_action",
                "message": "Pick one",
                "buttons": [
                    quickReply("Pricing", goTo(pricing)),
                    quickReply("Support", goTo(support, sessionValues: ["topic": "support"])),
                    quickReply("Docs", openURL("https://example.com/docs")),
                    quickReply("Share", ["type": "share_action"]),
                    quickReply(
                        "I don't know",
                        [
                            "type": "legacy_reply_to_message_action", "message": "I don't know",
                            "attachments": [["name": "notes", "url": "https://example.com/notes.txt"]],
                        ]),
                    quickReply(
                        "Rate us",
                        ["type": "customer_satisfaction_callback_action", "kind": "positive", "target": thanks]),
                ],
            ],
            [
                "type": "send_cards_action",
                "cards": [
                    [
                        "type": "card", "title": "Starter plan", "subtitle": "For small teams",
                        "alt": "Starter plan picture", "imageURL": "https://example.com/starter.png",
                        "url": "https://example.com/starter",
                        "buttons": [
                            button("Choose", goTo(pricing, sessionValues: ["plan": "starter"])),
                            button("Details", openURL("https://example.com/starter#details")),
                            button("Share", ["type": "share_action"]),
                        ],
                    ],
                    [
                        "type": "card", "title": "Business plan", "subtitle": nil, "alt": nil,
                        "imageURL": "", "url": "", "buttons": [button("Talk to sales", goTo(support))],
                    ],
                ],
            ],
            [
                "type": "send_simple_cards_action",
                "cards": [
                    [
                        "type": "simple_card", "title": "Our blog", "subtitle": "News and tips",
                        "imageURL": "https://example.com/blog.png",
                        "buttons": [button("Read", openURL("https://example.com/blog"), type: "open_url_button")],
                    ]
                ],
            ],
            [
                "type": "send_choices_list_action",
                "message": "Where do you live?",
                "placeholder": "Type a country",
                "action": goTo(stepTarget("6a1f0a11c3d24e5f6a7b8c91", "Country chosen")),
                "sections": [
                    [
                        "type": "section", "title": "Europe",
                        "choices": [
                            [
                                "type": "choice", "title": "France", "imageUrl": "https://example.com/fr.png",
                                "sessionValues": ["country": "FR"],
                            ],
                            ["type": "choice", "title": "Germany", "sessionValues": ["country": "DE"]],
                        ],
                    ],
                    [
                        "type": "section", "title": "Asia",
                        "choices": [["type": "choice", "title": "Japan", "sessionValues": ["country": "JP"]]],
                    ],
                ],
            ],
            [
                "type": "ask_location_action",
                "message": "Where are you?",
                "action": goTo(stepTarget("6a1f0a11c3d24e5f6a7b8c93", "Location received")),
            ],
            ["type": "send_js_event_action", "event": "open_form", "payload": ["formId": 42]],
            [
                "type": "customer_satisfaction_action",
                "message": "Was this helpful?",
                "choices": [
                    [
                        "type": "customer_satisfaction_choice", "kind": "positive", "label": "Yes",
                        "target": thanks,
                        "matchingIntent": ["type": "intent", "id": "6a1f0c33e5f46a7b8c9d0e11", "name": "yes"],
                    ],
                    [
                        "type": "customer_satisfaction_choice", "kind": "neutral", "label": "So-so",
                        "target": nil, "matchingIntent": nil,
                    ],
                    [
                        "type": "customer_satisfaction_choice", "kind": "negative", "label": "No",
                        "target": support, "matchingIntent": nil,
                    ],
                ],
            ],
            [
                "type": "ask_document_action",
                "message": "Please upload your documents.",
                "documents": [
                    [
                        "type": "asked_document", "message": "A scan of your ID card", "name": "id_card",
                        "authorizedFileTypes": ["image/png", "image/jpeg", "application/pdf"],
                    ]
                ],
            ],
            ["type": "pause_bot_action"],
        ]
    }

    // MARK: Time

    /// `2026-11-25T13:29:29.969Z`: UTC with milliseconds, as the recorded server writes them.
    static func iso8601(_ date: Date) -> String {
        let milliseconds = wholeMilliseconds(date)
        let (days, dayMilliseconds) = milliseconds.floorDivided(by: 86_400_000)
        let (year, month, day) = civilDate(daysSince1970: days)
        let seconds = dayMilliseconds / 1000
        func pad(_ value: Int64, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(seconds / 3600, 2)):"
            + "\(pad(seconds / 60 % 60, 2)):\(pad(seconds % 60, 2)).\(pad(dayMilliseconds % 1000, 3))Z"
    }

    /// Milliseconds since 1970, 0 for a date no clock gives (keeps the conversion from trapping).
    private static func wholeMilliseconds(_ date: Date) -> Int64 {
        let milliseconds = (date.timeIntervalSince1970 * 1000).rounded(.down)
        guard milliseconds.isFinite, abs(milliseconds) < 1e15 else { return 0 }
        return Int64(milliseconds)
    }

    /// Proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's civil_from_days).
    private static func civilDate(daysSince1970: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let (era, dayOfEra) = (daysSince1970 + 719_468).floorDivided(by: 146_097)
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }
}

extension Int64 {
    /// Quotient rounded toward minus infinity and a remainder in `0..<divisor`.
    fileprivate func floorDivided(by divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        let remainder = ((self % divisor) + divisor) % divisor
        return ((self - remainder) / divisor, remainder)
    }
}
