import ClustaarModels
import ClustaarTestSupport
import Foundation
import PhoenixProtocol
import Testing

@testable import ClustaarSandbox

/// The pure core, driven with v2 JSON frames: every behaviour, with the exact frames it sends
/// back, in order. Time is a fixed input, so timestamps are exact too.
enum Wire {
    static let topic = "interlocutor:6a1b2c3d4e5f60718293a4b5"
    static let interlocutorID = "6a1b2c3d4e5f60718293a4b5"
    /// 2026-11-25T14:45:05.500Z, exactly representable.
    static let now = Date(timeIntervalSince1970: 1_795_617_905.5)
    static let timestamp = "2026-11-25T14:45:05.500Z"
    static let unixSeconds = "1795617905"

    static func join(_ joinRef: String = "1", topic: String = topic, token: String = "tok-123") -> String {
        #"["\#(joinRef)","\#(joinRef)","\#(topic)","phx_join",{"bot_id":"5c8a1f0e9d3b2a0012c4e5f6","socketToken":"\#(token)"}]"#
    }

    static func joinOK(_ joinRef: String = "1", topic: String = topic, control: Bool = false) -> String {
        #"["\#(joinRef)","\#(joinRef)","\#(topic)","phx_reply",{"response":{"control":\#(control)},"status":"ok"}]"#
    }

    static func reply(_ joinRef: String?, _ ref: String, topic: String = topic, _ status: String, _ response: String)
        -> String
    {
        let joinRefJSON = joinRef.map { "\"\($0)\"" } ?? "null"
        return #"[\#(joinRefJSON),"\#(ref)","\#(topic)","phx_reply",{"response":\#(response),"status":"\#(status)"}]"#
    }

    /// An `interlocutor_reply` push whose body is the JSON `body`.
    static func say(_ ref: String, body: String, joinRef: String = "1") -> String {
        #"["\#(joinRef)","\#(ref)","\#(topic)","interlocutor_reply",{"token":"tok-123","params":{"debug":0,"display":true},"body":\#(body)}]"#
    }

