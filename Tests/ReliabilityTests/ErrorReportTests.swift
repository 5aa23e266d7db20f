import ClustaarSDK
import ClustaarTestSupport
import Foundation
import Logging
import PhoenixProtocol
import Testing

/// What a user reads when a reply in flight ends badly: the error names the cause, and the log
/// lines show the server's payload as JSON and the close code by number and name.
@Suite(.timeLimit(.minutes(1))) struct ErrorReportTests {
    struct Conversation {
        let logs = CapturedLogs()
        let transport = InMemoryTransport()
        let server: ScriptedPhoenixServer
        let service: ClustaarWebChatService
        let channel: InterlocutorChannel
        let join: PhoenixMessage

        init() async throws {
            server = ScriptedPhoenixServer(transport: transport)
            var configuration = ClustaarWebChatService.Configuration()
            configuration.logger = logs.logger(label: "clustaar.sdk.test")
            service = try ClustaarWebChatService(
                environment: URL(string: "ws://sockets.example.test/socket")!, transport: transport,
                configuration: configuration, clock: ManualClock())
            try await service.connect()
            channel = service.interlocutorChannel(botID: "bot", interlocutorID: "talker", socketToken: "token")
            let joining = Task { [channel] in try await channel.join() }
            join = try await server.nextMessage()
            try server.reply(to: join, response: #"{"control":false}"#)
            _ = try await joining.value
        }

        /// Sends a reply, lets `interrupt` end it before the ack, returns the error thrown.
        func replyInterrupted(by interrupt: () throws -> Void) async throws -> ClustaarError? {
            let sending = Task { [channel] in try await channel.sendReply(token: "bot-token", .text("Hello")) }
            _ = try await server.nextMessage()
            try interrupt()
            return await #expect(throws: ClustaarError.self) { try await sending.value }
        }
    }

    @Test func aChannelCrashWhileAReplyIsInFlight() async throws {
        let conversation = try await Conversation()
        let join = conversation.join
        let error = try await conversation.replyInterrupted {
            try conversation.server.send(
                PhoenixMessage(
                    joinRef: join.joinRef, ref: join.joinRef, topic: join.topic, event: "phx_error",
                    payload: .emptyObject))
        }
        #expect(error == .outcomeUnknown(.channelCrashed))
        #expect(error?.description == "no acknowledgement, outcome unknown: the server's channel crashed")
        await conversation.logs.eventually { $0.contains { $0.message == "channel errored, rejoining" } }
        let line = conversation.logs.entries.first { $0.message == "channel errored, rejoining" }
        #expect(line?.metadata == ["topic": join.topic, "reason": "the server's channel crashed: {}"])
        await conversation.service.disconnect()
    }

    @Test func aServerCloseWhileAReplyIsInFlight() async throws {
        let conversation = try await Conversation()
        let error = try await conversation.replyInterrupted {
            conversation.server.close(code: .internalServerError, reason: "boom")
        }
        #expect(error == .outcomeUnknown(.connectionLost(code: .internalServerError, reason: "boom")))
        #expect(
            error?.description
                == #"no acknowledgement, outcome unknown: the connection closed with code 1011 (internal server error): "boom""#
        )
        await conversation.logs.eventually { $0.contains { $0.message == "connection closed" } }
        let closed = conversation.logs.entries.first { $0.message == "connection closed" }
        #expect(closed?.metadata == ["code": "1011 (internal server error)", "reason": "boom"])
        let errored = conversation.logs.entries.first { $0.message == "channel errored, rejoining" }
        #expect(
            errored?.metadata["reason"] == #"the connection closed with code 1011 (internal server error): "boom""#)
        await conversation.service.disconnect()
    }

    @Test func aDropWhileAReplyIsInFlight() async throws {
        let conversation = try await Conversation()
        let error = try await conversation.replyInterrupted {
            conversation.server.drop(reason: "connection reset by peer")
        }
        #expect(error == .outcomeUnknown(.connectionLost(code: nil, reason: "connection reset by peer")))
        #expect(
            error?.description
                == "no acknowledgement, outcome unknown: the connection dropped (connection reset by peer)")
        await conversation.service.disconnect()
    }
}
