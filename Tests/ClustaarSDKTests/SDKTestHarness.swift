import ClustaarSDK
import ClustaarTestSupport
import Foundation
import PhoenixProtocol
import Testing

/// A service on an in-memory transport with a scripted server and a manual clock.
struct Harness {
    let transport = InMemoryTransport()
    let clock = ManualClock()
    let server: ScriptedPhoenixServer
    let service: ClustaarWebChatService

    static let interlocutorID = "6a1b2c3d4e5f60718293a4b5"
    static let topic = "interlocutor:\(interlocutorID)"
    static let botID = "5c8a1f0e9d3b2a0012c4e5f6"

    init(configure: (inout ClustaarWebChatService.Configuration) -> Void = { _ in }) throws {
        server = ScriptedPhoenixServer(transport: transport)
        var configuration = ClustaarWebChatService.Configuration()
        configure(&configuration)
        service = try ClustaarWebChatService(
            environment: URL(string: "wss://sockets.example.test/socket")!, transport: transport,
            configuration: configuration, clock: clock)
    }

    func channel(socketToken: String = "tok-123") -> InterlocutorChannel {
        service.interlocutorChannel(
            botID: Self.botID, interlocutorID: Self.interlocutorID, socketToken: socketToken,
            origin: "https://example.com", isLogged: false)
    }

    /// Connects, joins `channel` and answers the join with `control`.
    func joined(_ channel: InterlocutorChannel, control: Bool = false) async throws -> PhoenixMessage {
        try await service.connect()
        let status = Task { try await channel.join() }
        let join = try await server.nextMessage()
        try server.reply(to: join, response: #"{"control":\#(control)}"#)
        #expect(try await status.value == JoinStatus(control: control))
        return join
    }
}

extension Harness {
    /// Drops the connection, waits for the reconnect to be scheduled, and lets its delay pass.
    func dropAndReconnect() async {
        var states = service.connectionStates.makeAsyncIterator()
        server.drop()
        while let state = await states.next() {
            if case .reconnecting(_, let delay) = state {
                clock.advance(by: delay)
                return
            }
        }
    }

    /// Yields until `condition` holds (the service works on other tasks).
    func eventually(_ condition: () -> Bool) async {
        while !condition() { await Task.yield() }
    }
}

/// The payload as a JSON value, for comparisons that ignore key order.
func json(_ payload: PhoenixPayload) throws -> JSONValue {
    try ClustaarJSON.decode(JSONValue.self, from: payload.bytes)
}

func json(_ text: String) throws -> JSONValue {
    try ClustaarJSON.decode(JSONValue.self, from: ArraySlice(text.utf8))
}

let echoBotReply = #"""
    {"fulfillment":{"actions":[{"alternatives":["Echo: Hello"],"text":"Echo: Hello","type":"send_text_action"}],
    "source":{"step":{"id":"5c8a6f9e2b1d4a0012f3e7c1","name":"Welcome","type":"step"},"type":"step"}},
    "input":{"message":"Hello","type":"text"},"interlocutor":{"id":"6a1b2c3d4e5f60718293a4b5","type":"interlocutor"},
    "session":{"values":{}}}
    """#

extension ClustaarError {
    /// `.outcomeUnknown` because the connection was lost: its close code and reason depend on
    /// the transport and on where the connection broke.
    var isOutcomeUnknownAfterAConnectionLoss: Bool {
        if case .outcomeUnknown(.connectionLost) = self { return true }
        return false
    }
}
