import ClustaarModels
import ClustaarTestSupport
import Foundation
import PhoenixProtocol
import Testing

@testable import ClustaarSandbox

/// Replays what clients sent to the real Phoenix server (`out` frames of the recorded
/// transcripts) into the sandbox, and compares its answers with what that server sent (`in`
/// frames): JSON as values, binary frames as bytes, and a close the server started by its code.
/// Timestamps differ from run to run, so they are compared by presence.
@Suite("SandboxConnection replays the recorded transcripts")
struct SandboxTranscriptReplayTests {
    /// Every transcript the sandbox reproduces. Not replayed: `control` and `rich` (the brief asks
    /// for other shapes: `at` in unix seconds, agent replies `{type:"text"}`, every action kind),
    /// `many`, `big`, `unjoined_topic` (it joins `room:lobby`, which the recorded app did not
    /// serve and the sandbox does; the session tests cover an unmatched join), and the idle and refused
    /// connection cases (the network layer's, tested over loopback).
    static let replayed = [
        "v2_join_ok", "v2_join_unauthorized", "v2_join_missing_bot_id", "heartbeat", "leave", "duplicate_join",
        "interlocutor_reply_text", "v1_join_reply", "other_body_types", "ping_event",
        "error_reply", "kick_phx_close", "drop", "crash_phx_error", "noreply_and_slow", "binary_server_push",
        "v1_binary_push", "binary_client_push",
    ]

    /// Loaded once for all the cases (parsing every transcript takes a while in debug builds).
    static let transcripts = Result { () throws -> [String: PhoenixTranscript] in
        Dictionary(try PhoenixTranscript.loadAll().map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// One frame, comparable across runs.
    enum Comparable: Hashable {
        case json(JSONValue)
        case binary([UInt8])
        case close(UInt16?)
    }

    @Test(arguments: replayed)
    func replay(_ name: String) throws {
        let transcript = try #require(try Self.transcripts.get()[name])
        var connection = SandboxConnection(serializer: transcript.serializer, now: Date())
        var answers: [Comparable] = []
        var recorded: [Comparable] = []
        var clientClosed = false
        for frame in transcript.frames {
            switch (frame.direction, frame.content) {
            case (.clientToServer, .close):
                clientClosed = true
            case (.clientToServer, let content):
                let input: PhoenixFrame
                switch content {
                case .text(let bytes): input = .text(bytes)
                case .binary(let bytes): input = .binary(bytes)
                case .close: continue
                }
                for output in connection.frameReceived(input, at: Date()) {
                    switch output {
                    case .send(.text(let bytes)): answers.append(.json(Self.normalized(try JSONValue.parse(bytes))))
                    case .send(.binary(let bytes)): answers.append(.binary(bytes))
                    case .close(let code, _): answers.append(.close(code))
                    case .room: Issue.record("no transcript joins a room")
                    }
                }
            case (.serverToClient, .text(let bytes)):
                recorded.append(.json(Self.normalized(try JSONValue.parse(bytes))))
            case (.serverToClient, .binary(let bytes)):
                recorded.append(.binary(bytes))
            case (.serverToClient, .close(let code)):
                // Answering the client's close is the network layer's job; a close the server
                // starts is the session's.
                if !clientClosed { recorded.append(.close(code)) }
            }
        }
        #expect(!recorded.isEmpty)
        #expect(answers == recorded, "\(name)")
    }

    /// Replaces every `timestamp` string by a placeholder, at any depth.
    static func normalized(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(var object):
            for index in object.members.indices {
                let member = object.members[index]
                if member.key == "timestamp", case .string = member.value {
                    object.members[index].value = "<timestamp>"
                } else {
                    object.members[index].value = normalized(member.value)
                }
            }
            return .object(object)
        case .array(let elements):
            return .array(elements.map(normalized))
        default:
            return value
        }
    }
}

@Suite("SandboxEndpoint, SandboxBot helpers")
struct SandboxEndpointTests {
    @Test(arguments: [
        ("/socket/websocket?vsn=2.0.0", SandboxEndpoint.Route.webSocket(.jsonV2)),
        // Other query parameters (the old binary v2 mode's `serializer=binary`) are ignored.
        ("/socket/websocket?vsn=2.0.0&serializer=binary", .webSocket(.jsonV2)),
        ("/socket/websocket?serializer=binary&vsn=2.0.0", .webSocket(.jsonV2)),
        ("/socket/websocket?vsn=1.0.0", .webSocket(.jsonV1)),
        ("/socket/websocket", .webSocket(.jsonV1)),
        ("/short/socket/websocket?token=a&vsn=2.0.0", .webSocket(.jsonV2)),
        ("/socket/websocket?vsn=3.0.0", .refused(status: 400, reason: "unsupported vsn 3.0.0; use 1.0.0 or 2.0.0")),
        ("/socket/websocket?vsn=2.0.0&reject=1", .refused(status: 403, reason: "connection refused (reject=1)")),
        ("/socket?vsn=2.0.0", .refused(status: 404, reason: "not found: the sandbox serves <endpoint>/websocket")),
        ("/", .refused(status: 404, reason: "not found: the sandbox serves <endpoint>/websocket")),
    ])
    func route(_ uri: String, _ expected: SandboxEndpoint.Route) {
        #expect(SandboxEndpoint.route(uri: uri) == expected)
    }

    @Test("subprotocols: phoenix is selected when offered; the bearer token is decoded")
    func subprotocols() {
        #expect(SandboxEndpoint.subprotocols(offered: []) == (nil, nil))
        #expect(SandboxEndpoint.subprotocols(offered: ["chat"]) == (nil, nil))
        #expect(SandboxEndpoint.subprotocols(offered: ["phoenix"]) == ("phoenix", nil))
        // "?>?~~~a" is "Pz4_fn5-YQ" in base64url: it needs both the '-'/'_' mapping and the padding.
        #expect(
            SandboxEndpoint.subprotocols(offered: ["phoenix, base64url.bearer.phx.Pz4_fn5-YQ"]) == (
                "phoenix", "?>?~~~a"
            ))
        #expect(
            SandboxEndpoint.subprotocols(offered: ["phoenix", "base64url.bearer.phx.c2VjcmV0IHRva2VuPw"])
                == ("phoenix", "secret token?"))
        #expect(SandboxEndpoint.subprotocols(offered: ["phoenix", "base64url.bearer.phx.!!!"]) == ("phoenix", nil))
    }

    @Test("ISO 8601 timestamps match Foundation's formatter, milliseconds included")
    func timestamps() {
        #expect(SandboxBot.iso8601(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        #expect(SandboxBot.iso8601(Date(timeIntervalSince1970: 951_782_400.5)) == "2000-02-29T00:00:00.500Z")
        #expect(SandboxBot.iso8601(Date(timeIntervalSince1970: 1_795_617_905.25)) == "2026-11-25T14:45:05.250Z")
        #expect(SandboxBot.iso8601(Date(timeIntervalSince1970: -1)) == "1969-12-31T23:59:59.000Z")
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        var generator = SplitMix64(seed: 11)
        for _ in 0..<500 {
            // Fractions exact in binary, so rounding cannot make the two sides differ.
            let seconds = Double(Int64.random(in: 0...4_102_444_800, using: &generator))
            let date = Date(
                timeIntervalSince1970: seconds + [0, 0.25, 0.5, 0.75][Int.random(in: 0...3, using: &generator)])
            #expect(SandboxBot.iso8601(date) == formatter.string(from: date))
        }
    }
}
