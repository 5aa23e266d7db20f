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
/// order it happened. The server's events and the channel's own life share one order, so a chat
/// view can show "reconnecting…" and "back" exactly where they fell in the conversation.
///
/// A channel's life, as `events` tells it:
///
/// ```
/// joined(_, isRejoin: false)                     the first join (`join()` returns the same status)
/// … botReply, agentReply, controlChanged …
/// errored(.connectionLost)                       the socket dropped; the channel waits for it
/// errored(.joinTimedOut)                         (a rejoin unanswered: tried again later)
/// rejected(status:response:willRetry: true)      (a rejoin refused, retried by the join-error policy)
/// joined(_, isRejoin: true)                      back; the status is the server's state now
/// controlChanged(…)                              only when the rejoin's `control` differs
/// …
/// closed(.left)                                  the last event; the streams end
/// ```
public enum ChannelEvent: Sendable, Hashable {
    /// A reply of the bot (`bot_reply`).
    case botReply(BotReply)
    /// A message of a human agent (`agent_reply`).
    case agentReply(AgentReply)
    /// The server's echo of what the interlocutor sent (`interlocutor_reply`).
    case interlocutorReply(InterlocutorReplyBody)
    /// An agent took control, or gave it back to the bot: a `control` event of the server, or a
    /// rejoin whose `control` differs from the last one the channel told (then `at` is nil: the
    /// join reply does not say when it happened). It follows that rejoin's `.joined`.
    case controlChanged(ControlChange)
    /// An event whose payload could not be read; the channel goes on.
    case error(ChannelEventError)
    /// The server accepted a join: the first one of `join()` (`isRejoin` false), or one the
    /// channel made by itself after a drop, a crash or a refused rejoin (`isRejoin` true). The
    /// status says whether a human agent holds the conversation now.
    case joined(JoinStatus, isRejoin: Bool)
    /// The channel stopped working for now and rejoins by itself; the cause says why. Messages
    /// sent meanwhile wait (bounded) for the rejoin.
    case errored(ChannelErrorCause)
    /// The server refused a join (`status` is not `ok`; `response` is its answer, raw). With
    /// `willRetry` the join-error policy tries again later; without, `.closed(.joinRejected)`
    /// follows.
    case rejected(status: String, response: JSONValue, willRetry: Bool)
    /// The channel ended (left, closed by the server, refused, or the service disconnected):
    /// the last event; every stream ends after it. A new `join()` starts a new life.
    case closed(ChannelCloseCause)
}

/// Why a channel stopped working for now: it rejoins by itself.
public enum ChannelErrorCause: Sendable, Hashable, CustomStringConvertible {
    /// The connection was lost; the channel rejoins once the service has reconnected.
    case connectionLost
    /// The channel crashed on the server (`phx_error`, whose payload this is: null when it is
    /// not JSON); it rejoins after the rejoin delay.
    case crashed(JSONValue)
    /// A rejoin got no answer within the join timeout; it is tried again after the rejoin delay.
    case joinTimedOut

    public var description: String {
        switch self {
        case .connectionLost: "the connection was lost"
        case .crashed(let payload): "the channel crashed on the server: \(payload)"
        case .joinTimedOut: "the server did not answer the rejoin in time"
        }
    }
}

/// Why a channel ended: left, closed by the server, refused, timed out, or disconnected.
public typealias ChannelCloseCause = PhoenixChannelCloseCause

/// The event streams of one channel. PhoenixClient hands it each event of the channel as it is
/// produced; it decodes each Clustaar event once, straight from the payload bytes, and fans it out
/// (only when a stream that would show it has a subscriber: an app that reads no stream pays no
/// decoding).
/// It also remembers the last `control` the app was told, so that a rejoin whose reply differs
/// is reported as a control change, and one that agrees is not.
final class ChannelSink: PhoenixChannelObserver {
    private struct Streams {
        let botReplies = Broadcast<BotReply>()
        let agentReplies = Broadcast<AgentReply>()
        let interlocutorReplies = Broadcast<InterlocutorReplyBody>()
        let controlChanges = Broadcast<ControlChange>()
        let joinStatuses = Broadcast<JoinStatus>()
        let errors = Broadcast<ChannelEventError>()
        let events = Broadcast<ChannelEvent>()

        /// Whether a value of `kind`, or the error in its place, would reach anyone: the typed
        /// decoding (most of the cost of an event) is skipped when not.
        func isWatched<Value>(_ kind: Broadcast<Value>) -> Bool {
            kind.isObserved || events.isObserved || errors.isObserved
        }

        func finish() {
            botReplies.finish()
            agentReplies.finish()
            interlocutorReplies.finish()
            controlChanges.finish()
            joinStatuses.finish()
            errors.finish()
            events.finish()
        }
    }

    private struct State {
        var current = Streams()
        var ended = false
        /// The last control the app was told (a join, a rejoin, a `control` event); nil before
        /// the first join of this life.
        var control: Bool?
    }