    static func say(_ ref: String, text: String) -> String {
        say(ref, body: #"{"type":"text","message":"\#(text)"}"#)
    }

    static func ack(_ ref: String) -> String { reply("1", ref, "ok", "{}") }

    static func push(_ event: String, _ payload: String, joinRef: String = "1") -> String {
        #"["\#(joinRef)",null,"\#(topic)","\#(event)",\#(payload)]"#
    }

    /// The echo of a text body (keys sorted, timestamp added).
    static func echoText(_ text: String) -> String {
        push("interlocutor_reply", #"{"message":"\#(text)","timestamp":"\#(timestamp)","type":"text"}"#)
    }

    /// A bot reply with one text action; `input` is the JSON of the body as sent, keys sorted.
    static func botText(_ text: String, input: String) -> String {
        push(
            "bot_reply",
            #"{"fulfillment":{"actions":[{"alternatives":["\#(text)"],"text":"\#(text)","type":"send_text_action"}],"#
                + #""source":{"step":{"id":"5c8a6f9e2b1d4a0012f3e7c1","name":"Welcome","type":"step"},"type":"step"}},"#
                + #""input":\#(input),"interlocutor":{"id":"\#(interlocutorID)","type":"interlocutor"},"#
                + #""session":{"values":{}}}"#)
    }

    static func botEcho(of text: String) -> String {
        botText("Echo: \(text)", input: #"{"message":"\#(text)","type":"text"}"#)
    }

    static func phxClose(_ joinRef: String = "1") -> String {
        #"["\#(joinRef)","\#(joinRef)","\#(topic)","phx_close",{}]"#
    }

    static func agent(_ text: String) -> String { push("agent_reply", #"{"message":"\#(text)","type":"text"}"#) }

    static func control(_ value: Bool) -> String { push("control", #"{"at":\#(unixSeconds),"value":\#(value)}"#) }

    /// Feeds v2 text frames to a fresh connection; returns what it sends, one string per output
    /// (`close <code> <reason>` for a close).
    static func run(
        _ frames: [String],
        serializer: PhoenixSerializer = .jsonV2,
        configuration: SandboxConfiguration = SandboxConfiguration(),
        behavior: SandboxBehavior = SandboxBehavior()
    ) -> [String] {
        var connection = SandboxConnection(serializer: serializer, configuration: configuration, now: now)
        return frames.flatMap { frame in
            connection.frameReceived(.text(Array(frame.utf8)), at: now, behavior: behavior).map(render)
        }
    }

    static func render(_ output: SandboxConnection.Output) -> String {
        switch output {
        case .send(.text(let bytes)): String(decoding: bytes, as: UTF8.self)
        case .send(.binary(let bytes)): "binary \(bytes)"
        case .close(let code, let reason): "close \(code) \(reason)"
        case .room(let request): "room \(request)"
        }
    }
}

struct SessionCase: Sendable, CustomTestStringConvertible {
    var name: String
    var frames: [String]
    var expected: [String]
    var configuration = SandboxConfiguration()
    var behavior = SandboxBehavior()

    var testDescription: String { name }

    static let all: [SessionCase] = {
        typealias W = Wire
        let t = W.topic
        return [
            SessionCase(
                name: "heartbeat gets an ok reply on topic phoenix",
                frames: [#"[null,"7","phoenix","heartbeat",{}]"#],
                expected: [W.reply(nil, "7", topic: "phoenix", "ok", "{}")]),
            SessionCase(
                name: "heartbeats unanswered when the behavior says so",
                frames: [#"[null,"7","phoenix","heartbeat",{}]"#], expected: [],
                behavior: SandboxBehavior(answersHeartbeats: false)),
            SessionCase(name: "join ok replies control false", frames: [W.join()], expected: [W.joinOK()]),
            SessionCase(
                name: "join with socket token bad is unauthorized", frames: [W.join(token: "bad")],
                expected: [W.reply("1", "1", "error", #"{"reason":"unauthorized"}"#)]),
            SessionCase(
                name: "join without bot_id",
                frames: [#"["1","1","\#(t)","phx_join",{"socketToken":"tok-123"}]"#],
                expected: [W.reply("1", "1", "error", #"{"reason":"missing bot_id"}"#)]),
            SessionCase(
                name: "join without socketToken",
                frames: [#"["1","1","\#(t)","phx_join",{"bot_id":"b"}]"#],
                expected: [W.reply("1", "1", "error", #"{"reason":"missing socketToken"}"#)]),
            SessionCase(
                name: "join whose bot_id is not a string",
                frames: [#"["1","1","\#(t)","phx_join",{"bot_id":7,"socketToken":"tok-123"}]"#],
                expected: [W.reply("1", "1", "error", #"{"reason":"missing bot_id"}"#)]),
            SessionCase(
                name: "join params that are not an object",
                frames: [#"["1","1","\#(t)","phx_join","params"]"#],
                expected: [W.reply("1", "1", "error", #"{"reason":"join params must be an object"}"#)]),
            SessionCase(
                name: "join of a topic neither interlocutor:* nor room:* is unmatched",
                frames: [#"["2","2","lobby:main","phx_join",{}]"#],
                expected: [W.reply(nil, "2", topic: "lobby:main", "error", #"{"reason":"unmatched topic"}"#)]),
            SessionCase(
                name: "duplicate join: new ok reply, then phx_close with the old join_ref",
                frames: [
                    W.join("1"), W.join("2"),
                    W.say("3", text: "after").replacingOccurrences(of: #"["1","3""#, with: #"["2","3""#),
                ],
                expected: [
                    W.joinOK("1"), W.joinOK("2"), W.phxClose("1"), W.reply("2", "3", "ok", "{}"),
                    W.push(
                        "interlocutor_reply", #"{"message":"after","timestamp":"\#(W.timestamp)","type":"text"}"#,
                        joinRef: "2"),
                    W.push(
                        "bot_reply",
                        #"{"fulfillment":{"actions":[{"alternatives":["Echo: after"],"text":"Echo: after","type":"send_text_action"}],"#
                            + #""source":{"step":{"id":"5c8a6f9e2b1d4a0012f3e7c1","name":"Welcome","type":"step"},"type":"step"}},"#
                            + #""input":{"message":"after","type":"text"},"interlocutor":{"id":"\#(W.interlocutorID)","type":"interlocutor"},"#
                            + #""session":{"values":{}}}"#, joinRef: "2"),
                ]),
            SessionCase(
                name: "a failed duplicate join still closes the old channel",
                frames: [W.join("1"), W.join("2", token: "bad"), W.say("3", text: "hi")],
                expected: [
                    W.joinOK("1"), W.reply("2", "2", "error", #"{"reason":"unauthorized"}"#), W.phxClose("1"),
                    W.reply(nil, "3", "error", #"{"reason":"unmatched topic"}"#),
                ]),
            SessionCase(
                name: "leave: ok reply, phx_close, then pushes are unmatched",
                frames: [W.join(), #"["1","2","\#(t)","phx_leave",{}]"#, W.say("3", text: "anyone?")],
                expected: [
                    W.joinOK(), W.reply("1", "2", "ok", "{}"), W.phxClose(),
                    W.reply(nil, "3", "error", #"{"reason":"unmatched topic"}"#),
                ]),
            SessionCase(
                name: "leave of a topic not joined gets an ok reply only",
                frames: [#"["98","3","interlocutor:x","phx_leave",{}]"#],
                expected: [W.reply("98", "3", topic: "interlocutor:x", "ok", "{}")]),
            SessionCase(
                name: "push to a topic not joined is unmatched, join_ref null",
                frames: [W.say("1", text: "nobody home")],
                expected: [W.reply(nil, "1", "error", #"{"reason":"unmatched topic"}"#)]),
            SessionCase(
                name: "text: ack, echo with timestamp, bot echo",
                frames: [W.join(), W.say("2", text: "Hello")],
                expected: [W.joinOK(), W.ack("2"), W.echoText("Hello"), W.botEcho(of: "Hello")]),
            SessionCase(
                name: "user text is escaped in the echo and the bot reply",
                frames: [W.join(), W.say("2", text: #"say \"hi\"\n\\ </b> é 😀"#)],
                expected: [
                    W.joinOK(), W.ack("2"), W.echoText(#"say \"hi\"\n\\ </b> é 😀"#),
                    W.botEcho(of: #"say \"hi\"\n\\ </b> é 😀"#),
                ]),
            SessionCase(
                name: "take control: control true then an agent reply; texts go to the agent; release",
                frames: [
                    W.join(), W.say("2", text: "take control"), W.say("3", text: "are you human?"),
                    W.say("4", text: "rich"), W.say("5", text: "Release Control "),
                ],
                expected: [
                    W.joinOK(), W.ack("2"), W.echoText("take control"), W.control(true),
                    W.agent("Hello, I am an agent. How can I help?"),
                    W.ack("3"), W.echoText("are you human?"), W.agent("Agent: are you human?"),
                    W.ack("4"), W.echoText("rich"), W.agent("Agent: rich"),
                    W.ack("5"), W.echoText("Release Control "), W.control(false),
                    W.botText(
                        "You are talking to the bot again.", input: #"{"message":"Release Control ","type":"text"}"#),
                ]),
            SessionCase(
                name: "a rejoin while an agent holds the conversation replies control true",
                frames: [
                    W.join(), W.say("2", text: "take control"), #"["1","3","\#(t)","phx_leave",{}]"#, W.join("4"),
                ],
                expected: [
                    W.joinOK(), W.ack("2"), W.echoText("take control"), W.control(true),
                    W.agent("Hello, I am an agent. How can I help?"), W.reply("1", "3", "ok", "{}"), W.phxClose(),
                    W.joinOK("4", control: true),
                ]),
            SessionCase(
                name: "custom event is acknowledged by the bot",
                frames: [W.join(), W.say("2", body: #"{"type":"custom_event","name":"page_opened"}"#)],
                expected: [
                    W.joinOK(), W.ack("2"),
                    W.push(
                        "interlocutor_reply",
                        #"{"name":"page_opened","timestamp":"\#(W.timestamp)","type":"custom_event"}"#),
                    W.botText(
                        "Echo: custom_event page_opened", input: #"{"name":"page_opened","type":"custom_event"}"#),
                ]),
            SessionCase(
                name: "go_to action is acknowledged, its target and session values echoed",
                frames: [
                    W.join(),
                    W.say(
                        "2",
                        body:
                            #"{"type":"go_to_action","target":{"type":"story","id":"s1","name":"P"},"sessionValues":{"plan":"pro"}}"#
                    ),
                ],
                expected: [
                    W.joinOK(), W.ack("2"),
                    W.push(
                        "interlocutor_reply",
                        #"{"sessionValues":{"plan":"pro"},"target":{"id":"s1","name":"P","type":"story"},"timestamp":"\#(W.timestamp)","type":"go_to_action"}"#
                    ),
                    W.botText(
                        "Echo: go_to_action",
                        input:
                            #"{"sessionValues":{"plan":"pro"},"target":{"id":"s1","name":"P","type":"story"},"type":"go_to_action"}"#
                    ),
                ]),
            SessionCase(
                name: "url loaded event is acknowledged",
                frames: [
                    W.join(), W.say("2", body: #"{"type":"url_loaded_event","url":"https://example.com/a?b=c"}"#),
                ],
                expected: [
                    W.joinOK(), W.ack("2"),
                    W.push(
                        "interlocutor_reply",
                        #"{"timestamp":"\#(W.timestamp)","type":"url_loaded_event","url":"https://example.com/a?b=c"}"#),
                    W.botText(
                        "Echo: url_loaded_event https://example.com/a?b=c",
                        input: #"{"type":"url_loaded_event","url":"https://example.com/a?b=c"}"#),
                ]),
            SessionCase(
                name: "coordinates are acknowledged",
                frames: [W.join(), W.say("2", body: #"{"type":"coordinates","lat":48.8566,"long":2.3522}"#)],
                expected: [
                    W.joinOK(), W.ack("2"),
                    W.push(
                        "interlocutor_reply",
                        #"{"lat":48.8566,"long":2.3522,"timestamp":"\#(W.timestamp)","type":"coordinates"}"#),
                    W.botText(
                        "Echo: coordinates 48.8566,2.3522",
                        input: #"{"lat":48.8566,"long":2.3522,"type":"coordinates"}"#),
                ]),
            SessionCase(
                name: "a body of an unknown type is acknowledged, not refused",
                frames: [W.join(), W.say("2", body: #"{"type":"hologram"}"#)],
                expected: [
                    W.joinOK(), W.ack("2"),
                    W.push("interlocutor_reply", #"{"timestamp":"\#(W.timestamp)","type":"hologram"}"#),
                    W.botText("Echo: hologram", input: #"{"type":"hologram"}"#),
                ]),
            SessionCase(
                name: "interlocutor_reply without a body gets an error reply",
                frames: [W.join(), #"["1","2","\#(t)","interlocutor_reply",{"token":"x"}]"#],
                expected: [
                    W.joinOK(), W.reply("1", "2", "error", #"{"detail":"missing body","reason":"bad request"}"#),
                ]),
            SessionCase(
                name: "interlocutor_reply without a token gets an error reply",
                frames: [W.join(), #"["1","2","\#(t)","interlocutor_reply",{"body":{"type":"text","message":"x"}}]"#],
                expected: [
                    W.joinOK(), W.reply("1", "2", "error", #"{"detail":"missing token","reason":"bad request"}"#),
                ]),
            SessionCase(
                name: "text body whose message is not a string gets an error reply",
                frames: [W.join(), W.say("2", body: #"{"type":"text","message":42}"#)],
                expected: [
                    W.joinOK(),
                    W.reply("1", "2", "error", #"{"detail":"missing body.message","reason":"bad request"}"#),
                ]),
            SessionCase(
                name: "ping event replies ok with the same payload",
                frames: [W.join(), #"["1","2","\#(t)","ping",{"n":1,"hello":"world"}]"#],
                expected: [W.joinOK(), W.reply("1", "2", "ok", #"{"n":1,"hello":"world"}"#)]),
            SessionCase(
                name: "an event the channel does not handle gets an error reply",
                frames: [W.join(), #"["1","2","\#(t)","dance",{}]"#],
                expected: [W.joinOK(), W.reply("1", "2", "error", #"{"reason":"unhandled event dance"}"#)]),
            SessionCase(
                name: "the channel limit refuses one join too many",
                frames: [
                    W.join("1", topic: "interlocutor:a"), W.join("2", topic: "interlocutor:b"),
                    W.join("3", topic: "interlocutor:c"), W.join("4", topic: "interlocutor:a"),
                ],
                expected: [
                    W.joinOK("1", topic: "interlocutor:a"), W.joinOK("2", topic: "interlocutor:b"),
                    W.reply("3", "3", topic: "interlocutor:c", "error", #"{"reason":"too many channels joined"}"#),
                    // Rejoining a joined topic replaces it, so it is not one too many.
                    W.joinOK("4", topic: "interlocutor:a"),
                    #"["1","1","interlocutor:a","phx_close",{}]"#,
                ],
                configuration: SandboxConfiguration(maxChannelsPerConnection: 2)),
            SessionCase(
                name: "silent bot: no ack, no echo, no answer (heartbeats still answered)",
                frames: [W.join(), W.say("2", text: "Hello"), #"[null,"3","phoenix","heartbeat",{}]"#],
                expected: [W.joinOK(), W.reply(nil, "3", topic: "phoenix", "ok", "{}")],
                behavior: SandboxBehavior(bot: .silent)),
            SessionCase(
                name: "acknowledging-only bot: ack and echo, no answer",
                frames: [W.join(), W.say("2", text: "Hello")],
                expected: [W.joinOK(), W.ack("2"), W.echoText("Hello")],
                behavior: SandboxBehavior(bot: .acknowledgingOnly)),
            SessionCase(
                name: "noreply: no frame at all",
                frames: [W.join(), W.say("2", text: "noreply"), #"[null,"3","phoenix","heartbeat",{}]"#],
                expected: [W.joinOK(), W.reply(nil, "3", topic: "phoenix", "ok", "{}")]),
            SessionCase(
                name: "error: an error reply",
                frames: [W.join(), W.say("2", text: "error")],
                expected: [W.joinOK(), W.reply("1", "2", "error", #"{"reason":"bad request"}"#)]),
            SessionCase(
                name: "kick: ack then phx_close; the topic is no longer joined",
                frames: [W.join(), W.say("2", text: "kick"), W.say("3", text: "hi")],
                expected: [
                    W.joinOK(), W.ack("2"), W.phxClose(), W.reply(nil, "3", "error", #"{"reason":"unmatched topic"}"#),
                ]),
            SessionCase(
                name: "drop: ack, echo, then the socket closes with 1000; later frames are ignored",
                frames: [W.join(), W.say("2", text: "drop"), #"[null,"3","phoenix","heartbeat",{}]"#],
                expected: [W.joinOK(), W.ack("2"), W.echoText("drop"), "close 1000 "]),
            SessionCase(
                name: "crash: no ack, phx_error with the join_ref as ref; a rejoin works",
                frames: [W.join(), W.say("2", text: "crash"), W.say("3", text: "hi"), W.join("4")],
                expected: [
                    W.joinOK(), #"["1","1","\#(t)","phx_error",{}]"#,
                    W.reply(nil, "3", "error", #"{"reason":"unmatched topic"}"#), W.joinOK("4"),
                ]),
            SessionCase(
                name: "binary: ack, echo, then a binary push 01 02 03 ff",
                frames: [W.join(), W.say("2", text: "binary")],
                expected: [
                    W.joinOK(), W.ack("2"), W.echoText("binary"),
                    // Binary v2 server push: kind 0, join_ref "1", topic, event "binary_event", payload.
                    "binary \([0, 1, UInt8(t.utf8.count), 12, 49] + Array(t.utf8) + Array("binary_event".utf8) + [1, 2, 3, 255])",
                ]),
            SessionCase(
                name: "an undecodable frame closes with 1003",
                frames: ["not json", #"[null,"3","phoenix","heartbeat",{}]"#],
                expected: ["close 1003 undecodable frame: invalid JSON at byte 0: expected '[' opening a v2 message"]),
            SessionCase(
                name: "a phx_reply from the client closes with 1003",
                frames: [#"[null,"1","phoenix","phx_reply",{"status":"ok","response":{}}]"#],
                expected: ["close 1003 clients do not send phx_reply"]),
        ]
    }()
}

@Suite("SandboxSession: every behaviour, exact frames in order")
struct SandboxSessionTests {
    @Test(arguments: SessionCase.all)
    func exchange(_ testCase: SessionCase) {
        let answers = Wire.run(testCase.frames, configuration: testCase.configuration, behavior: testCase.behavior)
        #expect(answers == testCase.expected)
    }

    @Test("rich: one bot reply with every action type, every button action and both target kinds")
    func rich() throws {
        let answers = Wire.run([Wire.join(), Wire.say("2", text: "rich")])
        try #require(answers.count == 4)
        #expect(Array(answers[0...2]) == [Wire.joinOK(), Wire.ack("2"), Wire.echoText("rich")])
        let frame = try JSONValue.parse(Array(answers[3].utf8))
        guard case .array(let parts) = frame, parts.count == 5 else {
            Issue.record("not a v2 message: \(answers[3])")
            return
        }
        #expect(Array(parts[0...3]) == ["1", .null, .string(Wire.topic), "bot_reply"])
        let actions = try #require(parts[4]["fulfillment"]?["actions"])
        guard case .array(let list) = actions else {
            Issue.record("actions is not an array")
            return
        }
        #expect(
            list.compactMap { $0["type"]?.stringValue } == [
                "send_text_action", "send_image_action", "wait_action", "send_quick_replies_action",
                "send_cards_action", "send_simple_cards_action", "send_choices_list_action", "ask_location_action",
                "send_js_event_action", "customer_satisfaction_action", "ask_document_action", "pause_bot_action",
            ])
        var buttonActionTypes: Set<String> = []
        var targetTypes: Set<String> = []
        func collect(_ value: JSONValue, key: String?) {
            switch value {
            case .object(let members):
                if key == "action", let type = members["type"]?.stringValue { buttonActionTypes.insert(type) }
                if key == "target", let type = members["type"]?.stringValue { targetTypes.insert(type) }
                for member in members.members { collect(member.value, key: member.key) }
            case .array(let elements):
                for element in elements { collect(element, key: nil) }
            default: break
            }
        }
        collect(actions, key: nil)
        #expect(
            buttonActionTypes == [
                "go_to_action", "open_url_action", "share_action", "legacy_reply_to_message_action",
                "customer_satisfaction_callback_action",
            ])
        #expect(targetTypes == ["step", "story"])
        #expect(parts[4]["input"] == ["message": "rich", "type": "text"])
    }

    @Test("v1: server messages carry no join_ref; phx_close keeps the join_ref as its ref")
    func jsonV1WireForm() {
        let t = Wire.topic
        let answers = Wire.run(
            [
                #"{"topic":"\#(t)","event":"phx_join","payload":{"bot_id":"b","socketToken":"s"},"ref":"1","join_ref":"1"}"#,
                #"{"topic":"\#(t)","event":"phx_leave","payload":{},"ref":"2","join_ref":"1"}"#,
            ], serializer: .jsonV1)
        #expect(
            answers == [
                #"{"topic":"\#(t)","event":"phx_reply","payload":{"response":{"control":false},"status":"ok"},"ref":"1"}"#,
                #"{"topic":"\#(t)","event":"phx_reply","payload":{"response":{},"status":"ok"},"ref":"2"}"#,
                #"{"topic":"\#(t)","event":"phx_close","payload":{},"ref":"1"}"#,
            ])
    }

    @Test("a text frame whose strings are not UTF-8 closes with 1007")
    func invalidUTF8() {
        var connection = SandboxConnection(serializer: .jsonV2, now: Wire.now)
        let frame = Array(#"[null,"1","phoen"#.utf8) + [0xC3, 0x28] + Array(#"ix","heartbeat",{}]"#.utf8)
        #expect(connection.frameReceived(.text(frame), at: Wire.now) == [.close(code: 1007, reason: "invalid UTF-8")])
    }

    @Test("v1 cannot carry a binary push: the channel crashes (phx_error), the socket stays open")
    func jsonV1BinaryPush() {
        let t = Wire.topic
        let answers = Wire.run(
            [
                #"{"topic":"\#(t)","event":"phx_join","payload":{"bot_id":"b","socketToken":"s"},"ref":"1","join_ref":"1"}"#,
                #"{"topic":"\#(t)","event":"interlocutor_reply","payload":{"token":"x","body":{"type":"text","message":"binary"}},"ref":"2"}"#,
                #"{"topic":"phoenix","event":"heartbeat","payload":{},"ref":"3"}"#,
            ], serializer: .jsonV1)
        #expect(
            answers == [
                #"{"topic":"\#(t)","event":"phx_reply","payload":{"response":{"control":false},"status":"ok"},"ref":"1"}"#,
                #"{"topic":"\#(t)","event":"phx_reply","payload":{"response":{},"status":"ok"},"ref":"2"}"#,
                #"{"topic":"\#(t)","event":"interlocutor_reply","payload":{"message":"binary","timestamp":"\#(Wire.timestamp)","type":"text"},"ref":null}"#,
                #"{"topic":"\#(t)","event":"phx_error","payload":{},"ref":"1"}"#,
                #"{"topic":"phoenix","event":"phx_reply","payload":{"response":{},"status":"ok"},"ref":"3"}"#,
            ])
    }

    /// A binary frame's payload is raw bytes, as Phoenix's V2 serializer reads it: JSON inside a
    /// binary frame is never parsed (the removed binary v2 mode relied on that).
    @Test("vsn=2.0.0: a binary push carries bytes; a JSON join in a binary frame is refused")
    func binaryFramesCarryBytes() throws {
        var connection = SandboxConnection(serializer: .jsonV2, now: Wire.now)
        func send(_ message: PhoenixMessage) throws -> [String] {
            let frame = try PhoenixSerializer.jsonV2.encode(message, from: .client)
            return connection.frameReceived(frame, at: Wire.now).map(Wire.render)
        }
        func binary(_ text: String) -> PhoenixPayload { .binary(ArraySlice(text.utf8)) }
        let join = PhoenixMessage(
            joinRef: "1", ref: "1", topic: Wire.topic, event: "phx_join",
            payload: binary(#"{"bot_id":"b","socketToken":"s"}"#))
        #expect(try send(join) == [Wire.reply("1", "1", "error", #"{"reason":"missing bot_id"}"#)])
        #expect(connection.session.joinedTopics == [])
        var joinJSON = join
        joinJSON.payload = .json(#"{"bot_id":"b","socketToken":"s"}"#)
        #expect(try send(joinJSON) == [Wire.joinOK()])
        let say = PhoenixMessage(
            joinRef: "1", ref: "2", topic: Wire.topic, event: "interlocutor_reply",
            payload: binary(#"{"token":"x","body":{"type":"text","message":"Hi"}}"#))
        #expect(
            try send(say) == [
                Wire.reply(
                    "1", "2", "error", #"{"detail":"interlocutor_reply expects a JSON payload","reason":"bad request"}"#
                )
            ])
    }

    @Test("idle timeout: nothing before the deadline, close 1002 at it; any frame pushes it back")
    func idleTimeout() {
        let start = Wire.now
        var connection = SandboxConnection(
            serializer: .jsonV2, configuration: SandboxConfiguration(idleTimeout: .seconds(60)), now: start)
        #expect(connection.idleDeadline == start.addingTimeInterval(60))
        #expect(connection.timerFired(at: start.addingTimeInterval(59.999)) == [])
        _ = connection.frameReceived(
            .text(Array(#"[null,"1","phoenix","heartbeat",{}]"#.utf8)), at: start.addingTimeInterval(30))
        #expect(connection.idleDeadline == start.addingTimeInterval(90))
        #expect(connection.timerFired(at: start.addingTimeInterval(60)) == [])
        connection.activity(at: start.addingTimeInterval(50))  // a ping or pong
        #expect(connection.timerFired(at: start.addingTimeInterval(109)) == [])
        #expect(connection.timerFired(at: start.addingTimeInterval(110)) == [.close(code: 1002, reason: "")])
        #expect(connection.isClosing)
        #expect(connection.timerFired(at: start.addingTimeInterval(500)) == [])
    }

    @Test("shutdown close code: 1000 with no channel joined, 1012 with one")
    func shutdownCloseCode() {
        var connection = SandboxConnection(serializer: .jsonV2, now: Wire.now)
        #expect(connection.shutdownCloseCode == 1000)
        _ = connection.frameReceived(.text(Array(Wire.join().utf8)), at: Wire.now)
        #expect(connection.shutdownCloseCode == 1012)
        #expect(connection.session.joinedTopics == [Wire.topic])
    }

    @Test("a close reason is cut to 123 bytes on a character boundary")
    func closeReasonLength() {
        #expect(SandboxConnection.closeReason("short") == "short")
        #expect(SandboxConnection.closeReason(String(repeating: "a", count: 200)) == String(repeating: "a", count: 123))
        // "é" is 2 bytes: 61 of them fit (122 bytes), the 62nd would not.
        #expect(SandboxConnection.closeReason(String(repeating: "é", count: 100)) == String(repeating: "é", count: 61))
    }

    @Test("no mutation of valid frames traps: each byte replaced, dropped or cut")
    func mutatedFrames() {
        var generator = SplitMix64(seed: 42)
        let seeds = [
            Wire.join(), Wire.say("2", text: "Hello"), Wire.say("3", text: "take control"),
            Wire.say("4", body: #"{"type":"coordinates","lat":48.8566,"long":2.3522}"#),
            Wire.say("5", body: #"{"type":"go_to_action","target":{"type":"step","id":"x"},"sessionValues":{}}"#),
            #"["1","6","\#(Wire.topic)","phx_leave",{}]"#, #"[null,"7","phoenix","heartbeat",{}]"#,
        ]
        let interesting: [UInt8] = Array(#"[]{}",:\0123456789ntfaelsu"#.utf8) + [0x00, 0x7F, 0xC3, 0xFF]
        for _ in 0..<250 {
            var bytes = Array(seeds[Int.random(in: 0..<seeds.count, using: &generator)].utf8)
            for _ in 0..<Int.random(in: 1...3, using: &generator) {
                let index = Int.random(in: 0..<bytes.count, using: &generator)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: bytes[index] = interesting[Int.random(in: 0..<interesting.count, using: &generator)]
                case 1: if bytes.count > 1 { bytes.remove(at: index) }
                default: bytes = Array(bytes[..<max(index, 1)])
                }
            }
            // A joined session, so mutated pushes reach the channel code too.
            var connection = SandboxConnection(serializer: .jsonV2, now: Wire.now)
            _ = connection.frameReceived(.text(Array(Wire.join().utf8)), at: Wire.now)
            let outputs = connection.frameReceived(.text(bytes), at: Wire.now)
            // Whatever came in, what goes out is well-formed v2 JSON or a close.
            for output in outputs {
                if case .send(.text(let text)) = output {
                    #expect((try? PhoenixSerializer.jsonV2.decode(.text(text), from: .server)) != nil)
                }
            }
        }
    }

    @Test("no byte sequence traps: random frames give answers or a close, never a crash")
    func randomBytes() {
        var generator = SplitMix64(seed: 7)
        for serializer in PhoenixSerializer.allCases {
            for length in 0..<200 {
                var connection = SandboxConnection(serializer: serializer, now: Wire.now)
                let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
                _ = connection.frameReceived(.binary(bytes), at: Wire.now)
                _ = connection.frameReceived(.text(bytes), at: Wire.now)
            }
        }
    }
}
