import ClustaarModels
import Testing

/// Every `bot_reply_*` fixture decodes to the exact value its README row describes.
@Suite("Bot reply fixtures")
struct BotReplyFixtureTests {
    let interlocutor = Interlocutor(fields: ["type": "interlocutor", "id": .string(FixtureID.interlocutor)])

    func step(_ id: String, _ name: String) -> Target { .step(TargetReference(id: id, name: name)) }

    func source(_ id: String, _ name: String) -> FulfillmentSource {
        FulfillmentSource(type: "step_actions", step: TargetReference(id: id, name: name))
    }

    @Test func textReplyInStatus200Envelope() throws {
        let reply = try Fixtures.value(BotReply.self, "bot_reply_text.json")
        let expected = BotReply(
            fulfillment: Fulfillment(
                actions: [
                    .text(
                        SendTextAction(
                            alternatives: ["Hello! I am Clustaar's assistant.", "Hi there, how can I help?"],
                            text: "Hello! I am Clustaar's assistant."
                        )
                    )
                ],
                source: source(FixtureID.welcomeStep, "Welcome")
            ),
            input: ["type": "text", "message": "hello"],
            interlocutor: interlocutor,
            session: BotSession(values: [:])
        )
        #expect(reply == expected)
        #expect(reply.debug == nil)
        #expect(reply.interlocutor?.id == FixtureID.interlocutor)
        #expect(reply.inputBody == .text("hello"))
        #expect(reply.fulfillment.source?.step?.name == "Welcome")
    }

