import PhoenixProtocol

/// A Phoenix server played in memory, with no I/O and no time: give it each frame the client
/// sent, it returns the frames a Phoenix 1.7 server would answer, in order.
///
/// It answers heartbeats, accepts joins (unless `rejectJoin` says otherwise), replies `ok` with
/// `{}` to other events (unless `handle` says otherwise), answers leaves with ok then
/// `phx_close`, and answers pushes to topics it has not joined with `unmatched topic`, as the
/// real server does. `restart()` forgets every join, like a restarted server.
public struct AutoReplyPhoenixServer: Sendable {
    /// How the server answers a client event on a joined topic.
    public enum Answer: Sendable, Hashable {
        /// `phx_reply` with this status and response (JSON text).
        case reply(status: String, response: String)
        /// No reply at all (a handler that never answers).
        case none
        /// The channel crashes: `phx_error` with the join ref, and the topic is no longer joined.
        case crash
    }

    /// The wire format it reads and writes.
    public let serializer: PhoenixSerializer
    /// Topic to join ref, for every joined channel.
    public private(set) var joinRefs: [String: String] = [:]
    /// Every message the client sent, decoded, in order.
    public private(set) var received: [PhoenixMessage] = []
    /// Frames the server could not decode.
    public private(set) var undecodable = 0
    /// Returns a reason (JSON text of the response) to reject a join, or nil to accept it.
    public var rejectJoin: @Sendable (_ topic: String, _ params: PhoenixPayload) -> String?
    /// Answers a client event on a joined topic.
    public var handle: @Sendable (_ message: PhoenixMessage) -> Answer

    /// A server that accepts every join unless `rejectJoin` gives a reason, and answers every
    /// other event as `handle` says (by default `ok` with `{}`).
    public init(
        serializer: PhoenixSerializer = .jsonV2,
        rejectJoin: @escaping @Sendable (String, PhoenixPayload) -> String? = { _, _ in nil },
        handle: @escaping @Sendable (PhoenixMessage) -> Answer = { _ in .reply(status: "ok", response: "{}") }
    ) {
        self.serializer = serializer
        self.rejectJoin = rejectJoin
        self.handle = handle
    }

    /// The server's answer to one client frame.
    public mutating func receive(_ frame: PhoenixFrame) -> [PhoenixFrame] {
        guard let message = try? serializer.decode(frame, from: .client) else {
            undecodable += 1
            return []
        }
        received.append(message)
        let topic = message.topic
        switch message.event {
        case PhoenixEvent.heartbeat where topic == PhoenixEvent.heartbeatTopic:
            return reply(to: message, joinRef: nil, status: "ok", response: "{}")
        case PhoenixEvent.join:
            if let reason = rejectJoin(topic, message.payload) {
                return reply(to: message, joinRef: message.joinRef, status: "error", response: reason)
            }
            var frames: [PhoenixFrame] = []
            let previous = joinRefs[topic]
            joinRefs[topic] = message.joinRef
            frames += reply(to: message, joinRef: message.joinRef, status: "ok", response: "{}")
            if let previous, previous != message.joinRef {
                // A duplicate join replaces the old channel, which is closed after the new reply.
                frames += event(topic: topic, joinRef: previous, ref: previous, event: PhoenixEvent.close)
            }
            return frames
        case PhoenixEvent.leave:
            guard let joinRef = joinRefs.removeValue(forKey: topic) else {
                return reply(to: message, joinRef: message.joinRef, status: "ok", response: "{}")
            }
            return reply(to: message, joinRef: joinRef, status: "ok", response: "{}")
                + event(topic: topic, joinRef: joinRef, ref: joinRef, event: PhoenixEvent.close)
        default:
            guard let joinRef = joinRefs[topic] else {
                return reply(to: message, joinRef: nil, status: "error", response: #"{"reason":"unmatched topic"}"#)
            }
            switch handle(message) {
            case .reply(let status, let response):
                return reply(to: message, joinRef: joinRef, status: status, response: response)
            case .none:
                return []
            case .crash:
                joinRefs[topic] = nil
                return event(topic: topic, joinRef: joinRef, ref: joinRef, event: PhoenixEvent.error)
            }
        }
    }

    /// A server push on a joined topic (nil if the topic is not joined).
    public func push(topic: String, event name: String, payload: String) -> PhoenixFrame? {
        guard let joinRef = joinRefs[topic] else { return nil }
        let message = PhoenixMessage(joinRef: joinRef, ref: nil, topic: topic, event: name, payload: .json(payload))
        return try? serializer.encode(message, from: .server)
    }

    /// Forgets every join, like a server that restarted.
    public mutating func restart() { joinRefs.removeAll() }

    private func reply(to message: PhoenixMessage, joinRef: String?, status: String, response: String)
        -> [PhoenixFrame]
    {
        let reply = PhoenixMessage.reply(
            joinRef: joinRef,
            ref: message.ref,
            topic: message.topic,
            status: status,
            response: .json(response)
        )
        return (try? serializer.encode(reply, from: .server)).map { [$0] } ?? []
    }

    private func event(topic: String, joinRef: String, ref: String, event name: String) -> [PhoenixFrame] {
        let message = PhoenixMessage(joinRef: joinRef, ref: ref, topic: topic, event: name, payload: .emptyObject)
        return (try? serializer.encode(message, from: .server)).map { [$0] } ?? []
    }
}
