import ClustaarModels
import Testing

/// encode → decode gives the same value back, for every type.
@Suite("Round trips")
struct RoundTripTests {
    static let unknownRaw: JSONObject = ["type": "future_thing", "n": 1.25, "list": [true, nil], "nested": ["k": "v"]]
    static let unknown = UnknownObject(raw: unknownRaw)!

    static let targets: [Target] = [
        .step(TargetReference(id: "6a1f0a11c3d24e5f6a7b8c90", name: "Welcome")),
        .story(TargetReference(id: "6a1f0b22d4e35f6a7b8c9d01")),
        .unknown(UnknownObject(raw: ["type": "actions_block", "id": "ab"])!),
    ]

    static let buttonActions: [ButtonAction] = [
        .goTo(GoToAction(target: targets[0], sessionValues: ["plan": "starter", "n": 3])),
        .goTo(GoToAction(target: targets[1])),
        .goTo(GoToAction(target: targets[2])),
        .openURL(OpenURLAction(url: "https://example.com/a?b=c&d=/e")),
        .share(ShareAction()),
        .legacyReply(LegacyReplyToMessageAction(message: "m")),
        .legacyReply(
            LegacyReplyToMessageAction(message: "m", attachments: [.init(name: "file_1", url: "https://x/y.pdf")])
        ),
        .satisfactionCallback(CustomerSatisfactionCallbackAction(kind: .negative, target: targets[0])),
        .satisfactionCallback(CustomerSatisfactionCallbackAction(kind: "ecstatic")),
        .unknown(unknown),
    ]

    static let actions: [BotAction] = [
        .text(SendTextAction(alternatives: ["a", "b"], text: "a")),
        .text(SendTextAction(alternatives: ["<b>x</b> &amp; **basic_obfuscation_of_email_address**"])),
        .image(SendImageAction(imageURL: "https://x/i.png")),
        .image(SendImageAction(imageURL: "https://x/i.png", alt: "alt")),
        .quickReplies(
            SendQuickRepliesAction(
                message: "line 1\nline 2",
                buttons: buttonActions.enumerated().map { QuickReply(title: "b\($0.offset)", action: $0.element) }
            )
        ),
        .cards(
            SendCardsAction(cards: [
                Card(title: "t"),
                Card(
                    title: "t",
                    subtitle: "s",
                    alt: "a",
                    imageURL: "",
                    url: "u",
                    buttons: buttonActions.map { CardButton(title: "c", action: $0) }
                ),
            ])
        ),
        .simpleCards(
            SendSimpleCardsAction(cards: [
                SimpleCard(title: "t"),
                SimpleCard(
                    title: "t",
                    subtitle: "s",
                    imageURL: "i",
                    url: "u",
                    alt: "a",
                    buttons: [CardButton(title: "o", action: buttonActions[3])]
                ),
            ])
        ),
        .choicesList(
            SendChoicesListAction(
                message: nil,
                placeholder: "p",
                sections: [
                    ChoicesSection(choices: [Choice(title: "c")]),
                    ChoicesSection(
                        title: "s",
                        choices: [Choice(title: "c", imageURL: "i", sessionValues: ["country": "FR"])]
                    ),
                ],
                action: GoToAction(target: targets[0])
            )
        ),
        .wait(WaitAction(duration: 0.5)),
        .wait(WaitAction(duration: 60)),
        .askLocation(AskLocationAction(message: "where?", action: GoToAction(target: targets[1]))),
        .jsEvent(SendJSEventAction(event: "e")),
        .jsEvent(SendJSEventAction(event: "e", payload: ["deep": [["x": [1, 2.5, "3"]]]])),
        .pauseBot(PauseBotAction()),
        .customerSatisfaction(
            CustomerSatisfactionAction(
                message: "ok?",
                choices: [
                    SatisfactionChoice(kind: .positive, label: "", target: targets[0], matchingIntent: .init(id: "i")),
                    SatisfactionChoice(kind: "other", label: "meh"),
                ]
            )
        ),
        .askDocument(
            AskDocumentAction(
                message: "",
                documents: [AskedDocument(message: "m", name: "n", authorizedFileTypes: ["application/pdf"])]
            )
        ),
        .unknown(unknown),
    ]

    static let bodies: [InterlocutorReplyBody] = [
        .text("Bonjour 😀"),
        .customEvent(name: "cart_abandoned"),
        .goTo(step: "s", name: "n", sessionValues: ["a": "b"]),
        .goTo(story: "s"),
        .urlLoaded(url: "https://www.example.com/p?q=1"),
        .coordinates(latitude: -33.8688, longitude: 151.2093),
        .unknown(unknown),
    ]

