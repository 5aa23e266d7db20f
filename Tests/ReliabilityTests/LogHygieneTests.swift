import ClustaarSDK
import ClustaarSandbox
import ClustaarTestSupport
import Foundation
import Logging
import PhoenixProtocol
import Testing
import TransportLWS
import TransportPOSIX

/// Tokens never reach the logs: every log line of a service (message, metadata, source) is
/// captured at trace level through the configuration's logger while a conversation goes
/// through a rejected join, rejected replies, a crashed channel, dropped sockets, a heartbeat
/// timeout and reconnects, with distinctive tokens that a search cannot miss.
@Suite(.timeLimit(.minutes(2))) struct LogHygieneTests {
    static let authToken = "AUTHTOKEN-7f3c9e1d5a"
    static let socketToken = "SOCKETTOKEN-b24e8a6f90"
    static let refreshedSocketToken = "SOCKETTOKEN-REFRESHED-41c7d2"
    static let rejectedSocketToken = "SOCKETTOKEN-REJECTED-0d9e3b"
    static let botToken = "BOTTOKEN-5e61f0a2c8"

    /// Every secret, also as the auth-token subprotocol carries it (base64), so an encoded leak
    /// counts too.
    static var secrets: [String] {
        let plain = [authToken, socketToken, refreshedSocketToken, rejectedSocketToken, botToken]
        return plain + PhoenixSocketURL.authTokenSubprotocols(token: authToken).filter { $0 != "phoenix" }
    }

    @Test func noTokenIsLoggedThroughRejectionsCrashesAndReconnects() async throws {
        let logs = CapturedLogs()
        let transport = InMemoryTransport()
        let server = ScriptedPhoenixServer(transport: transport)
        let clock = ManualClock()
        var configuration = ClustaarWebChatService.Configuration()
        configuration.authToken = Self.authToken
        configuration.logger = logs.logger(label: "clustaar.sdk.test")
        configuration.reconnectPolicy = PhoenixReconnectPolicy(delays: [.milliseconds(10)])
        configuration.rejoinDelays = [.milliseconds(10)]
        let service = try ClustaarWebChatService(
            environment: URL(string: "ws://sockets.example.test/socket")!, transport: transport,
            configuration: configuration, clock: clock)
        try await service.connect()

        // A join refused for its socket token.
        let refused = service.interlocutorChannel(
            botID: "bot", interlocutorID: "refused", socketToken: Self.rejectedSocketToken)
        let refusing = Task { try await refused.join() }
        let refusedJoin = try await server.nextMessage()
        #expect(String(decoding: refusedJoin.payload.bytes, as: UTF8.self).contains(Self.rejectedSocketToken))
        try server.reply(to: refusedJoin, status: "error", response: #"{"reason":"unauthorized"}"#)
        await #expect(throws: ClustaarError.joinRejected(reason: ["reason": "unauthorized"])) {
            try await refusing.value
        }

        // A channel whose token comes from a provider: the first join, then every rejoin asks again.
        let provided = Locked(0)
        let channel = service.interlocutorChannel(interlocutorID: "talker") {
            let count = provided.withLock { count -> Int in
                count += 1
                return count
            }
            return JoinParams(botID: "bot", socketToken: count == 1 ? Self.socketToken : Self.refreshedSocketToken)
        }
        let joining = Task { try await channel.join() }
        let join = try await server.nextMessage()
        try server.reply(to: join, response: #"{"control":false}"#)
        #expect(try await joining.value == JoinStatus(control: false))

        // A reply the server rejects.
        let sending = Task { try await channel.sendReply(token: Self.botToken, .text("Hello")) }
        let push = try await server.nextMessage()
        #expect(String(decoding: push.payload.bytes, as: UTF8.self).contains(Self.botToken))
        try server.reply(to: push, status: "error", response: #"{"reason":"bad request"}"#)
        await #expect(throws: ClustaarError.self) { try await sending.value }

        // A frame the client cannot decode, then the channel crashes and rejoins with a new token.
        try server.send(
            PhoenixMessage(joinRef: nil, ref: nil, topic: "phoenix", event: "phx_reply", payload: .json("[1,2]")))
        try server.send(
            PhoenixMessage(
                joinRef: join.joinRef, ref: nil, topic: join.topic, event: "phx_error", payload: .emptyObject))
        await logs.eventually { $0.contains { $0.message.contains("channel errored") } }
        clock.advance(by: .milliseconds(10))
        let rejoin = try await server.nextMessage()
        #expect(rejoin.event == "phx_join")
        #expect(String(decoding: rejoin.payload.bytes, as: UTF8.self).contains(Self.refreshedSocketToken))
        try server.reply(to: rejoin, response: #"{"control":false}"#)

        // Heartbeats go unanswered: the socket is declared dead and reconnects, the channel rejoins.
        server.answersHeartbeats = false
        clock.advance(by: .seconds(30))
        while server.heartbeatCount < 1 { await Task.yield() }
        clock.advance(by: .seconds(30))
        await logs.eventually { $0.contains { $0.message.contains("heartbeat unanswered") } }
        server.answersHeartbeats = true
        while server.connectionCount < 2 {
            clock.advance(by: .milliseconds(10))
            await Task.yield()
        }
        let reconnectJoin = try await server.nextMessage()
        #expect(reconnectJoin.event == "phx_join")
        try server.reply(to: reconnectJoin, response: #"{"control":false}"#)
        await service.disconnect()

        let captured = logs.entries
        // The faults were logged (so the capture works), and no secret is in any of it.
        #expect(captured.contains { $0.message.contains("undecodable frame dropped") })
        #expect(captured.contains { $0.message.contains("channel errored") })
        #expect(captured.contains { $0.message.contains("heartbeat unanswered") })
        #expect(Self.leaks(in: captured) == [])
    }

    @Test(arguments: TransportKind.allCases)
    func noTokenIsLoggedInAConversationWithTheSandbox(kind: TransportKind) async throws {
        let logs = CapturedLogs()
        let sandbox = try await ClustaarSandboxServer.start(host: "127.0.0.1", port: 0)
        var configuration = ClustaarWebChatService.Configuration()
        configuration.authToken = Self.authToken
        configuration.logger = logs.logger(label: "clustaar.sdk.test")
        configuration.reconnectPolicy = PhoenixReconnectPolicy(delays: [.milliseconds(20)])
        configuration.rejoinDelays = [.milliseconds(20)]
        // Generous: a loaded machine (or ThreadSanitizer) must not turn a slow ack into a failure.
        configuration.joinTimeout = .seconds(60)
        configuration.pushTimeout = .seconds(60)
        let service = try ClustaarWebChatService(
            environment: sandbox.url, transport: kind.transport, configuration: configuration)
        try await service.connect()
        #expect(sandbox.statistics.lastAuthToken == Self.authToken)

        // The sandbox refuses the socket token "bad".
        let refused = service.interlocutorChannel(botID: "bot", interlocutorID: "refused", socketToken: "bad")
        await #expect(throws: ClustaarError.joinRejected(reason: ["reason": "unauthorized"])) {
            try await refused.join()
        }

        let channel = service.interlocutorChannel(botID: "bot", interlocutorID: "talker", socketToken: Self.socketToken)
        var replies = channel.botReplies.makeAsyncIterator()
        try await channel.join()
        try await channel.sendReply(token: Self.botToken, .text("Hello"))
        #expect(await Self.nextText(&replies) == "Echo: Hello")
        // The bot's error reply.
        await #expect(throws: ClustaarError.replyRejected(status: "error", response: ["reason": "bad request"])) {
            try await channel.sendReply(token: Self.botToken, .text("error"))
        }
        // The channel crashes (its push's fate is unknown), then rejoins by itself.
        await #expect(throws: ClustaarError.outcomeUnknown(.channelCrashed)) {
            try await channel.sendReply(token: Self.botToken, .text("crash"))
        }
        try await channel.sendReply(token: Self.botToken, .text("after the crash"))
        #expect(await Self.nextText(&replies) == "Echo: after the crash")
        // The server closes the socket; the service reconnects and the channel rejoins.
        var states = service.connectionStates.makeAsyncIterator()
        try await channel.sendReply(token: Self.botToken, .text("drop"))
        await Self.reopened(&states)
        try await channel.sendReply(token: Self.botToken, .text("after the drop"))
        #expect(await Self.nextText(&replies) == "Echo: after the drop")
        // The server restarts.
        try await sandbox.restart()
        await Self.reopened(&states)
        try await channel.sendReply(token: Self.botToken, .text("after the restart"))
        #expect(await Self.nextText(&replies) == "Echo: after the restart")
        #expect(sandbox.statistics.connectionsAccepted >= 3)
        #expect(sandbox.statistics.lastAuthToken == Self.authToken)

        await service.disconnect()
        await sandbox.shutdown()
        let captured = logs.entries
        #expect(captured.contains { $0.message.contains("channel errored") })
        #expect(Self.leaks(in: captured) == [])
    }

    /// Waits for the socket to close, then to open again.
    static func reopened(_ states: inout AsyncStream<ConnectionState>.Iterator) async {
        var closed = false
        while let state = await states.next() {
            switch state {
            case .closed, .error: closed = true
            default: break
            }
            if closed, state == .open { return }
        }
    }

    /// The next bot reply's first text, skipping nothing.
    static func nextText(_ replies: inout AsyncStream<BotReply>.Iterator) async -> String? {
        guard let reply = await replies.next() else { return nil }
        for action in reply.actions {
            if case .text(let text) = action { return text.displayText }
        }
        return nil
    }

    /// Every (secret, where) pair found in the captured logs.
    static func leaks(in entries: [CapturedLogs.Entry]) -> [String] {
        var found: [String] = []
        for entry in entries {
            for secret in secrets where entry.fullText.contains(secret) {
                found.append("\(secret) in \(entry.fullText)")
            }
        }
        return found
    }
}

/// Collects what a `Logger` made by `logger(label:)` emits, from any thread.
final class CapturedLogs: Sendable {
    struct Entry: Sendable {
        var level: Logger.Level
        var label: String
        var message: String
        var metadata: [String: String]
        var source: String

        /// Everything the entry carries, as one searchable text.
        var fullText: String {
            let pairs = metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            return ([label, source, message] + pairs).joined(separator: " | ")
        }
    }

    private let stored = Locked<[Entry]>([])

    var entries: [Entry] { stored.withLock { $0 } }

    /// A logger at `.trace` whose every line lands here.
    func logger(label: String) -> Logger {
        var logger = Logger(label: label) { label in Handler(label: label, logs: self) }
        logger.logLevel = .trace
        return logger
    }

    /// Yields until the entries satisfy `condition` (logging happens on the service's tasks).
    func eventually(_ condition: ([Entry]) -> Bool) async {
        while !condition(entries) { await Task.yield() }
    }

    fileprivate func append(_ entry: Entry) { stored.withLock { $0.append(entry) } }

    struct Handler: LogHandler {
        let label: String
        let logs: CapturedLogs
        var metadata: Logger.Metadata = [:]
        var metadataProvider: Logger.MetadataProvider?
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            var all = metadata
            if let provided = metadataProvider?.get() { all.merge(provided) { $1 } }
            if let own = event.metadata { all.merge(own) { $1 } }
            var flattened = all.mapValues { "\($0)" }
            if let error = event.error { flattened["error"] = "\(error)" }
            logs.append(
                Entry(
                    level: event.level, label: label, message: event.message.description, metadata: flattened,
                    source: event.source))
        }
    }
}
