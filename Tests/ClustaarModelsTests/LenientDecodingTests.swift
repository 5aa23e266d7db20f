import ClustaarModels
import Testing

/// What the decoder tolerates (protocol §7 rules 3–6, §8) and what it does not coerce.
@Suite("Lenient decoding")
struct LenientDecodingTests {
    func actions(_ json: String) throws -> [BotAction] {
        let reply = try ClustaarEnvelope.decode(
            BotReply.self, from: ArraySlice(#"{"fulfillment":{"actions":[\#(json)]}}"#.utf8))
        return try #require(reply.value).actions
    }

    @Test func extraKeysAreIgnoredEverywhere() throws {
        let decoded = try actions(
            #"""
            {"type":"send_quick_replies_action","message":"m","selected":2,"extra":{"a":[1]},
             "buttons":[{"type":"quick_reply","title":"t","color":"red",
               "action":{"type":"go_to_action","target":{"type":"step","id":"s","name":null,"x":1},"later":true}}]},
            {"type":"send_js_event_action","event":"e","isPublished":true},
            {"type":"wait_action","duration":1,"unit":"s"}
            """#
        )
        #expect(
            decoded == [
                .quickReplies(
                    SendQuickRepliesAction(
                        message: "m",
                        buttons: [
                            QuickReply(
                                title: "t",
                                action: .goTo(GoToAction(target: .step(TargetReference(id: "s"))))
                            )
                        ]
                    )
                ),
                .jsEvent(SendJSEventAction(event: "e")),
                .wait(WaitAction(duration: 1)),
            ]
        )
    }

    @Test func simpleCardsAcceptTheWebchatDemoShape() throws {
        let decoded = try actions(
            #"""
            {"type":"send_simple_cards_action","cards":[
              {"type":"card","title":"T","url":"https://u","alt":"A","buttons":null},
              {"title":"U"}]}
            """#
        )
        #expect(
            decoded == [
                .simpleCards(
                    SendSimpleCardsAction(cards: [
                        SimpleCard(title: "T", url: "https://u", alt: "A"), SimpleCard(title: "U"),
                    ])
                )
            ]
        )
    }

    @Test func stringsAreKeptVerbatim() throws {
        let text = #"&lt;script&gt; a & b <b>bold</b>  **basic_obfuscation_of_email_address** \n"#
        let decoded = try actions(
            #"{"type":"send_text_action","alternatives":["  &lt;script&gt; a & b <b>bold</b>  **basic_obfuscation_of_email_address** \\n "]}"#
        )
        #expect(decoded == [.text(SendTextAction(alternatives: ["  \(text) "]))])
        #expect(SendTextAction(alternatives: ["x", "y"]).displayText == "x")
        #expect(SendTextAction(alternatives: ["x"], text: "y").displayText == "y")
    }

    @Test func limitsAreNotEnforced() throws {
        let decoded = try actions(
            #"""
            {"type":"wait_action","duration":60},
            {"type":"send_text_action","alternatives":[]},
            {"type":"customer_satisfaction_action","message":"","choices":[{"kind":"delighted","label":""}]}
            """#
        )
        #expect(
            decoded == [
                .wait(WaitAction(duration: 60)),
                .text(SendTextAction(alternatives: [])),
                .customerSatisfaction(
                    CustomerSatisfactionAction(message: "", choices: [SatisfactionChoice(kind: "delighted", label: "")])
                ),
            ]
        )
    }

    @Test func noCoercion() throws {
        for (json, path, expected) in [
            (#"{"type":"wait_action","duration":true}"#, "duration", "number"),
            (#"{"type":"send_text_action","alternatives":[1]}"#, "alternatives[0]", "string"),
            (#"{"type":"send_text_action","alternatives":"a"}"#, "alternatives", "array"),
            (
                #"{"type":"send_cards_action","cards":[{"title":"t","buttons":[{"title":"b","action":"go"}]}]}"#,
                "cards[0].buttons[0].action", "object"
            ),
            (
                #"{"type":"ask_location_action","message":"m","action":{"type":"go_to_action","target":{"id":"x"}}}"#,
                "action.target.type", ""
            ),
        ] {
            let error = try #require(throws: ClustaarDecodingError.self) { try actions(json) }
            #expect(error.path == "fulfillment.actions[0].\(path)", "\(json)")
            if !expected.isEmpty {
                #expect(error.kind == .typeMismatch(expected: expected), "\(json)")
            } else {
                #expect(error.kind == .missingValue, "\(json)")
            }
        }
    }

    @Test func actionsMayBeEmptyAndOptionalPartsNull() throws {
        let reply = try ClustaarEnvelope.decode(
            BotReply.self,
            from: ArraySlice(
                #"{"debug":null,"fulfillment":{"actions":[],"source":null},"input":null,"interlocutor":null,"session":{"values":null}}"#
                    .utf8
            )
        )
        #expect(reply == .value(BotReply(fulfillment: Fulfillment(actions: []), session: BotSession(values: [:]))))
        #expect(reply.value?.inputBody == nil)
    }
}