    @Test(arguments: targets)
    func target(_ value: Target) throws {
        #expect(try roundTrip(value) == value)
    }

    @Test(arguments: buttonActions)
    func buttonAction(_ value: ButtonAction) throws {
        #expect(try roundTrip(value) == value)
        #expect(try encodedJSON(value)["type"] == .string(value.typeName))
    }

    @Test(arguments: actions)
    func botAction(_ value: BotAction) throws {
        #expect(try roundTrip(value) == value)
        #expect(try encodedJSON(value)["type"] == .string(value.typeName))
    }

    @Test(arguments: bodies)
    func interlocutorReplyBody(_ value: InterlocutorReplyBody) throws {
        #expect(try roundTrip(value) == value)
        let reply = InterlocutorReply(token: "t", body: value, debug: true, channel: "c")
        #expect(try roundTrip(reply) == reply)
    }

    @Test func unknownEncodesToItsRawObject() throws {
        #expect(try encodedJSON(BotAction.unknown(Self.unknown)) == .object(Self.unknownRaw))
        #expect(try encodedJSON(InterlocutorReplyBody.unknown(Self.unknown)) == .object(Self.unknownRaw))
        #expect(UnknownObject(raw: ["no": "type"]) == nil)
        #expect(UnknownObject(raw: ["type": 3]) == nil)
    }

    @Test func fullBotReply() throws {
        let reply = BotReply(
            fulfillment: Fulfillment(
                actions: Self.actions,
                source: FulfillmentSource(type: "story_fallback_actions", step: TargetReference(id: "x"))
            ),
            debug: BotReplyDebug(
                intentDetections: [
                    IntentDetection(
                        query: "q",
                        results: [
                            IntentDetectionResult(
                                intent: IntentReference(id: "i", name: "n"),
                                score: 0.5,
                                parameters: [.init(name: "p", value: 3)]
                            )
                        ]
                    )
                ],
                webhookCalls: [
                    WebhookCall(
                        request: .init(method: "GET", url: "u", body: ["a": 1]),
                        response: .init(status: 500, body: "x"),
                        error: "timeout"
                    )
                ],
                logs: [DebugLog(level: "error", message: "m", createdAt: "2024-01-01T00:00:00Z")]
            ),
            input: ["type": "text", "message": "hi"],
            interlocutor: Interlocutor(fields: ["type": "interlocutor", "id": "abc", "isLogged": true]),
            session: BotSession(values: ["visits": 3, "plan": "starter"])
        )
        #expect(try roundTrip(reply) == reply)
        #expect(
            try roundTrip(BotReply(fulfillment: Fulfillment(actions: [])))
                == BotReply(fulfillment: Fulfillment(actions: [])))
        #expect(try roundTrip(BotReplyDebug()) == BotReplyDebug())
    }

    @Test func everyFixtureReplyRoundTrips() throws {
        for file in [
            "bot_reply_text.json", "bot_reply_rich.json", "bot_reply_quick_replies.json", "bot_reply_cards.json",
            "bot_reply_debug.json", "bot_reply_unknown_action.json",
        ] {
            let reply = try Fixtures.value(BotReply.self, file)
            #expect(try roundTrip(reply) == reply, "\(file)")
        }
    }

    @Test func eventsAndJoin() throws {
        let values: [ControlChange] = [
            ControlChange(control: true, at: .number(1_718_011_200)),
            ControlChange(control: false, at: .number(1.5)),
            ControlChange(control: true, at: .text("2024-06-10T09:15:42Z")),
            ControlChange(control: true, at: .other([1, 2])),
            ControlChange(control: false),
        ]
        for value in values {
            #expect(try roundTrip(value) == value)
        }
        #expect(try roundTrip(AgentReply(message: "<p>Hi</p>")) == AgentReply(message: "<p>Hi</p>"))
        let params = JoinParams(botID: "b", socketToken: "s", origin: "o", isLogged: true)
        #expect(try roundTrip(params) == params)
        for outcome in [JoinOutcome.joined(JoinStatus(control: true)), .rejected(status: "error", response: ["r": 1])] {
            #expect(try roundTrip(JoinReply(outcome: outcome)).outcome == outcome)
        }
        #expect(try roundTrip(JoinStatus(control: true)) == JoinStatus(control: true))
        let server = ClustaarServerError(status: 422, error: ["m": "x"])
        #expect(server.status == 422)
    }
}
