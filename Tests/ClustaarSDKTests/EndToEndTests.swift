import ClustaarSDK
import ClustaarSandbox
import Foundation
import PhoenixProtocol
import Testing
import TransportLWS
import TransportPOSIX

/// The whole path over real loopback sockets: SDK → state machine → serializer → transport →
/// the sandbox server (swift-nio) and back, for each transport and each wire format.
@Suite(.timeLimit(.minutes(2))) struct EndToEndTests {
    enum TransportKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case posix, lws
        var transport: any Transport {
            switch self {
            case .posix: POSIXTransport()
            case .lws: LWSTransport()
            }
        }
        var testDescription: String { rawValue }
    }

    static let combinations: [(TransportKind, PhoenixSerializer)] = TransportKind.allCases.flatMap { kind in
        PhoenixSerializer.allCases.map { (kind, $0) }
    }

    struct Setup {
        let sandbox: ClustaarSandboxServer
        let service: ClustaarWebChatService
        let channel: InterlocutorChannel

        init(
            _ kind: TransportKind, _ serializer: PhoenixSerializer, socketToken: String = "tok-123",
            configure: (inout ClustaarWebChatService.Configuration) -> Void = { _ in }
        ) async throws {
            sandbox = try await ClustaarSandboxServer.start(host: "127.0.0.1", port: 0)
            var configuration = ClustaarWebChatService.Configuration()
            configuration.serializer = serializer
            configuration.reconnectPolicy = PhoenixReconnectPolicy(delays: [.milliseconds(20)])
            configure(&configuration)
            service = try ClustaarWebChatService(
                environment: sandbox.url, transport: kind.transport, configuration: configuration)
            channel = service.interlocutorChannel(
                botID: Harness.botID, interlocutorID: Harness.interlocutorID, socketToken: socketToken)
        }

        func tearDown() async {
            await service.disconnect()
            await sandbox.shutdown()
        }
    }

    @Test(arguments: combinations)
    func aConversation(kind: TransportKind, serializer: PhoenixSerializer) async throws {
        let setup = try await Setup(kind, serializer)
        try await setup.service.connect()
        var replies = setup.channel.botReplies.makeAsyncIterator()
        var control = setup.channel.controlChanges.makeAsyncIterator()
        var agent = setup.channel.agentReplies.makeAsyncIterator()
        #expect(try await setup.channel.join() == JoinStatus(control: false))

        try await setup.channel.sendReply(token: "bot-token", .text("Hello"))
        let echo = try #require(await replies.next())
        guard case .text(let text) = echo.actions.first else {
            Issue.record("expected a text action, got \(echo.actions)")
            return
        }
        #expect(text.displayText == "Echo: Hello")

        try await setup.channel.sendReply(token: "bot-token", .customEvent(name: "cart_abandoned"))
        #expect(await replies.next() != nil)

        try await setup.channel.sendReply(token: "bot-token", .text("rich"))
        let rich = try #require(await replies.next())
        #expect(rich.actions.count >= 12)
        #expect(!rich.actions.contains { if case .unknown = $0 { true } else { false } })

        try await setup.channel.sendReply(token: "bot-token", .text("take control"))
        #expect(await control.next()?.control == true)
        #expect(await agent.next() != nil)
        try await setup.channel.sendReply(token: "bot-token", .text("release control"))
        #expect(await control.next()?.control == false)
        #expect(await replies.next() != nil)

        await setup.channel.leave()
        #expect(await replies.next() == nil)  // the channel's streams end with it
        await setup.tearDown()
    }

    @Test(arguments: TransportKind.allCases)
    func aBadTokenIsRejected(kind: TransportKind) async throws {
        let setup = try await Setup(kind, .jsonV2, socketToken: "bad")
        try await setup.service.connect()
        await #expect(throws: ClustaarError.joinRejected(reason: ["reason": "unauthorized"])) {
            try await setup.channel.join()
        }
        await setup.tearDown()
    }

    @Test(arguments: combinations)
    func aServerRestartMidConversation(kind: TransportKind, serializer: PhoenixSerializer) async throws {
        let setup = try await Setup(kind, serializer)
        try await setup.service.connect()
        try await setup.channel.join()
        var states = setup.service.connectionStates.makeAsyncIterator()

        // A message the server never acknowledges, then the server goes down and comes back.
        setup.sandbox.setBehavior(SandboxBehavior(bot: .silent))
        let unacknowledged = Task { try await setup.channel.sendReply(token: "bot-token", .text("lost?")) }
        while setup.sandbox.statistics.messagesReceived < 2 { await Task.yield() }
        try await setup.sandbox.restart()
        setup.sandbox.setBehavior(SandboxBehavior())
        // Reported, never silently lost nor re-sent.
        await #expect(throws: ClustaarError.outcomeUnknown) { try await unacknowledged.value }

        var reopened = false
        while let state = await states.next() {
            if state == .open {
                reopened = true
                break
            }
        }
        #expect(reopened)
        // The channel rejoins by itself; a message made meanwhile waits for the rejoin.
        var replies = setup.channel.botReplies.makeAsyncIterator()
        try await setup.channel.sendReply(token: "bot-token", .text("back"))
        #expect(await replies.next() != nil)
        #expect(await setup.channel.isJoined)
        await setup.tearDown()
    }

    @Test(arguments: TransportKind.allCases)
    func anUnansweredHeartbeatReconnects(kind: TransportKind) async throws {
        // A 1 s interval: a loaded machine can take longer than 100 ms to answer a heartbeat, and an
        // early timeout would then happen before the test silences the server.
        let setup = try await Setup(kind, .jsonV2) { $0.heartbeatInterval = .seconds(1) }
        try await setup.service.connect()
        try await setup.channel.join()
        var states = setup.service.connectionStates.makeAsyncIterator()
        setup.sandbox.setBehavior(SandboxBehavior(answersHeartbeats: false))
        var seen: [ConnectionState] = []
        while let state = await states.next() {
            seen.append(state)
            if state == .error(TransportError(.connectionLost, "heartbeat timeout")) {
                setup.sandbox.setBehavior(SandboxBehavior())
            }
            // On a very loaded machine (ThreadSanitizer) a heartbeat can still time out and reconnect
            // before the server stopped answering: wait for the open after our timeout.
            if state == .open, seen.contains(.error(TransportError(.connectionLost, "heartbeat timeout"))) { break }
        }
        let timedOut = try #require(
            seen.firstIndex(of: .error(TransportError(.connectionLost, "heartbeat timeout"))))
        // The server answers our close (1000, "heartbeat timeout") with its own 1000.
        #expect(seen[timedOut...].contains(.closed(code: .normalClosure, reason: "")), "\(seen)")
        #expect(seen.last == .open)
        await setup.tearDown()
    }
}
