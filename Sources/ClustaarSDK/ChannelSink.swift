import ClustaarModels
import PhoenixClient
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
        case .undecodable(let event, let error): "cannot read a \(event) event: \(error)"
        case .server(let event, let error): "the server sent an error in place of a \(event) event: \(error)"
        }
    }
}

/// Everything a channel receives, as one value: what `InterlocutorChannel.events` yields, in the
/// order the server sent it.
public enum ChannelEvent: Sendable, Hashable {
    /// A reply of the bot (`bot_reply`).
    case botReply(BotReply)
    /// A message of a human agent (`agent_reply`).
    case agentReply(AgentReply)
    /// The server's echo of what the interlocutor sent (`interlocutor_reply`).
    case interlocutorReply(InterlocutorReplyBody)
    /// An agent took control, or gave it back to the bot (`control`).
    case controlChanged(ControlChange)
    /// An event whose payload could not be read; the channel goes on.
    case error(ChannelEventError)
}

/// The event streams of one channel. PhoenixClient hands it each event of the channel as it is
/// produced; it decodes each Clustaar event once, straight from the payload bytes, and fans it out.
final class ChannelSink: PhoenixChannelObserver {
    private struct Streams {
        let botReplies = Broadcast<BotReply>()
        let agentReplies = Broadcast<AgentReply>()
        let interlocutorReplies = Broadcast<InterlocutorReplyBody>()
        let controlChanges = Broadcast<ControlChange>()
        let errors = Broadcast<ChannelEventError>()
        let events = Broadcast<ChannelEvent>()

        func finish() {
            botReplies.finish()
            agentReplies.finish()
            interlocutorReplies.finish()
            controlChanges.finish()
            errors.finish()
            events.finish()
        }
    }

    private let streams = Locked((current: Streams(), ended: false))

    private var current: Streams { streams.withLock { $0.current } }

    var botReplies: AsyncStream<BotReply> { current.botReplies.subscribe() }
    var agentReplies: AsyncStream<AgentReply> { current.agentReplies.subscribe() }
    var interlocutorReplies: AsyncStream<InterlocutorReplyBody> { current.interlocutorReplies.subscribe() }
    var controlChanges: AsyncStream<ControlChange> { current.controlChanges.subscribe() }
    var errors: AsyncStream<ChannelEventError> { current.errors.subscribe() }
    var events: AsyncStream<ChannelEvent> { current.events.subscribe() }

    func channelWillJoin() { reopenIfEnded() }

    func channel(_ event: PhoenixChannelEvent) {
        switch event {
        case .message(let message): deliver(event: message.event, payload: message.payload)
        case .closed: end()
        // The channel's life reaches the Clustaar streams with issue 17.
        case .joined, .errored, .rejected: break
        }
    }

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
        case ClustaarEvent.botReply:
            decode(BotReply.self, event, payload, into: streams.botReplies, as: ChannelEvent.botReply, streams)
        case ClustaarEvent.agentReply:
            decode(AgentReply.self, event, payload, into: streams.agentReplies, as: ChannelEvent.agentReply, streams)
        case ClustaarEvent.interlocutorReply:
            decode(
                InterlocutorReplyBody.self, event, payload, into: streams.interlocutorReplies,
                as: ChannelEvent.interlocutorReply, streams)
        case ClustaarEvent.control:
            decode(
                ControlChange.self, event, payload, into: streams.controlChanges, as: ChannelEvent.controlChanged,
                streams)
        default: break  // Phoenix events and events of newer servers: nothing to show.
        }
    }

    private func decode<Value: Decodable & Sendable>(
        _ type: Value.Type,
        _ event: String,
        _ payload: PhoenixPayload,
        into broadcast: Broadcast<Value>,
        as wrap: (Value) -> ChannelEvent,
        _ streams: Streams
    ) {
        let failure: ChannelEventError
        do {
            switch try ClustaarEnvelope.decode(type, from: payload.bytes) {
            case .value(let value):
                // The kind's stream first, then the ordered stream: both see the server's order.
                broadcast.send(value)
                streams.events.send(wrap(value))
                return
            case .serverError(let error): failure = .server(event: event, error: error)
            }
        } catch {
            failure = .undecodable(event: event, error: error)
        }
        streams.errors.send(failure)
        streams.events.send(.error(failure))
    }
}

/// The Clustaar event names on an interlocutor channel.
enum ClustaarEvent {
    static let botReply = "bot_reply"
    static let agentReply = "agent_reply"
    static let interlocutorReply = "interlocutor_reply"
    static let control = "control"
}
