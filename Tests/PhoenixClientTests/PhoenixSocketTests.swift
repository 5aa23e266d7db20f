import ClustaarTestSupport
import Foundation
import PhoenixClient
import Testing

/// The socket's behaviours that phoenix.js's socket tests check, on the in-memory transport with
/// the manual clock: states, URL, heartbeats, heartbeat timeout, reconnect schedule.
@Suite(.timeLimit(.minutes(1))) struct PhoenixSocketTests {
    @Test func connectAndDisconnectReportEveryState() async throws {
        let harness = try Harness { $0.params = [PhoenixURLParameter("user", "ada")] }
        var states = harness.socket.connectionStates.makeAsyncIterator()
        try await harness.socket.connect()
        #expect(await harness.socket.isConnected)
        await harness.socket.disconnect()
        #expect(await !harness.socket.isConnected)
        #expect(await states.next() == .connecting)
        #expect(await states.next() == .open)
        #expect(await states.next() == .closed(code: .normalClosure, reason: ""))
        #expect(
            harness.transport.requests.map(\.url.absoluteString) == [
                "ws://phoenix.example.test/socket/websocket?user=ada&vsn=2.0.0"
            ])
    }

    @Test func theJSONv1SerializerAsksForVersion1() async throws {
        let harness = try Harness(serializer: .jsonV1)
        try await harness.socket.connect()
        #expect(harness.transport.requests.first?.url.query == "vsn=1.0.0")
    }

    @Test func aRefusedFirstConnectThrowsTheTransportError() async throws {
        let transport = InMemoryTransport(autoAccept: false)
        let socket = try PhoenixSocket(
            endpoint: URL(string: "ws://localhost:1/socket")!, transport: transport, clock: ManualClock())
        let refusing = Task { await transport.nextConnection()?.reject(TransportError(.connectFailed, "refused")) }
        await #expect(throws: PhoenixClientError.transport(TransportError(.connectFailed, "refused"))) {
            try await socket.connect()
        }
        await refusing.value
        #expect(await !socket.isConnected)
    }

    @Test func anInvalidEndpointIsAConfigurationError() {
        let error = PhoenixClientError.invalidConfiguration(
            "the endpoint ftp://example.com/socket is not a ws, wss, http or https URL with a host")
        #expect(throws: error) {
            _ = try PhoenixSocket(
                endpoint: URL(string: "ftp://example.com/socket")!, transport: InMemoryTransport(),
                clock: ManualClock())
        }
    }

    /// Heartbeats go out every interval with a fresh ref; one still unanswered when the next is
    /// due closes the socket (1000 "heartbeat timeout") and reconnects.
    @Test func heartbeatsAndTheirTimeout() async throws {
        let transport = InMemoryTransport()
        let clock = ManualClock()
        var configuration = PhoenixSocket.Configuration()
        configuration.reconnectPolicy = PhoenixReconnectPolicy(delays: [.seconds(1)])
        let socket = try PhoenixSocket(
            endpoint: URL(string: "ws://phoenix.example.test/socket")!, transport: transport,
            configuration: configuration, clock: clock)
        var states = socket.connectionStates.makeAsyncIterator()
        var dropped = socket.droppedFrames.makeAsyncIterator()
        let accepting = Task { await transport.nextConnection() }
        try await socket.connect()
        let connection = try #require(await accepting.value)
        var inbound = connection.inbound.makeAsyncIterator()

        clock.advance(by: .seconds(30))
        #expect(try await inbound.next()?.string == #"[null,"1","phoenix","heartbeat",{}]"#)
        try connection.send(text: #"[null,"1","phoenix","phx_reply",{"status":"ok","response":{}}]"#)
        // Frames are handled in order: once this undecodable one is reported, the reply was read.
        try connection.send(text: "[]")
        #expect(await dropped.next() != nil)

        clock.advance(by: .seconds(30))
        #expect(try await inbound.next()?.string == #"[null,"2","phoenix","heartbeat",{}]"#)
        clock.advance(by: .seconds(30))  // unanswered
        #expect(try await inbound.next() == .close(code: .normalClosure, reason: "heartbeat timeout"))
        #expect(await states.next() == .connecting)
        #expect(await states.next() == .open)
        #expect(await states.next() == .error(TransportError(.connectionLost, "heartbeat timeout")))
        #expect(await states.next() == .closed(code: .normalClosure, reason: "heartbeat timeout"))
        #expect(await states.next() == .reconnecting(attempt: 1, delay: .seconds(1)))
        let reconnecting = Task { await transport.nextConnection() }
        clock.advance(by: .seconds(1))
        #expect(await states.next() == .connecting)
        #expect(await states.next() == .open)
        #expect(await reconnecting.value != nil)
        await socket.disconnect()
    }

    /// A heartbeat unanswered with a push in flight: the push's outcome is unknown, and its error
    /// says the server stopped answering heartbeats (the machine's cause, not a guess).
    @Test func aHeartbeatTimeoutWithAPushInFlightSaysSo() async throws {
        let transport = InMemoryTransport()
        let clock = ManualClock()
        var configuration = PhoenixSocket.Configuration()
        configuration.reconnectPolicy = PhoenixReconnectPolicy(delays: [.seconds(1)])
        let socket = try PhoenixSocket(
            endpoint: URL(string: "ws://phoenix.example.test/socket")!, transport: transport,
            configuration: configuration, clock: clock)
        let joined = try await connectAndJoinRoom1(socket, through: transport)
        let (connection, channel) = (joined.server, joined.channel)
        var inbound = joined.inbound

        let pushing = Task { try await channel.push("work", timeout: .seconds(600)) }
        #expect(try await inbound.next()?.string == #"["1","2","room:1","work",{}]"#)
        clock.advance(by: .seconds(30))
        #expect(try await inbound.next()?.string == #"[null,"3","phoenix","heartbeat",{}]"#)
        clock.advance(by: .seconds(30))  // unanswered
        #expect(try await inbound.next() == .close(code: .normalClosure, reason: "heartbeat timeout"))
        let error = PhoenixClientError.outcomeUnknown(.heartbeatTimedOut)
        await #expect(throws: error) { try await pushing.value }
        #expect(error.description == "no reply, outcome unknown: the server stopped answering heartbeats")
        await socket.disconnect()
    }

    /// Failed attempts follow the policy's delays, the last one repeating; `reconnectNow` skips
    /// a wait; the count starts again once open.
    @Test func reconnectsBackOffOnTheSchedule() async throws {
        let transport = InMemoryTransport(autoAccept: false)
        let clock = ManualClock()
        var configuration = PhoenixSocket.Configuration()
        configuration.reconnectPolicy = PhoenixReconnectPolicy(delays: [.seconds(1), .seconds(2), .seconds(5)])
        let socket = try PhoenixSocket(
            endpoint: URL(string: "ws://phoenix.example.test/socket")!, transport: transport,
            configuration: configuration, clock: clock)
        var attempts = transport.connections.makeAsyncIterator()
        var states = socket.connectionStates.makeAsyncIterator()
        let connecting = Task { try await socket.connect() }
        let first = try #require(await attempts.next())
        first.accept()
        try await connecting.value
        #expect(await states.next() == .connecting)
        #expect(await states.next() == .open)

        first.drop(reason: "reset")
        #expect(await states.next() == .error(TransportError(.connectionLost, "reset")))
        #expect(await states.next() == .closed(code: nil, reason: "reset"))
        var delays: [Duration] = []
        for _ in 1...4 {
            guard case .reconnecting(_, let delay) = await states.next() else {
                Issue.record("expected a reconnect")
                return
            }
            delays.append(delay)
            clock.advance(by: delay)
            #expect(await states.next() == .connecting)
            try #require(await attempts.next()).reject(TransportError(.connectFailed, "refused"))
            #expect(await states.next() == .error(TransportError(.connectFailed, "refused")))
            #expect(await states.next() == .closed(code: nil, reason: "refused"))
        }
        #expect(delays == [.seconds(1), .seconds(2), .seconds(5), .seconds(5)])
        #expect(await states.next() == .reconnecting(attempt: 5, delay: .seconds(5)))
        await socket.reconnectNow()  // no wait
        #expect(await states.next() == .connecting)
        try #require(await attempts.next()).accept()
        #expect(await states.next() == .open)
        try #require(transport.requests.count == 6)
        // Open again: the next drop starts the schedule over.
        await socket.disconnect()
    }
}
