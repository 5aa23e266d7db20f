import ClustaarModels
import Foundation
import Testing

/// The other server → client fixtures, and the outbound ones, to the exact value of their
/// README row.
@Suite("Event and outbound fixtures")
struct EventFixtureTests {
    @Test func agentReply() throws {
        let reply = try Fixtures.value(AgentReply.self, "agent_reply.json")
        #expect(
            reply == AgentReply(type: "text", message: "Hello, I'm Julie from the support team. How can I help you?")
        )
    }

    @Test func controlTakenAndReleased() throws {
        let taken = try Fixtures.value(ControlChange.self, "control_taken.json")
        #expect(taken == ControlChange(control: true, at: .number(1_718_011_200)))
        let released = try Fixtures.value(ControlChange.self, "control_released.json")
        #expect(released == ControlChange(control: false, at: .number(1_718_014_800)))
        if case .number(let number) = released.at {
            #expect(number.int64Value == 1_718_014_800)
        }
    }

    @Test func controlAtAcceptsISOTextAndOddValues() throws {
        let text = try ClustaarEnvelope.decode(
            ControlChange.self,
            from: ArraySlice(#"{"at":"2024-06-10T09:15:42.123Z","value":true}"#.utf8)
        )
        let change = try #require(text.value)
        #expect(change.at == .text("2024-06-10T09:15:42.123Z"))
        let date = try #require(change.at?.date)
        #expect(abs(date.timeIntervalSince1970 - 1_718_010_942.123) < 0.000_5)
        let plain = ControlTimestamp.text("2024-06-10T09:15:42Z")
        #expect(plain.date?.timeIntervalSince1970 == 1_718_010_942)
        #expect(ControlTimestamp.text("yesterday").date == nil)
        let odd = try ClustaarEnvelope.decode(
            ControlChange.self, from: ArraySlice(#"{"at":{"s":1},"value":false}"#.utf8))
        #expect(odd == .value(ControlChange(control: false, at: .other(["s": 1]))))
        let none = try ClustaarEnvelope.decode(ControlChange.self, from: ArraySlice(#"{"at":null,"value":false}"#.utf8))
        #expect(none == .value(ControlChange(control: false, at: nil)))
        let fractional = try ClustaarEnvelope.decode(
            ControlChange.self, from: ArraySlice(#"{"at":1.5,"value":true}"#.utf8))
        #expect(fractional == .value(ControlChange(control: true, at: .number(1.5))))
    }

    @Test func inboundInterlocutorReplyEcho() throws {
        let body = try Fixtures.value(InterlocutorReplyBody.self, "interlocutor_reply_inbound.json")
        #expect(body == .text("Bonjour, je cherche un tarif 😀"))
    }

    @Test func joinReplyOk() throws {
        let reply = try ClustaarJSON.decode(JoinReply.self, from: Fixtures.bytes("join_reply_ok.json"))
        #expect(reply.outcome == .joined(JoinStatus(control: false)))
    }

    /// Join replies are read by hand in their usual shapes: every input gives what
    /// `JSONDecoder` gives (the `Data` entry point has no hand-written path), value or error.
    @Test func joinStatusReadByHandAsJSONDecoderReadsIt() throws {
        let inputs = [
            "null", " null ", "{}", "{ }", "\t{\r\n}\n", #"{"control":true}"#, #"{"control":false}"#,
            #" { "control" : true } "#, #"{"control":null}"#, #"{"control":"yes"}"#, #"{"control":1}"#,
            #"{"control":true,"x":1}"#, #"{"x":1}"#, #"{"contr\u006fl":true}"#, #"{"control":true}x"#,
            #"{"control":true"#, #"{"control":tru}"#, "nul", "", "[]", "{}}", #"{"control":truex}"#,
        ]
        for input in inputs {
            let bytes = ArraySlice(input.utf8)
            let byHand = Result { () throws(ClustaarDecodingError) in
                try ClustaarJSON.decode(JoinStatus.self, from: bytes)
            }
            let foundation = Result { () throws(ClustaarDecodingError) in
                try ClustaarJSON.decode(JoinStatus.self, from: Data(bytes))
            }
            #expect(byHand == foundation, "\(input)")
        }
        #expect(try ClustaarJSON.decode(JoinStatus.self, from: ArraySlice(#" { "control" : true } "#.utf8)).control)
    }

    @Test func joinStatusFromPhoenixReplyResponse() throws {
        #expect(
            try JoinOutcome.decode(status: "ok", response: ArraySlice(#"{"control":true}"#.utf8))
                == .joined(JoinStatus(control: true)))
        #expect(
            try JoinOutcome.decode(status: "ok", response: ArraySlice("{}".utf8)) == .joined(JoinStatus(control: false))
        )
        #expect(
            try JoinOutcome.decode(status: "ok", response: ArraySlice("null".utf8))
                == .joined(JoinStatus(control: false)))
        #expect(
            try JoinOutcome.decode(status: "ok", response: ArraySlice(#"{"control":null}"#.utf8))
                == .joined(JoinStatus(control: false))
        )
        #expect(
            try JoinOutcome.decode(status: "error", response: ArraySlice(#"{"reason":"unauthorized"}"#.utf8))
                == .rejected(status: "error", response: ["reason": "unauthorized"])
        )
        let missing = try ClustaarJSON.decode(JoinReply.self, from: ArraySlice(#"{"status":"ok"}"#.utf8))
        #expect(missing.outcome == .joined(JoinStatus(control: false)))
        #expect(throws: ClustaarDecodingError.self) {
            try JoinOutcome.decode(status: "ok", response: ArraySlice(#"{"control":"yes"}"#.utf8))
        }
    }

    @Test func joinParamsEncodeAsTheFixture() throws {
        let params = JoinParams(
            botID: "6a1f00c2b7e94d3a5c8e0f12",
            socketToken: "fixture-socket-token-not-a-real-secret",
            origin: "https://www.example.com/pricing",
            isLogged: false
        )
        #expect(try encodedJSON(params) == Fixtures.json("join_params.json"))
        #expect(try ClustaarJSON.decode(JoinParams.self, from: Fixtures.bytes("join_params.json")) == params)
        let bare = JoinParams(botID: "b", socketToken: "s")
        #expect(try encodedJSON(bare) == ["bot_id": "b", "socketToken": "s"])
    }

    /// Each outbound fixture is exactly what the encoder produces for its one-line reply, and
    /// decodes back to that reply.
    @Test(arguments: [
        (
            "interlocutor_reply_text.json",
            InterlocutorReply(
                token: FixtureID.token, body: .text("Bonjour, je cherche un tarif 😀"),
                channel: InterlocutorReplyParams.webChatChannel)
        ),
        (
            "interlocutor_reply_go_to.json",
            InterlocutorReply(
                token: FixtureID.token,
                body: .goTo(step: FixtureID.pricingStep, name: "Pricing", sessionValues: ["plan": "starter"]),
                channel: InterlocutorReplyParams.webChatChannel)
        ),
        (
            "interlocutor_reply_custom_event.json",
            InterlocutorReply(
                token: FixtureID.token, body: .customEvent(name: "cart_abandoned"),
                channel: InterlocutorReplyParams.webChatChannel)
        ),
        (
            "interlocutor_reply_url_loaded.json",
            InterlocutorReply(
                token: FixtureID.token, body: .urlLoaded(url: "https://www.example.com/pricing?utm_source=chat"),
                channel: InterlocutorReplyParams.webChatChannel)
        ),
        (
            "interlocutor_reply_coordinates.json",
            InterlocutorReply(
                token: FixtureID.token, body: .coordinates(latitude: 48.8566, longitude: 2.3522),
                channel: InterlocutorReplyParams.webChatChannel)
        ),
    ])
    func outboundReplyMatchesFixture(file: String, reply: InterlocutorReply) throws {
        #expect(try encodedJSON(reply) == Fixtures.json(file))
        #expect(try ClustaarJSON.decode(InterlocutorReply.self, from: Fixtures.bytes(file)) == reply)
    }

    @Test func outboundDefaults() throws {
        let text = InterlocutorReply(token: "t", body: .text("Hello"))
        #expect(
            try encodedJSON(text) == [
                "token": "t", "params": ["debug": 0, "display": true], "body": ["type": "text", "message": "Hello"],
            ]
        )
        let silent = InterlocutorReply(token: "t", body: .customEvent(name: "e"), debug: true)
        #expect(try encodedJSON(silent)["params"] == ["debug": 1, "display": false])
        #expect(InterlocutorReply(token: "t", body: .urlLoaded(url: "u")).params.display == false)
        #expect(InterlocutorReply(token: "t", body: .urlLoaded(url: "u"), display: true).params.display == true)
        // A button's go_to_action with no session values goes out as the server sent it.
        #expect(
            try encodedJSON(InterlocutorReplyBody.goTo(story: "s1"))
                == ["type": "go_to_action", "target": ["type": "story", "id": "s1"], "sessionValues": nil]
        )
    }

    @Test func choicesListPickCopiesTheChoiceSessionValues() throws {
        let reply = try Fixtures.value(BotReply.self, "bot_reply_rich.json")
        guard case .choicesList(let list) = reply.actions[6] else {
            Issue.record("action 6 should be a choices list")
            return
        }
        let body = list.reply(choosing: list.sections[0].choices[1])
        #expect(body == .goTo(step: FixtureID.step91, name: "Country chosen", sessionValues: ["country": "DE"]))
        let merged = GoToAction(target: .step(TargetReference(id: "x")), sessionValues: ["a": 1, "country": "FR"])
            .addingSessionValues(["country": "DE"])
        #expect(merged.sessionValues == ["a": 1, "country": "DE"])
    }

    @Test func everyFixtureFileIsCovered() throws {
        let valid: Set<String> = [
            "agent_reply.json", "bot_reply_cards.json", "bot_reply_debug.json", "bot_reply_error.json",
            "bot_reply_quick_replies.json", "bot_reply_rich.json", "bot_reply_text.json",
            "bot_reply_unknown_action.json", "control_released.json", "control_taken.json",
            "interlocutor_reply_coordinates.json", "interlocutor_reply_custom_event.json",
            "interlocutor_reply_go_to.json", "interlocutor_reply_inbound.json", "interlocutor_reply_text.json",
            "interlocutor_reply_url_loaded.json", "join_params.json", "join_reply_ok.json", "EXPECTED.json",
        ]
        let covered = valid.union(InvalidFixtureTests.cases.map(\.file))
        let files = try Fixtures.allFileNames()
        #expect(files.count >= 37)
        #expect(Set(files).subtracting(covered).sorted() == [], "fixtures without a test")
        #expect(covered.subtracting(files).sorted() == [], "tests without a fixture")
    }
}
