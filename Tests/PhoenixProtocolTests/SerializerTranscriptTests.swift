import ClustaarTestSupport
import Foundation
import PhoenixProtocol
import Testing

/// Every frame recorded from a real Phoenix 1.7 server decodes; every frame the reference client
/// sent is what our encoder writes for the decoded message (as a JSON value: key order may differ).
@Suite struct SerializerTranscriptTests {
    static let transcripts: [PhoenixTranscript] = (try? PhoenixTranscript.loadAll()) ?? []

    @Test func theFixturesAreThere() throws {
        let all = try PhoenixTranscript.loadAll()
        #expect(all.count == 27)
        #expect(all.first { $0.name == "connect_rejected" }?.handshakeStatus == 403)
    }

    @Test(arguments: transcripts.map(\.name))
    func everyServerFrameDecodesAndEveryClientFrameReencodes(name: String) throws {
        let transcript = try #require(Self.transcripts.first { $0.name == name })
        let serializer = transcript.serializer
        var decodedFromServer = 0
        for frame in transcript.frames {
            guard let phoenixFrame = frame.phoenixFrame else { continue }
            switch frame.direction {
            case .serverToClient:
                let message = try serializer.decode(phoenixFrame, from: .server)
                #expect(!message.topic.isEmpty)
                decodedFromServer += 1
            case .clientToServer:
                // The recorded client sent a binary frame over v1 on purpose, to show the server's reaction.
                if transcript.name == "v1_binary_push", case .binary = phoenixFrame { continue }
                let message = try serializer.decode(phoenixFrame, from: .client)
                let reencoded = try serializer.encode(message, from: .client)
                try expectSameFrame(reencoded, phoenixFrame)
            }
        }
        #expect(decodedFromServer > 0 || transcript.handshakeStatus != 101)
    }

    @Test func serverMessagesReencodeAsTheServerWroteThem() throws {
        // A server-side encoder (for the sandbox and scripted servers) must produce what Phoenix does.
        for transcript in Self.transcripts {
            for frame in transcript.frames where frame.direction == .serverToClient {
                guard let phoenixFrame = frame.phoenixFrame else { continue }
                let message = try transcript.serializer.decode(phoenixFrame, from: .server)
                let reencoded = try transcript.serializer.encode(message, from: .server)
                try expectSameFrame(reencoded, phoenixFrame)
            }
        }
    }

    @Test func v2JoinReplyDecodesToItsParts() throws {
        let transcript = try #require(Self.transcripts.first { $0.name == "v2_join_ok" })
        let reply = try #require(transcript.frames.first { $0.direction == .serverToClient }?.phoenixFrame)
        let message = try PhoenixSerializer.jsonV2.decode(reply)
        #expect(message.joinRef == "1")
        #expect(message.ref == "1")
        #expect(message.topic == "interlocutor:6a1b2c3d4e5f60718293a4b5")
        #expect(message.kind == .reply(status: "ok"))
        #expect(message.payload == .json(#"{"control":false}"#))
    }

    @Test func recordedBinaryServerPushDecodes() throws {
        let transcript = try #require(Self.transcripts.first { $0.name == "binary_server_push" })
        let binary = try #require(
            transcript.frames.compactMap { frame -> [UInt8]? in
                if case .binary(let bytes) = frame.content, frame.direction == .serverToClient { return bytes }
                return nil
            }.first)
        let message = try PhoenixSerializer.jsonV2.decode(.binary(binary))
        #expect(message.joinRef == "1")
        #expect(message.ref == nil)
        #expect(message.topic == "interlocutor:6a1b2c3d4e5f60718293a4b5")
        #expect(message.event == "binary_event")
        #expect(message.payload == .binary([0x01, 0x02, 0x03, 0xff]))
    }

    @Test func v1ServerMessagesHaveNoJoinRef() throws {
        let transcript = try #require(Self.transcripts.first { $0.name == "v1_join_reply" })
        let messages = try transcript.frames.filter { $0.direction == .serverToClient }.compactMap(\.phoenixFrame).map {
            try PhoenixSerializer.jsonV1.decode($0)
        }
        #expect(
            messages.map(\.event) == [
                "phx_reply", "phx_reply", "phx_reply", "interlocutor_reply", "bot_reply", "phx_reply", "phx_close",
            ])
        #expect(messages.allSatisfy { $0.joinRef == nil })
        #expect(messages[3].ref == nil)
        #expect(messages[6].ref == "1")
    }

    private func expectSameFrame(
        _ actual: PhoenixFrame, _ expected: PhoenixFrame, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        switch (actual, expected) {
        case (.binary(let a), .binary(let b)): #expect(a == b, sourceLocation: sourceLocation)
        case (.text(let a), .text(let b)):
            let actualValue = try JSONSerialization.jsonObject(with: Data(a), options: [.fragmentsAllowed])
            let expectedValue = try JSONSerialization.jsonObject(with: Data(b), options: [.fragmentsAllowed])
            #expect(
                NSDictionary(dictionary: ["v": actualValue]).isEqual(to: ["v": expectedValue]),
                "\(String(decoding: a, as: UTF8.self)) != \(String(decoding: b, as: UTF8.self))",
                sourceLocation: sourceLocation)
        default: Issue.record("frame kinds differ: \(actual) vs \(expected)", sourceLocation: sourceLocation)
        }
    }
}
