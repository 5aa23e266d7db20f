import ClustaarSDK
import ClustaarTestSupport
import Foundation
import PhoenixProtocol
import Testing

@Suite(.timeLimit(.minutes(1))) struct ServiceTests {
    @Test func connectOpensTheSocketAtTheVersionedURL() async throws {
        let harness = try Harness()
        var states = harness.service.connectionStates.makeAsyncIterator()
        try await harness.service.connect()
        #expect(await harness.service.isConnected)
        #expect(await states.next() == .connecting)
        #expect(await states.next() == .open)
        let request = try #require(harness.transport.requests.first)
        #expect(request.url.absoluteString == "wss://sockets.example.test/socket/websocket?vsn=2.0.0")
        #expect(request.subprotocols == [])
    }

    @Test func theAuthTokenGoesInSubprotocolsNeverInTheURL() async throws {
        let harness = try Harness {
            $0.authToken = "s3cr3t"
            $0.params = [PhoenixURLParameter("client", "ios")]
            $0.headers = [HTTPHeader("x-app", "demo")]
        }
        try await harness.service.connect()
        let request = try #require(harness.transport.requests.first)
        #expect(request.subprotocols == ["phoenix", "base64url.bearer.phx.czNjcjN0"])
        #expect(request.url.absoluteString == "wss://sockets.example.test/socket/websocket?client=ios&vsn=2.0.0")
        // Nor in a header of its own (the wire-level check is in ReliabilityTests' AuthTokenWireTests).
        #expect(request.headers == [HTTPHeader("x-app", "demo")])
        // And every reconnect offers it the same way.
        await harness.dropAndReconnect()
        await harness.eventually { harness.transport.requests.count == 2 }
        #expect(harness.transport.requests.map(\.subprotocols) == Array(repeating: request.subprotocols, count: 2))
        #expect(harness.transport.requests.map(\.url) == [request.url, request.url])
    }

    @Test func aRefusedFirstConnectThrowsAndStaysDisconnected() async throws {
        let transport = InMemoryTransport(autoAccept: false)
        let service = try ClustaarWebChatService(
            environment: URL(string: "ws://localhost:1/socket")!, transport: transport, clock: ManualClock())
        let refusing = Task {
            await transport.nextConnection()?.reject(TransportError(.connectFailed, "connection refused"))
        }
        await #expect(throws: ClustaarError.transport(TransportError(.connectFailed, "connection refused"))) {
            try await service.connect()
        }
        await refusing.value
        #expect(await !service.isConnected)
    }

    @Test func anInvalidEndpointIsAConfigurationError() {
        #expect(throws: ClustaarError.self) {
            _ = try ClustaarWebChatService(
                environment: URL(string: "ftp://example.com/socket")!, transport: InMemoryTransport(),
                clock: ManualClock())
        }
    }

    @Test func heartbeatsFlowOnTheClock() async throws {
        let harness = try Harness()
        try await harness.service.connect()
        // Answered heartbeats keep the socket open.
        for count in 1...3 {
            harness.clock.advance(by: .seconds(30))
            await harness.eventually { harness.server.heartbeatCount == count }
        }
        #expect(await harness.service.isConnected)
        #expect(harness.server.connectionCount == 1)
    }

    @Test func anUnansweredHeartbeatReconnects() async throws {
        let harness = try Harness { $0.reconnectPolicy = PhoenixReconnectPolicy(delays: [.milliseconds(10)]) }
        harness.server.answersHeartbeats = false
        try await harness.service.connect()
        var states = harness.service.connectionStates.makeAsyncIterator()
        harness.clock.advance(by: .seconds(30))  // first heartbeat goes out
        while harness.server.heartbeatCount < 1 { await Task.yield() }
        harness.clock.advance(by: .seconds(30))  // still unanswered: dead
        #expect(await states.next() == .error(TransportError(.connectionLost, "heartbeat timeout")))
        #expect(await states.next() == .closed(code: .normalClosure, reason: "heartbeat timeout"))
        #expect(await states.next() == .reconnecting(attempt: 1, delay: .milliseconds(10)))
        harness.clock.advance(by: .milliseconds(10))
        #expect(await states.next() == .connecting)
        #expect(await states.next() == .open)
        #expect(harness.transport.requests.count == 2)
    }

    @Test func disconnectEndsTheChannelsAndTheirPendingReplies() async throws {
        let harness = try Harness()
        let channel = harness.channel()
        _ = try await harness.joined(channel)
        var replies = channel.botReplies.makeAsyncIterator()
        let sent = Task { try await channel.sendReply(token: "bot-token", .text("Hello")) }
        _ = try await harness.server.nextMessage()  // the push, left unanswered
        await harness.service.disconnect()
        await #expect(throws: ClustaarError.cancelled(.disconnected)) { try await sent.value }
        #expect(await replies.next() == nil)
        #expect(await !harness.service.isConnected)
    }

    @Test func servicesAreIndependent() async throws {
        let first = try Harness()
        let second = try Harness()
        try await first.service.connect()
        #expect(await first.service.isConnected)
        #expect(await !second.service.isConnected)
        await first.service.disconnect()
        try await second.service.connect()
        #expect(await second.service.isConnected)
    }
}
