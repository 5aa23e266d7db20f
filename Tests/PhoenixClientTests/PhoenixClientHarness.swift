import ClustaarTestSupport
import Foundation
import PhoenixClient
import Testing
import TransportCore

/// A socket on an in-memory transport with a scripted server and a manual clock.
struct Harness {
    let transport = InMemoryTransport()
    let clock = ManualClock()
    let server: ScriptedPhoenixServer
    let socket: PhoenixSocket
    let serializer: PhoenixSerializer

    init(
        serializer: PhoenixSerializer = .jsonV2,
        configure: (inout PhoenixSocket.Configuration) -> Void = { _ in }
    ) throws {
        self.serializer = serializer
        server = ScriptedPhoenixServer(transport: transport, serializer: serializer)
        var configuration = PhoenixSocket.Configuration()
        configuration.serializer = serializer
        configuration.reconnectPolicy = PhoenixReconnectPolicy(delays: [.seconds(1)])
        configure(&configuration)
        socket = try PhoenixSocket(
            endpoint: URL(string: "ws://phoenix.example.test/socket")!, transport: transport,
            configuration: configuration, clock: clock)
    }

    /// The next message the client sent, as its JSON v2 text (`[join_ref, ref, topic, event,
    /// payload]`), so that tests compare whole frames.
    func nextFrame() async throws -> String {
        Self.text(try await server.nextMessage())
    }

    static func text(_ message: PhoenixMessage) -> String {
        guard let frame = try? PhoenixSerializer.jsonV2.encode(message), case .text(let bytes) = frame else {
            return "<binary \(message.topic) \(message.event) \(Array(message.payload.bytes))>"
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Connects, joins `channel` and answers the join with `response`.
    @discardableResult
    func joined(_ channel: PhoenixChannel, response: String = "{}") async throws -> PhoenixMessage {
        try await socket.connect()
        let joining = Task { try await channel.join() }
        let join = try await server.nextMessage()
        try server.reply(to: join, response: response)
        #expect(try await joining.value == .json(response))
        return join
    }

    /// Waits for the reconnect to be scheduled after a drop or close, and lets its delay pass.
    func reconnect(after states: inout AsyncStream<PhoenixConnectionState>.Iterator) async {
        while let state = await states.next() {
            if case .reconnecting(_, let delay) = state {
                clock.advance(by: delay)
                return
            }
        }
    }
}

/// The next `count` events of a channel, readable in one assertion.
func take(_ count: Int, from events: inout AsyncStream<PhoenixChannelEvent>.Iterator) async -> [String] {
    var out: [String] = []
    for _ in 0..<count { out.append(describe(await events.next())) }
    return out
}

func describe(_ event: PhoenixChannelEvent?) -> String {
    switch event {
    case nil: "end"
    case .message(let message): "message \(message.event) \(payloadText(message.payload))"
    case .joined(let response, let isRejoin): "\(isRejoin ? "rejoined" : "joined") \(payloadText(response))"
    case .errored(let cause): "errored \(cause)"
    case .rejected(let status, let response, let willRetry):
        "rejected \(status) \(payloadText(response))\(willRetry ? " retrying" : "")"
    case .closed(let cause): "closed \(cause)"
    }
}

func payloadText(_ payload: PhoenixPayload) -> String {
    switch payload {
    case .json(let bytes): String(decoding: bytes, as: UTF8.self)
    case .binary(let bytes): "binary\(Array(bytes))"
    }
}

/// Connects `socket` and joins `room:1` by hand through the in-memory server connection that
/// `transport` (the in-memory transport under the socket's) hands out: for tests that read
/// and write raw frames. Returns that connection and the iterator of what the client sends.
func connectAndJoinRoom1(
    _ socket: PhoenixSocket,
    through transport: InMemoryTransport
) async throws -> (server: InMemoryServerConnection, inbound: WebSocketInbound.AsyncIterator, channel: PhoenixChannel) {
    let accepting = Task { await transport.nextConnection() }
    try await socket.connect()
    let server = try #require(await accepting.value)
    var inbound = server.inbound.makeAsyncIterator()
    let channel = socket.channel("room:1")
    let joining = Task { try await channel.join() }
    #expect(try await inbound.next()?.string == #"["1","1","room:1","phx_join",{}]"#)
    try server.send(text: #"["1","1","room:1","phx_reply",{"status":"ok","response":{}}]"#)
    _ = try await joining.value
    return (server, inbound, channel)
}
