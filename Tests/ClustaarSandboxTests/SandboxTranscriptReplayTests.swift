import ClustaarTestSupport
import Foundation
import PhoenixProtocol
import Testing

@testable import ClustaarSandbox

/// Replays what clients sent to the real Phoenix server (`out` frames of the recorded
/// transcripts) into the sandbox, and compares its answers with what that server sent (`in`
/// frames) as JSON values. Timestamps differ from run to run, so they are compared by presence.
@Suite("SandboxConnection replays the recorded transcripts")
struct SandboxTranscriptReplayTests {
    static let replayed = [
        "v2_join_ok", "v2_join_unauthorized", "v2_join_missing_bot_id", "heartbeat", "leave", "duplicate_join",
        "unjoined_topic", "interlocutor_reply_text", "v1_join_reply",
    ]

    @Test(arguments: replayed)
    func replay(_ name: String) throws {
        let transcript = try #require(try PhoenixTranscript.loadAll().first { $0.name == name })
        var connection = SandboxConnection(serializer: transcript.serializer, now: Date())
        var answers: [JSONValue] = []
        var recorded: [JSONValue] = []
        for frame in transcript.frames {
            guard case .text(let bytes) = frame.content else { continue }  // the close handshake is the server's job
            switch frame.direction {
            case .clientToServer:
                for output in connection.frameReceived(.text(bytes), at: Date()) {
                    guard case .send(.text(let answer)) = output else {
                        Issue.record("\(name): unexpected output \(output)")
                        continue
                    }
                    answers.append(Self.normalized(try JSONValue.parse(answer)))
                }
            case .serverToClient:
                recorded.append(Self.normalized(try JSONValue.parse(bytes)))
            }
        }
        #expect(!recorded.isEmpty)
        #expect(answers == recorded, "\(name)")
    }

    /// Replaces every `timestamp` string by a placeholder, at any depth.
    static func normalized(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let members):
            var result: [String: JSONValue] = [:]
            for (key, member) in members {
                if key == "timestamp", case .string = member {
                    result[key] = "<timestamp>"
                } else {
                    result[key] = normalized(member)
                }
            }
            return .object(result)
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
        ("/socket/websocket?vsn=2.0.0&serializer=binary", .webSocket(.binaryV2)),
        ("/socket/websocket?serializer=binary&vsn=2.0.0", .webSocket(.binaryV2)),
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
