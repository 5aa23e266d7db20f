import ClustaarModels
import PhoenixProtocol
import TransportCore

/// An event payload that could not be turned into its value. The channel's streams go on.
public enum ChannelEventError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The payload of `event` is malformed; the error names the coding path.
    case undecodable(event: String, error: ClustaarDecodingError)
    /// The server sent an error in place of the value of `event` (reply envelope rule).
    case server(event: String, error: ClustaarServerError)

    public var description: String {
        switch self {
        case .undecodable(let event, let error): "\(event): \(error)"
        case .server(let event, let error): "\(event): \(error)"
        }
    }
}

/// The event streams of one channel. Decodes each inbound event once, straight from the
/// payload bytes, and fans it out.
final class ChannelSink: Sendable {
    private struct Streams {
        let botReplies = Broadcast<BotReply>()
        let agentReplies = Broadcast<AgentReply>()
        let interlocutorReplies = Broadcast<InterlocutorReplyBody>()
        let controlChanges = Broadcast<ControlChange>()
        let errors = Broadcast<ChannelEventError>()

        func finish() {
            botReplies.finish()
            agentReplies.finish()
            interlocutorReplies.finish()
            controlChanges.finish()
            errors.finish()
        }
    }

    private let streams = Locked((current: Streams(), ended: false))

    private var current: Streams { streams.withLock { $0.current } }

    var botReplies: AsyncStream<BotReply> { current.botReplies.subscribe() }
    var agentReplies: AsyncStream<AgentReply> { current.agentReplies.subscribe() }
    var interlocutorReplies: AsyncStream<InterlocutorReplyBody> { current.interlocutorReplies.subscribe() }
    var controlChanges: AsyncStream<ControlChange> { current.controlChanges.subscribe() }
    var errors: AsyncStream<ChannelEventError> { current.errors.subscribe() }

    /// Before a new join of an ended channel: fresh streams for the new life.
    func reopenIfEnded() {
        streams.withLock { state in
            if state.ended { state = (Streams(), false) }
        }
    }

    /// The channel ended: every stream finishes.
    func end() {
        let streams = streams.withLock { state -> Streams? in
            guard !state.ended else { return nil }
            state.ended = true
            return state.current
        }
        streams?.finish()
    }

    func deliver(event: String, payload: PhoenixPayload) {
        let streams = current
        switch event {
        case ClustaarEvent.botReply: decode(BotReply.self, event, payload, into: streams.botReplies, streams)
        case ClustaarEvent.agentReply: decode(AgentReply.self, event, payload, into: streams.agentReplies, streams)
        case ClustaarEvent.interlocutorReply:
            decode(InterlocutorReplyBody.self, event, payload, into: streams.interlocutorReplies, streams)
        case ClustaarEvent.control: decode(ControlChange.self, event, payload, into: streams.controlChanges, streams)
        default: break  // Phoenix events and events of newer servers: nothing to show.
        }
    }

    private func decode<Value: Decodable & Sendable>(
        _ type: Value.Type,
        _ event: String,
        _ payload: PhoenixPayload,
        into broadcast: Broadcast<Value>,
        _ streams: Streams
    ) {
        do {
            switch try ClustaarEnvelope.decode(type, from: payload.bytes) {
            case .value(let value): broadcast.send(value)
            case .serverError(let error): streams.errors.send(.server(event: event, error: error))
            }
        } catch {
            streams.errors.send(.undecodable(event: event, error: error))
        }
    }
}

/// The Clustaar event names on an interlocutor channel.
enum ClustaarEvent {
    static let botReply = "bot_reply"
    static let agentReply = "agent_reply"
    static let interlocutorReply = "interlocutor_reply"
    static let control = "control"
}
