import ClustaarTestSupport
import Foundation
import PhoenixClient
import Testing
import TransportCore

/// `{"x":"aaa…"}` whose push frame `["1","2","room:1","big",…]` (33 bytes without the a's) is
/// exactly 100 bytes.
private let bigPayload = PhoenixPayload.json(#"{"x":""# + String(repeating: "a", count: 67) + #""}"#)

/// A frame over the connection's `maxMessageSize` is refused by every transport: the socket must
/// fail that push (or join) at once with its size, and keep the connection working.
@Suite("Pushes and joins over the size limit")
struct OversizePushTests {
    private func socket(
        _ transport: some Transport,
        clock: ManualClock,
        maxMessageSize: Int = 64
    ) throws -> PhoenixSocket {
        var configuration = PhoenixSocket.Configuration()
        configuration.limits.maxMessageSize = maxMessageSize
        configuration.reconnectPolicy = PhoenixReconnectPolicy(delays: [.seconds(1)])
        return try PhoenixSocket(
            endpoint: URL(string: "ws://phoenix.example.test/socket")!, transport: transport,
            configuration: configuration, clock: clock)
    }

    @Test func aPushOverTheLimitFailsAtOnceAndThePushesAndHeartbeatsBehindItGoOut() async throws {
        let transport = InMemoryTransport()
        let clock = ManualClock()
        let socket = try socket(transport, clock: clock)
        let joined = try await connectAndJoinRoom1(socket, through: transport)
        let (connection, channel) = (joined.server, joined.channel)
        var inbound = joined.inbound

        // No clock move: the failure comes at once, not at the push timeout.
        let error = PhoenixClientError.tooLarge(size: 100, limit: 64)
        await #expect(throws: error) { try await channel.push("big", bigPayload) }
        #expect(
            error.description
                == "not sent: the message is 100 bytes, over the connection's limit of 64 bytes (maxMessageSize)")
        #expect(await socket.pendingPushCount == 0)

        let next = Task { try await channel.push("small") }
        #expect(try await inbound.next()?.string == #"["1","3","room:1","small",{}]"#)
        try connection.send(text: #"["1","3","room:1","phx_reply",{"status":"ok","response":{"n":1}}]"#)
        #expect(try await next.value == .json(#"{"n":1}"#))
        clock.advance(by: .seconds(30))
        #expect(try await inbound.next()?.string == #"[null,"4","phoenix","heartbeat",{}]"#)
        #expect(await socket.isConnected)
        await socket.disconnect()
    }

    @Test func aJoinOverTheLimitFailsAtOnce() async throws {
        let transport = InMemoryTransport()
        let clock = ManualClock()
        let socket = try socket(transport, clock: clock)
        let accepting = Task { await transport.nextConnection() }
        try await socket.connect()
        let connection = try #require(await accepting.value)
        var inbound = connection.inbound.makeAsyncIterator()
        // `["0","0","room:1","phx_join",{"x":"…"}]`, 38 bytes without the a's (the machine checks
        // the join before it takes a ref).
        let params = PhoenixPayload.json(#"{"x":""# + String(repeating: "a", count: 62) + #""}"#)
        let tooLarge = socket.channel("room:1", params: params)
        await #expect(throws: PhoenixClientError.tooLarge(size: 100, limit: 64)) { try await tooLarge.join() }
        let channel = socket.channel("room:1")
        let joining = Task { try await channel.join() }
        #expect(try await inbound.next()?.string == #"["1","1","room:1","phx_join",{}]"#)
        try connection.send(text: #"["1","1","room:1","phx_reply",{"status":"ok","response":{}}]"#)
        _ = try await joining.value
        await socket.disconnect()
    }

    /// A transport that refuses a frame the socket let through (its own limit is lower than the
    /// request's): the socket closes that connection with the reason instead of going deaf, the
    /// push in flight learns its outcome is unknown, and the socket reconnects. Both ways a frame
    /// goes: straight in (`trySend`), or through the writer task (`send`, a transport on the
    /// default `trySend`).
    @Test(arguments: [true, false])
    func aFrameTheTransportRefusesClosesTheConnectionWithTheReason(queuesWithTrySend: Bool) async throws {
        let inner = InMemoryTransport()
        let transport = StricterTransport(inner: inner, limit: 80, queuesWithTrySend: queuesWithTrySend)
        let clock = ManualClock()
        let socket = try socket(transport, clock: clock, maxMessageSize: 1000)
        var states = socket.connectionStates.makeAsyncIterator()
        let joined = try await connectAndJoinRoom1(socket, through: inner)
        let channel = joined.channel
        var inbound = joined.inbound
        let inFlight = Task { try await channel.push("first") }
        #expect(try await inbound.next()?.string == #"["1","2","room:1","first",{}]"#)

        let refused = Task { try await channel.push("big", bigPayload) }
        #expect(
            try await inbound.next()
                == .close(code: .internalServerError, reason: "frame not sent: message too big"))
        let lost = PhoenixClientError.outcomeUnknown(
            .connectionLost(code: .internalServerError, reason: "frame not sent: message too big"))
        await #expect(throws: lost) { try await inFlight.value }
        await #expect(throws: lost) { try await refused.value }
        #expect(await states.next() == .connecting)
        #expect(await states.next() == .open)
        #expect(
            await states.next() == .closed(code: .internalServerError, reason: "frame not sent: message too big"))
        #expect(await states.next() == .reconnecting(attempt: 1, delay: .seconds(1)))
        await socket.disconnect()
    }
}

/// An in-memory transport whose connections refuse messages over `limit` bytes, whatever the
/// request's limits say.
private struct StricterTransport: Transport {
    let inner: InMemoryTransport
    let limit: Int
    let queuesWithTrySend: Bool

    func withConnection<Result: Sendable>(
        to request: WebSocketRequest,
        _ body: (any WebSocketConnection) async throws -> Result
    ) async throws -> Result {
        try await inner.withConnection(to: request) { connection in
            try await body(StricterConnection(inner: connection, limit: limit, queuesWithTrySend: queuesWithTrySend))
        }
    }
}

private struct StricterConnection: WebSocketConnection {
    let inner: any WebSocketConnection
    let limit: Int
    /// False: as the protocol's default, every message goes through `send`.
    let queuesWithTrySend: Bool

    var subprotocol: String? { inner.subprotocol }
    var inbound: WebSocketInbound { inner.inbound }

    func send(_ message: WebSocketMessage) async throws(TransportError) {
        try check(message)
        try await inner.send(message)
    }

    func trySend(_ message: WebSocketMessage) throws(TransportError) -> Bool {
        guard queuesWithTrySend else { return false }
        try check(message)
        return try inner.trySend(message)
    }

    func close(code: CloseCode, reason: String) async { await inner.close(code: code, reason: reason) }

    private func check(_ message: WebSocketMessage) throws(TransportError) {
        if case .text(let bytes) = message, bytes.count > limit {
            throw TransportError(.messageTooBig, "\(bytes.count) bytes")
        }
    }
}
