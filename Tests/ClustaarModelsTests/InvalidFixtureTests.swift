import ClustaarModels
import Testing

/// Every `invalid/` fixture fails with a typed error that names the faulty path (from the
/// root of the payload bytes).
@Suite("Invalid fixtures")
struct InvalidFixtureTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let file: String
        let kind: ClustaarDecodingError.Kind
        let path: String
        let decode: @Sendable (ArraySlice<UInt8>) throws -> Void

        var testDescription: String { file }
    }

    static func botReply(_ file: String, _ kind: ClustaarDecodingError.Kind, _ path: String) -> Case {
        Case(file: "invalid/\(file)", kind: kind, path: path) {
            _ = try ClustaarEnvelope.decode(BotReply.self, from: $0)
        }
    }

    static let actionsPath = "body.data.fulfillment.actions"

    static let cases: [Case] = [
        botReply("bot_reply_missing_fulfillment.json", .missingValue, "body.data.fulfillment"),
        botReply("bot_reply_missing_actions.json", .missingValue, actionsPath),
        botReply("bot_reply_text_missing_alternatives.json", .missingValue, "\(actionsPath)[0].alternatives"),
        botReply("bot_reply_quick_reply_missing_action.json", .missingValue, "\(actionsPath)[0].buttons[0].action"),
        botReply(
            "bot_reply_wait_duration_string.json", .typeMismatch(expected: "number"), "\(actionsPath)[0].duration"),
        botReply("bot_reply_image_url_number.json", .typeMismatch(expected: "string"), "\(actionsPath)[0].imageURL"),
        botReply("bot_reply_actions_not_array.json", .typeMismatch(expected: "array"), actionsPath),
        botReply("bot_reply_action_without_type.json", .missingValue, "\(actionsPath)[0].type"),
        botReply("bot_reply_action_type_not_string.json", .typeMismatch(expected: "string"), "\(actionsPath)[0].type"),
        botReply("bot_reply_status_200_without_data.json", .missingValue, "body.data"),
        botReply("bot_reply_top_level_array.json", .typeMismatch(expected: "object"), ""),
        botReply("bot_reply_truncated.json", .invalidJSON, ""),
        botReply("bot_reply_empty_file.json", .invalidJSON, ""),
        Case(file: "invalid/agent_reply_message_number.json", kind: .typeMismatch(expected: "string"), path: "message")
        {
            _ = try ClustaarEnvelope.decode(AgentReply.self, from: $0)
        },
        Case(file: "invalid/control_value_string.json", kind: .typeMismatch(expected: "bool"), path: "value") {
            _ = try ClustaarEnvelope.decode(ControlChange.self, from: $0)
        },
        Case(file: "invalid/control_missing_value.json", kind: .missingValue, path: "value") {
            _ = try ClustaarEnvelope.decode(ControlChange.self, from: $0)
        },
        Case(
            file: "invalid/interlocutor_reply_missing_token.json",
            kind: .missingValue,
            path: "token"
        ) { _ = try ClustaarJSON.decode(InterlocutorReply.self, from: $0) },
        Case(
            file: "invalid/interlocutor_reply_debug_bool.json",
            kind: .typeMismatch(expected: "number"),
            path: "params.debug"
        ) { _ = try ClustaarJSON.decode(InterlocutorReply.self, from: $0) },
    ]

    @Test(arguments: cases)
    func failsWithPath(_ testCase: Case) throws {
        let bytes = try Fixtures.bytes(testCase.file)
        let error = try #require(throws: ClustaarDecodingError.self) { try testCase.decode(bytes) }
        #expect(error.kind == testCase.kind)
        #expect(error.path == testCase.path)
    }

    @Test func errorDescriptionsNameThePath() throws {
        let bytes = try Fixtures.bytes("invalid/bot_reply_quick_reply_missing_action.json")
        let error = try #require(throws: ClustaarDecodingError.self) {
            try ClustaarEnvelope.decode(BotReply.self, from: bytes)
        }
        #expect(error.description == "body.data.fulfillment.actions[0].buttons[0].action: missing or null")
        #expect(
            error.codingPath == [
                .key("body"), .key("data"), .key("fulfillment"), .key("actions"), .index(0), .key("buttons"),
                .index(0), .key("action"),
            ]
        )
    }

    @Test func debugOtherThanZeroOrOneIsRejected() throws {
        let json = #"{"token":"t","params":{"debug":2,"display":true},"body":{"type":"text","message":"hi"}}"#
        let error = try #require(throws: ClustaarDecodingError.self) {
            try ClustaarJSON.decode(InterlocutorReply.self, from: ArraySlice(json.utf8))
        }
        #expect(error.kind == .invalidValue)
        #expect(error.path == "params.debug")
    }

    @Test func bareReplyPathsStartAtFulfillment() throws {
        let json =
            #"{"fulfillment":{"actions":[{"type":"wait_action"},{"type":"send_cards_action","cards":[{"title":"A","buttons":[{"title":5}]}]}]}}"#
        let error = try #require(throws: ClustaarDecodingError.self) {
            try ClustaarEnvelope.decode(BotReply.self, from: ArraySlice(json.utf8))
        }
        #expect(error.path == "fulfillment.actions[0].duration")
        let cards =
            #"{"fulfillment":{"actions":[{"type":"send_cards_action","cards":[{"title":"A","buttons":[{"title":5}]}]}]}}"#
        let cardError = try #require(throws: ClustaarDecodingError.self) {
            try ClustaarEnvelope.decode(BotReply.self, from: ArraySlice(cards.utf8))
        }
        #expect(cardError.path == "fulfillment.actions[0].cards[0].buttons[0].title")
        #expect(cardError.kind == .typeMismatch(expected: "string"))
    }
}