    private let state = Locked(State())

    private var current: Streams { state.withLock { $0.current } }

    var botReplies: AsyncStream<BotReply> { current.botReplies.subscribe() }
    var agentReplies: AsyncStream<AgentReply> { current.agentReplies.subscribe() }
    var interlocutorReplies: AsyncStream<InterlocutorReplyBody> { current.interlocutorReplies.subscribe() }
    var controlChanges: AsyncStream<ControlChange> { current.controlChanges.subscribe() }
    var joinStatuses: AsyncStream<JoinStatus> { current.joinStatuses.subscribe() }
    var errors: AsyncStream<ChannelEventError> { current.errors.subscribe() }
    var events: AsyncStream<ChannelEvent> { current.events.subscribe() }
    var control: Bool? { state.withLock { $0.control } }

    func channelWillJoin() { reopenIfEnded() }

    func channel(_ event: PhoenixChannelEvent) {
        switch event {
        case .message(let message): deliver(event: message.event, payload: message.payload)
        case .joined(let response, let isRejoin): joined(response: response, isRejoin: isRejoin)
        case .errored(let cause):
            let clustaarCause: ChannelErrorCause =
                switch cause {
                case .connectionLost: .connectionLost
                case .crashed(let payload): .crashed(ClustaarError.json(payload))
                case .joinTimedOut: .joinTimedOut
                }
            current.events.send(.errored(clustaarCause))
        case .rejected(let status, let response, let willRetry):
            current.events.send(.rejected(status: status, response: ClustaarError.json(response), willRetry: willRetry))
        case .closed(let cause):
            current.events.send(.closed(cause))
            end()
        }
    }

    /// Before a new join of an ended channel: fresh streams (and no control told yet) for the
    /// new life.
    func reopenIfEnded() {
        state.withLock { state in
            if state.ended { state = State() }
        }
    }

    /// The channel ended: every stream finishes.
    func end() {
        let streams = state.withLock { state -> Streams? in
            guard !state.ended else { return nil }
            state.ended = true
            return state.current
        }
        streams?.finish()
    }

    /// A join succeeded: its status on `joinStatuses` and `events`, then, for a rejoin whose
    /// `control` differs from the last one told, the change. An unreadable reply is reported on
    /// `errors` and counts as the last control known (false if none): nothing is invented.
    private func joined(response: PhoenixPayload, isRejoin: Bool) {
        let streams = current
        var status: JoinStatus
        do {
            status = try ClustaarJSON.decode(JoinStatus.self, from: response.bytes)
        } catch {
            let failure = ChannelEventError.undecodable(event: PhoenixEvent.reply, error: error)
            streams.errors.send(failure)
            streams.events.send(.error(failure))
            status = JoinStatus(control: control ?? false)
        }
        let told = state.withLock { state -> Bool? in
            defer { state.control = status.control }
            return state.control
        }
        streams.joinStatuses.send(status)
        streams.events.send(.joined(status, isRejoin: isRejoin))
        if isRejoin, let told, told != status.control {
            let change = ControlChange(control: status.control, at: nil)
            streams.controlChanges.send(change)
            streams.events.send(.controlChanged(change))
        }
    }

    /// Decodes and fans out one server event. Replies and echoes nobody would see are not
    /// decoded at all; `control` always is, since the channel remembers it.
    func deliver(event: String, payload: PhoenixPayload) {
        let streams = current
        switch event {
        case ClustaarEvent.botReply:
            guard streams.isWatched(streams.botReplies) else { return }
            decode(BotReply.self, event, payload, into: streams.botReplies, as: ChannelEvent.botReply, streams)
        case ClustaarEvent.agentReply:
            guard streams.isWatched(streams.agentReplies) else { return }
            decode(AgentReply.self, event, payload, into: streams.agentReplies, as: ChannelEvent.agentReply, streams)
        case ClustaarEvent.interlocutorReply:
            guard streams.isWatched(streams.interlocutorReplies) else { return }
            decode(
                InterlocutorReplyBody.self, event, payload, into: streams.interlocutorReplies,
                as: ChannelEvent.interlocutorReply, streams)
        case ClustaarEvent.control:
            decode(
                ControlChange.self, event, payload, into: streams.controlChanges, as: ChannelEvent.controlChanged,
                streams
            ) { change in self.state.withLock { $0.control = change.control } }
        default: break  // Phoenix events and events of newer servers: nothing to show.
        }
    }

    private func decode<Value: Decodable & Sendable>(
        _ type: Value.Type,
        _ event: String,
        _ payload: PhoenixPayload,
        into broadcast: Broadcast<Value>,
        as wrap: (Value) -> ChannelEvent,
        _ streams: Streams,
        whenDecoded remember: (Value) -> Void = { _ in }
    ) {
        let failure: ChannelEventError
        do {
            switch try ClustaarEnvelope.decode(type, from: payload.bytes) {
            case .value(let value):
                remember(value)
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
