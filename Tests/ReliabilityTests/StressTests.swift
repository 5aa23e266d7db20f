import ClustaarSDK
import ClustaarSandbox
import Foundation
import NIOPosix
import PhoenixProtocol
import Testing
import TransportLWS
import TransportPOSIX

/// Many services and channels at once against one sandbox: every message is accounted for,
/// exactly once, on its own channel.
@Suite(.timeLimit(.minutes(3))) struct StressTests {
    /// The shape of one run: `services` sockets, each with `channels` interlocutor channels,
    /// each channel saying `messages` things.
    struct Load: Sendable, CustomTestStringConvertible {
        var transport: TransportKind
        var services: Int
        var channels: Int
        var messages: Int
        var testDescription: String { "\(transport) \(services)×\(channels)×\(messages)" }
    }

    /// What one channel saw, to compare with what it should have seen.
    struct ChannelRecord: Sendable, Equatable {
        var interlocutorID: String
        var acknowledgements: Int
        var botTexts: [String]
        var botInterlocutorIDs: [String]
        var echoedTexts: [String]
        var extraAfterLeave: Int
    }

    #if TSAN
        // Under ThreadSanitizer everything runs 5-15 times slower and the full load would take
        // minutes (10 s for this one). The same shape, smaller, still exercises every path.
        static let loads: [Load] = [
            Load(transport: .posix, services: 10, channels: 10, messages: 2),
            Load(transport: .lws, services: 4, channels: 10, messages: 2),
        ]
    #else
        static let loads: [Load] = [
            Load(transport: .posix, services: 50, channels: 20, messages: 3),
            // One libwebsockets context and service thread per connection: fewer sockets keep it cheap.
            Load(transport: .lws, services: 10, channels: 20, messages: 3),
        ]
    #endif

    @Test(arguments: loads)
    func everyReplyOfEveryChannelArrivesOnceOnItsOwnChannel(load: Load) async throws {
        // Its own event loop, not NIO's shared singleton: the other suites' sandboxes, running in
        // the same process at the same time, must not queue behind these 1000 channels.
        let loop = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let sandbox = try await ClustaarSandboxServer.start(host: "127.0.0.1", port: 0, eventLoopGroup: loop)
        var services: [ClustaarWebChatService] = []
        for _ in 0..<load.services {
            var configuration = ClustaarWebChatService.Configuration()
            // Generous: on a loaded 2-core machine 1000 joins queue up; nothing should time out.
            configuration.joinTimeout = .seconds(120)
            configuration.pushTimeout = .seconds(120)
            // No heartbeat within the run, so the server-side message count below is exact.
            configuration.heartbeatInterval = .seconds(3600)
            services.append(
                try ClustaarWebChatService(
                    environment: sandbox.url, transport: load.transport.transport, configuration: configuration))
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for service in services { group.addTask { try await service.connect() } }
            try await group.waitForAll()
        }

        let records = try await withThrowingTaskGroup(of: ChannelRecord.self) { group in
            for (serviceIndex, service) in services.enumerated() {
                for channelIndex in 0..<load.channels {
                    group.addTask {
                        try await Self.converse(
                            on: service, interlocutorID: "stress-\(serviceIndex)-\(channelIndex)",
                            messages: load.messages)
                    }
                }
            }
            var records: [ChannelRecord] = []
            for try await record in group { records.append(record) }
            return records
        }

        #expect(records.count == load.services * load.channels)
        let expected = records.map { Self.expectedRecord(interlocutorID: $0.interlocutorID, messages: load.messages) }
        #expect(records == expected)
        #expect(Set(records.map(\.interlocutorID)).count == load.services * load.channels)
        // Joins, replies and leaves: nothing more, nothing less reached the server (heartbeats
        // are not due within the run: 30 s).
        let statistics = sandbox.statistics
        #expect(statistics.connectionsAccepted == load.services)
        #expect(statistics.messagesReceived == load.services * load.channels * (load.messages + 2))

        for service in services { await service.disconnect() }
        await sandbox.shutdown()
        try await loop.shutdownGracefully()
    }

    static func text(_ interlocutorID: String, _ number: Int) -> String { "\(interlocutorID) message \(number)" }

    static func expectedRecord(interlocutorID: String, messages: Int) -> ChannelRecord {
        let texts = (1...messages).map { text(interlocutorID, $0) }
        return ChannelRecord(
            interlocutorID: interlocutorID, acknowledgements: messages, botTexts: texts.map { "Echo: \($0)" },
            botInterlocutorIDs: Array(repeating: interlocutorID, count: messages), echoedTexts: texts,
            extraAfterLeave: 0)
    }

    /// Joins, says `messages` things one after the other, reads the bot's answers and the
    /// server's echoes, leaves, and checks that nothing else arrives before the streams end.
    static func converse(
        on service: ClustaarWebChatService, interlocutorID: String, messages: Int
    ) async throws -> ChannelRecord {
        let channel = service.interlocutorChannel(
            botID: "stress-bot", interlocutorID: interlocutorID, socketToken: "token-\(interlocutorID)")
        var botReplies = channel.botReplies.makeAsyncIterator()
        var echoes = channel.interlocutorReplies.makeAsyncIterator()
        #expect(try await channel.join() == JoinStatus(control: false))

        var record = ChannelRecord(
            interlocutorID: interlocutorID, acknowledgements: 0, botTexts: [], botInterlocutorIDs: [],
            echoedTexts: [], extraAfterLeave: 0)
        for number in 1...messages {
            try await channel.sendReply(token: "bot-token", .text(text(interlocutorID, number)))
            record.acknowledgements += 1
        }
        // The server sends the ack, the echo and the bot's answer in that order, so once every
        // ack is in, the answers are in flight: await exactly as many as were sent.
        for _ in 1...messages {
            guard let reply = await botReplies.next() else { break }
            for action in reply.actions {
                if case .text(let text) = action { record.botTexts.append(text.displayText ?? "") }
            }
            record.botInterlocutorIDs.append(reply.interlocutor?.id ?? "")
            guard let echo = await echoes.next() else { break }
            if case .text(let text) = echo { record.echoedTexts.append(text) }
        }
        await channel.leave()
        // The streams end with the channel: anything left over would be a duplicate.
        while await botReplies.next() != nil { record.extraAfterLeave += 1 }
        while await echoes.next() != nil { record.extraAfterLeave += 1 }
        return record
    }
}