    @Test func richReplyHasEveryClientActionInOrder() throws {
        let reply = try Fixtures.value(BotReply.self, "bot_reply_rich.json")
        let expected: [BotAction] = [
            .text(
                SendTextAction(
                    alternatives: ["Hello! I am Clustaar's assistant.", "Hi there, how can I help?"],
                    text: "Hello! I am Clustaar's assistant."
                )
            ),
            .image(SendImageAction(imageURL: "https://cdn.example.com/bot/welcome.png", alt: "A robot waving")),
            .wait(WaitAction(duration: 1.5)),
            .quickReplies(
                SendQuickRepliesAction(
                    message: "What would you like to do?",
                    buttons: [
                        QuickReply(
                            title: "See pricing",
                            action: .goTo(GoToAction(target: step(FixtureID.pricingStep, "Pricing")))
                        ),
                        QuickReply(
                            title: "Talk to support",
                            action: .goTo(
                                GoToAction(
                                    target: .story(TargetReference(id: "6a1f0b22d4e35f6a7b8c9d01", name: "Support")),
                                    sessionValues: ["topic": "support"]
                                )
                            )
                        ),
                        QuickReply(
                            title: "Open the docs",
                            action: .openURL(OpenURLAction(url: "https://docs.example.com/start"))
                        ),
                    ]
                )
            ),
            .cards(SendCardsAction(cards: [starterCard, businessCard])),
            .simpleCards(
                SendSimpleCardsAction(cards: [
                    SimpleCard(
                        title: "Our blog",
                        subtitle: "News and tips",
                        imageURL: "https://cdn.example.com/blog/cover.jpg",
                        buttons: [
                            CardButton(title: "Read", action: .openURL(OpenURLAction(url: "https://blog.example.com/")))
                        ]
                    ),
                    SimpleCard(
                        title: "Help center",
                        subtitle: nil,
                        imageURL: "",
                        buttons: [
                            CardButton(
                                title: "Visit", action: .openURL(OpenURLAction(url: "https://help.example.com/")))
                        ]
                    ),
                ])
            ),
            .choicesList(
                SendChoicesListAction(
                    message: "Which country do you live in?",
                    placeholder: "Type a country",
                    sections: [
                        ChoicesSection(
                            title: "Europe",
                            choices: [
                                Choice(
                                    title: "France",
                                    imageURL: "https://cdn.example.com/flags/fr.png",
                                    sessionValues: ["country": "FR"]
                                ),
                                Choice(
                                    title: "Germany",
                                    imageURL: "https://cdn.example.com/flags/de.png",
                                    sessionValues: ["country": "DE"]
                                ),
                            ]
                        ),
                        ChoicesSection(
                            title: "Asia",
                            choices: [Choice(title: "Japan", sessionValues: ["country": "JP"])]
                        ),
                    ],
                    action: GoToAction(target: step(FixtureID.step91, "Country chosen"))
                )
            ),
            .askLocation(
                AskLocationAction(
                    message: "Can you share your location to find the nearest shop?",
                    action: GoToAction(target: step(FixtureID.step93, "Location received"))
                )
            ),
            .jsEvent(SendJSEventAction(event: "open_cart", payload: ["cartId": "c-1029", "items": 3])),
            .customerSatisfaction(
                CustomerSatisfactionAction(
                    message: "Was this conversation helpful?",
                    choices: [
                        SatisfactionChoice(
                            kind: .positive,
                            label: "Yes",
                            target: step(FixtureID.planChosenStep, "Thanks"),
                            matchingIntent: IntentReference(id: "6a1f0c33e5f46a7b8c9d0e11", name: "yes")
                        ),
                        SatisfactionChoice(kind: .neutral, label: "So-so", target: nil, matchingIntent: nil),
                        SatisfactionChoice(
                            kind: .negative,
                            label: "No",
                            target: step(FixtureID.step95, "Sorry"),
                            matchingIntent: IntentReference(id: "6a1f0c33e5f46a7b8c9d0e12", name: "no")
                        ),
                    ]
                )
            ),
            .askDocument(
                AskDocumentAction(
                    message: "Please upload your documents.",
                    documents: [
                        AskedDocument(
                            message: "A scan of your ID card",
                            name: "id_card",
                            authorizedFileTypes: ["image/png", "image/jpeg", "application/pdf"]
                        ),
                        AskedDocument(message: "", name: "proof_of_address", authorizedFileTypes: ["application/pdf"]),
                    ]
                )
            ),
            .pauseBot(PauseBotAction()),
        ]
        #expect(reply.actions.count == 12)
        for (index, pair) in zip(reply.actions, expected).enumerated() {
            #expect(pair.0 == pair.1, "action \(index)")
        }
        #expect(reply.actions == expected)
        #expect(
            reply.actions.map(\.typeName) == [
                "send_text_action", "send_image_action", "wait_action", "send_quick_replies_action",
                "send_cards_action", "send_simple_cards_action", "send_choices_list_action", "ask_location_action",
                "send_js_event_action", "customer_satisfaction_action", "ask_document_action", "pause_bot_action",
            ]
        )
        #expect(reply.session == BotSession(values: ["plan": "starter", "visits": "3"]))
        #expect(reply.fulfillment.source == source(FixtureID.welcomeStep, "Welcome"))
        #expect(reply.inputBody == .text("show me everything"))
    }

    var starterCard: Card {
        Card(
            title: "Starter plan",
            subtitle: "For small teams",
            alt: "Starter plan illustration",
            imageURL: "https://cdn.example.com/plans/starter.png",
            url: "https://www.example.com/plans/starter",
            buttons: [
                CardButton(
                    title: "Choose Starter",
                    action: .goTo(
                        GoToAction(
                            target: step(FixtureID.planChosenStep, "Plan chosen"),
                            sessionValues: ["plan": "starter"]
                        )
                    )
                ),
                CardButton(
                    title: "Details",
                    action: .openURL(OpenURLAction(url: "https://www.example.com/plans/starter#details"))
                ),
            ]
        )
    }

    var businessCard: Card {
        Card(
            title: "Business plan",
            subtitle: "Unlimited bots",
            alt: nil,
            imageURL: "https://cdn.example.com/plans/business.png",
            url: "",
            buttons: [
                CardButton(
                    title: "Choose Business",
                    action: .goTo(
                        GoToAction(
                            target: step(FixtureID.planChosenStep, "Plan chosen"),
                            sessionValues: ["plan": "business"]
                        )
                    )
                ),
                CardButton(title: "Share", action: .share(ShareAction())),
            ]
        )
    }

    @Test func quickRepliesInBareEnvelope() throws {
        let reply = try Fixtures.value(BotReply.self, "bot_reply_quick_replies.json")
        let expected: [BotAction] = [
            .text(
                SendTextAction(
                    alternatives: ["Sure, let's look at your order."],
                    text: "Sure, let's look at your order."
                )
            ),
            .wait(WaitAction(duration: 2.0)),
            .quickReplies(
                SendQuickRepliesAction(
                    message: "Is it about an existing order?",
                    buttons: [
                        QuickReply(
                            title: "Yes",
                            action: .goTo(
                                GoToAction(
                                    target: .story(
                                        TargetReference(id: "6a1f0b22d4e35f6a7b8c9d02", name: "Order follow-up")
                                    ),
                                    sessionValues: ["has_order": "yes"]
                                )
                            )
                        ),
                        QuickReply(
                            title: "No",
                            action: .goTo(GoToAction(target: step(FixtureID.step91, "Main menu"), sessionValues: nil))
                        ),
                        QuickReply(
                            title: "I don't know",
                            action: .legacyReply(LegacyReplyToMessageAction(message: "I don't know"))
                        ),
                    ]
                )
            ),
        ]
        #expect(reply.actions == expected)
        #expect(reply.fulfillment.source == source(FixtureID.step91, "Order question"))
        #expect(reply.input == ["type": "text", "message": "where is my order"])
        #expect(reply.session == BotSession(values: [:]))
    }

    @Test func cardsInBodyEnvelopeWithGoToInput() throws {
        let reply = try Fixtures.value(BotReply.self, "bot_reply_cards.json")
        let enterprise = Card(
            title: "Enterprise plan",
            subtitle: nil,
            alt: nil,
            imageURL: nil,
            url: "https://www.example.com/plans/enterprise",
            buttons: []
        )
        #expect(reply.actions == [.cards(SendCardsAction(cards: [starterCard, businessCard, enterprise]))])
        guard case .cards(let cards) = try #require(reply.actions.first) else {
            Issue.record("expected cards")
            return
        }
        #expect(
            cards.cards.flatMap(\.buttons).map(\.action.typeName) == [
                "go_to_action", "open_url_action", "go_to_action", "share_action",
            ]
        )
        #expect(reply.inputBody == .goTo(step: FixtureID.pricingStep, name: "Pricing"))
        #expect(reply.fulfillment.source == source(FixtureID.pricingStep, "Pricing"))
        #expect(reply.interlocutor == interlocutor)
    }

    @Test func debugBlock() throws {
        let reply = try Fixtures.value(BotReply.self, "bot_reply_debug.json")
        #expect(
            reply.actions == [
                .text(
                    SendTextAction(
                        alternatives: ["Our plans start at 49 EUR per month."],
                        text: "Our plans start at 49 EUR per month."
                    )
                )
            ]
        )
        let expected = BotReplyDebug(
            intentDetections: [
                IntentDetection(
                    query: "how much does it cost?",
                    results: [
                        IntentDetectionResult(
                            intent: IntentReference(id: "6a1f0c33e5f46a7b8c9d0e12", name: "pricing"),
                            score: 0.9231,
                            parameters: [.init(name: "currency", value: "EUR")]
                        ),
                        IntentDetectionResult(
                            intent: IntentReference(id: "6a1f0c33e5f46a7b8c9d0e11", name: "greetings"),
                            score: 0.0412,
                            parameters: []
                        ),
                    ]
                )
            ],
            webhookCalls: [
                WebhookCall(
                    request: .init(
                        method: "POST",
                        url: "https://hooks.example.com/clustaar",
                        body: #"{"type":"notification_event"}"#
                    ),
                    response: .init(status: 200, body: #"{"actions":[]}"#),
                    error: nil
                )
            ],
            logs: [DebugLog(level: "info", message: "step Pricing reached", createdAt: "2024-06-10T09:15:42.123Z")]
        )
        #expect(reply.debug == expected)
        #expect(reply.session?.values == ["last_intent": "pricing"])
    }

    @Test func unknownActionsKeepTypeAndRawJSON() throws {
        let reply = try Fixtures.value(BotReply.self, "bot_reply_unknown_action.json")
        #expect(
            reply.actions.map(\.typeName) == [
                "send_text_action", "store_session_value_action", "send_email_action", "send_video_action",
                "wait_action",
            ]
        )
        #expect(
            reply.actions.first
                == .text(SendTextAction(alternatives: ["I have noted your e-mail."], text: "I have noted your e-mail."))
        )
        #expect(reply.actions.last == .wait(WaitAction(duration: 1)))
        let storeRaw: JSONObject = [
            "type": "store_session_value_action", "key": "email", "value": "jane@example.com", "add": false,
            "isInt": false,
        ]
        #expect(reply.actions[1] == .unknown(try #require(UnknownObject(raw: storeRaw))))
        let emailRaw: JSONObject = [
            "type": "send_email_action", "recipient": "sales@example.com", "subject": "New lead",
            "content": "A new lead arrived.", "fromEmail": nil, "fromName": "Bot", "replyToEmail": nil,
            "replyToName": nil, "userAttachments": false,
        ]
        #expect(reply.actions[2] == .unknown(try #require(UnknownObject(raw: emailRaw))))
        guard case .unknown(let video) = reply.actions[3] else {
            Issue.record("send_video_action should be unknown, got \(reply.actions[3])")
            return
        }
        #expect(video.type == "send_video_action")
        #expect(video.raw["poster"]?["url"] == "https://cdn.example.com/intro.jpg")
        #expect(video.raw["autoplay"] == true)
        #expect(video.raw["videoURL"] == "https://cdn.example.com/intro.mp4")
        // Re-encoding an unknown action gives the original object back.
        let original = try Fixtures.json("bot_reply_unknown_action.json")
        let originalActions = try #require(original["body"]?["data"]?["fulfillment"]?["actions"]?.arrayValue)
        for index in 1...3 {
            #expect(try encodedJSON(reply.actions[index]) == originalActions[index])
        }
    }

    @Test func errorStatusIsAServerErrorNotADecodeFailure() throws {
        let content = try ClustaarEnvelope.decode(BotReply.self, from: Fixtures.bytes("bot_reply_error.json"))
        #expect(
            content
                == .serverError(
                    ClustaarServerError(status: 422, error: ["type": "invalid_request", "message": "token is invalid"])
                )
        )
    }
}
