import PhoenixProtocol
import TransportCore

/// A Phoenix server that a test scripts by hand, over an `InMemoryTransport`.
///
/// It accepts every connection the transport gets (one at a time, as a real socket server
/// would see a reconnecting client), answers heartbeats by itself (unless told not to), and
/// hands every other client message to the test, which replies, pushes, closes or drops:
///
/// ```swift
/// let server = ScriptedPhoenixServer(transport: transport)
/// let join = try await server.nextMessage()            // the client's phx_join
/// try server.reply(to: join, response: #"{"control":false}"#)
/// try server.push(topic: join.topic, event: "bot_reply", payload: replyJSON, joinRef: join.ref)
/// ```
public final class ScriptedPhoenixServer: Sendable {
    /// The wire format it reads and writes.
    public let serializer: PhoenixSerializer
    private let transport: InMemoryTransport
    private let messages = AsyncQueue<PhoenixMessage>()
    private let state = Locked(State())
    private let loop: Task<Void, Never>

    private struct State {
        var connection: InMemoryServerConnection?
        var answersHeartbeats = true
        var connectionCount = 0
        var heartbeatCount = 0
    }

    /// Serves `transport` from now on.
    public init(transport: InMemoryTransport, serializer: PhoenixSerializer = .jsonV2) {
        self.transport = transport
        self.serializer = serializer
        let state = state
        let messages = messages
        loop = Task {
            for await connection in transport.connections {
                state.withLock {
                    $0.connection = connection
                    $0.connectionCount += 1
                }
                do {
                    for try await message in connection.inbound {
                        let frame: PhoenixFrame
                        switch message {
                        case .text(let bytes): frame = .text(bytes)
                        case .binary(let bytes): frame = .binary(bytes)
                        case .close: continue
                        }
                        guard let decoded = try? serializer.decode(frame, from: .client) else { continue }
                        if decoded.topic == PhoenixEvent.heartbeatTopic, decoded.event == PhoenixEvent.heartbeat {
                            let answer = state.withLock { state -> Bool in
                                state.heartbeatCount += 1
                                return state.answersHeartbeats
                            }
                            if answer {
                                let reply = PhoenixMessage.reply(
                                    joinRef: nil, ref: decoded.ref, topic: decoded.topic, status: "ok",
                                    response: .emptyObject)
                                if let frame = try? serializer.encode(reply, from: .server) {
                                    try? connection.send(Self.message(frame))
                                }
                            }
                            continue
                        }
                        messages.append(decoded)
                    }
                } catch {}
            }
            messages.finish()
        }
    }

    deinit { loop.cancel() }

    /// Whether heartbeats are answered (default true). Off, the client's heartbeat times out.
    public var answersHeartbeats: Bool {
        get { state.withLock { $0.answersHeartbeats } }
        set { state.withLock { $0.answersHeartbeats = newValue } }
    }

    /// Connections accepted so far.
    public var connectionCount: Int { state.withLock { $0.connectionCount } }

    /// Heartbeats received so far.
    public var heartbeatCount: Int { state.withLock { $0.heartbeatCount } }

    /// The next message the client sent (heartbeats excepted), in order.
    public func nextMessage() async throws -> PhoenixMessage {
        guard let message = await messages.next() else {
            throw TransportError(.closed, "the scripted server's transport finished")
        }
        return message
    }

    /// Answers `message` (a push, join or leave) with a reply.
    public func reply(to message: PhoenixMessage, status: String = "ok", response: String = "{}") throws {
        try send(
            .reply(
                joinRef: message.joinRef, ref: message.ref, topic: message.topic, status: status,
                response: .json(response)))
    }

    /// Sends an event to the client on `topic`, as a channel push (with the join's ref).
    public func push(topic: String, event: String, payload: String, joinRef: String?) throws {
        try send(PhoenixMessage(joinRef: joinRef, ref: nil, topic: topic, event: event, payload: .json(payload)))
    }

    /// Sends any message to the client.
    public func send(_ message: PhoenixMessage) throws {
        guard let connection = state.withLock({ $0.connection }) else {
            throw TransportError(.closed, "no client is connected")
        }
        try connection.send(Self.message(try serializer.encode(message, from: .server)))
    }

    /// Closes the current connection with a close frame.
    public func close(code: CloseCode = .normalClosure, reason: String = "") {
        state.withLock { $0.connection }?.close(code: code, reason: reason)
    }

    /// Drops the current connection without a close frame.
    public func drop(reason: String = "connection dropped") {
        state.withLock { $0.connection }?.drop(reason: reason)
    }

    private static func message(_ frame: PhoenixFrame) -> WebSocketMessage {
        switch frame {
        case .text(let bytes): .text(bytes)
        case .binary(let bytes): .binary(bytes)
        }
    }
}
