import ClustaarModels
import Testing

/// Checks every entry of the fixtures' machine-readable `EXPECTED.json` (result kind, action
/// and button action types, error payloads, body kinds), so a fixture added there is checked
/// here too.
@Suite("EXPECTED.json")
struct ExpectedManifestTests {
    struct Entry: Sendable, CustomTestStringConvertible {
        let file: String
        let event: String
        let expectation: JSONValue
        var testDescription: String { file }
    }

    static func entries() throws -> [Entry] {
        let manifest = try Fixtures.json("EXPECTED.json")
        let files = try #require(manifest["files"]?.arrayValue)
        return try files.map { entry in
            Entry(
                file: try #require(entry["file"]?.stringValue),
                event: try #require(entry["event"]?.stringValue),
                expectation: entry
            )
        }
    }

    /// `unknown:<type>` for unknown actions, the type name otherwise, as the manifest writes them.
    static func manifestName(_ action: BotAction) -> String {
        if case .unknown(let object) = action { return "unknown:\(object.type)" }
        return action.typeName
    }

    static func buttonActionTypes(_ action: BotAction) -> [String]? {
        switch action {
        case .quickReplies(let replies): replies.buttons.map(\.action.typeName)
        case .cards(let cards): cards.cards.flatMap(\.buttons).map(\.action.typeName)
        case .simpleCards(let cards): cards.cards.flatMap(\.buttons).map(\.action.typeName)
        default: nil
        }
    }

    @Test func manifestListsEveryFixture() throws {
        let listed = Set(try Self.entries().map(\.file))
        let onDisk = Set(try Fixtures.allFileNames()).subtracting(["EXPECTED.json"])
        #expect(listed == onDisk)
        #expect(listed.count == 36)
    }

    @Test func everyEntryHolds() throws {
        for entry in try Self.entries() {
            try check(entry)
        }
    }

    func check(_ entry: Entry) throws {
        let bytes = try Fixtures.bytes(entry.file)
        let expected = entry.expectation
        let result = try #require(expected["result"]?.stringValue)
        let decode: () throws -> Void
        switch entry.event {
        case "bot_reply":
            decode = {
                let content = try ClustaarEnvelope.decode(BotReply.self, from: bytes)
                switch content {
                case .value(let reply):
                    #expect(result == "ok", "\(entry.file)")
                    let names = reply.actions.map(Self.manifestName)
                    #expect(.array(names.map(JSONValue.string)) == expected["actions"], "\(entry.file)")
                    var buttons = JSONObject()
                    for (index, action) in reply.actions.enumerated() {
                        if let types = Self.buttonActionTypes(action) {
                            buttons[String(index)] = .array(types.map(JSONValue.string))
                        }
                    }
                    #expect(.object(buttons) == expected["button_actions"], "\(entry.file)")
                case .serverError(let error):
                    #expect(result == "channel_error", "\(entry.file)")
                    #expect(error.error == expected["error"], "\(entry.file)")
                }
            }
        case "agent_reply":
            decode = {
                let reply = try ClustaarEnvelope.decode(AgentReply.self, from: bytes).value
                #expect(reply?.message == expected["message"]?.stringValue, "\(entry.file)")
            }
        case "control":
            decode = {
                let change = try ClustaarEnvelope.decode(ControlChange.self, from: bytes).value
                #expect(change?.control == expected["value"]?.boolValue, "\(entry.file)")
                #expect(change?.at == expected["at"]?.numberValue.map(ControlTimestamp.number), "\(entry.file)")
            }
        case "interlocutor_reply":
            decode = {
                let body = try ClustaarEnvelope.decode(InterlocutorReplyBody.self, from: bytes).value
                #expect(body?.typeName == expected["body_kind"]?.stringValue, "\(entry.file)")
            }
        case "out:interlocutor_reply":
            decode = {
                let reply = try ClustaarJSON.decode(InterlocutorReply.self, from: bytes)
                #expect(reply.body.typeName == expected["body_kind"]?.stringValue, "\(entry.file)")
            }
        case "phx_join":
            decode = { _ = try ClustaarJSON.decode(JoinParams.self, from: bytes) }
        case "phx_reply":
            decode = {
                let reply = try ClustaarJSON.decode(JoinReply.self, from: bytes)
                #expect(reply.outcome == .joined(JoinStatus(control: false)), "\(entry.file)")
            }
        default:
            Issue.record("\(entry.file): event \(entry.event) has no check")
            return
        }
        switch result {
        case "ok", "channel_error":
            try decode()
        case "decode_error", "json_syntax_error":
            let error = try #require(throws: ClustaarDecodingError.self, "\(entry.file)") { try decode() }
            #expect((error.kind == .invalidJSON) == (result == "json_syntax_error"), "\(entry.file): \(error)")
        default:
            Issue.record("\(entry.file): unknown result \(result)")
        }
    }
}
