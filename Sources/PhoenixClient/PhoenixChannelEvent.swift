import Foundation
import PhoenixProtocol
import TransportCore

/// One event the server pushed or broadcast on a channel: its name and payload, as received.
public struct PhoenixChannelMessage: Sendable, Hashable {
    /// The event name (`new_msg`, `presence_diff`...).
    public let event: String
    /// The payload: JSON text (a slice of the frame), or bytes from a binary frame.
    public let payload: PhoenixPayload

    /// A message with its event name and payload (tests build the messages they expect).
    public init(event: String, payload: PhoenixPayload) {
        self.event = event
        self.payload = payload
    }

    /// The payload decoded as `type` from its JSON.
    ///
    /// - Throws: `.undecodable` when the payload is binary or does not decode.
    public func decode<Value: Decodable>(
        _ type: Value.Type,
        using decoder: JSONDecoder = JSONDecoder()
    ) throws(PhoenixClientError) -> Value {
        try PhoenixCoding.decode(type, from: payload, using: decoder, what: "\(event) payload")
    }
}

/// Everything that happens on a channel, in order: the server's messages and the channel's own
/// life. `PhoenixChannel.events` yields these; every stream ends after one `.closed`.
public enum PhoenixChannelEvent: Sendable, Hashable {
    /// A server push or broadcast.
    case message(PhoenixChannelMessage)
    /// The server accepted a join; `response` is its reply. `isRejoin` is false for the first
    /// join of `join()` and true for every rejoin the socket made by itself afterwards.
    case joined(response: PhoenixPayload, isRejoin: Bool)
    /// The channel stopped working and will rejoin by itself; the cause says why.
    case errored(PhoenixChannelErrorCause)
    /// The server refused a join. `willRetry` true: the join-error policy retries it; false: the
    /// channel is gone and `.closed(.joinRejected)` follows.
    case rejected(status: String, response: PhoenixPayload, willRetry: Bool)
    /// The channel ended; the stream ends after this event. A new `join()` starts a new life.
    case closed(PhoenixChannelCloseCause)
}

/// Why a channel stopped working for now (it rejoins by itself).
public enum PhoenixChannelErrorCause: Sendable, Hashable, CustomStringConvertible {
    /// The socket's connection was lost; the channel rejoins when it reopens.
    case connectionLost
    /// The channel crashed on the server (`phx_error`, with its payload); it rejoins after the
    /// rejoin delay.
    case crashed(PhoenixPayload)
    /// A rejoin got no answer within the join timeout; it is tried again after the rejoin delay.
    case joinTimedOut

    public var description: String {
        switch self {
        case .connectionLost: "the connection was lost"
        case .crashed(let payload): "the server's channel crashed: \(payload.logText())"
        case .joinTimedOut: "no answer to the rejoin within the join timeout"
        }
    }
}

/// Why a channel ended.
public enum PhoenixChannelCloseCause: Sendable, Hashable, CustomStringConvertible {
    /// `leave()` (the server confirmed, or the leave timed out, or there was no socket).
    case left
    /// The server closed the channel (`phx_close`).
    case closedByServer
    /// The socket was disconnected by the app.
    case disconnected
    /// Another channel object joined the same topic and replaced this one.
    case replaced
    /// The server refused the join for good (the `.rejected` event before this one says how).
    case joinRejected
    /// The first join got no answer within the join timeout; the channel was left.
    case joinTimedOut
    /// The join could not be written in this wire format.
    case joinUnencodable
    /// The join's frame was over the connection's size limit (`WebSocketLimits.maxMessageSize`).
    case joinTooLarge

    public var description: String {
        switch self {
        case .left: "left"
        case .closedByServer: "closed by the server"
        case .disconnected: "disconnected"
        case .replaced: "replaced by another join of the same topic"
        case .joinRejected: "the join was refused"
        case .joinTimedOut: "the join timed out"
        case .joinUnencodable: "the join could not be encoded"
        case .joinTooLarge: "the join was over the connection's size limit"
        }
    }
}

/// What receives a channel's events as the socket produces them, on the socket's own executor:
/// the layer above PhoenixClient (ClustaarSDK) decodes its typed streams here without a second
/// hand-off. It must not block.
package protocol PhoenixChannelObserver: Sendable {
    /// A new join starts a new life of the channel (after an earlier `.closed`).
    func channelWillJoin()
    /// One event, in order.
    func channel(_ event: PhoenixChannelEvent)
    /// One event with the channel's join ref at that moment (that of the join sent last; nil
    /// while no join is in flight or joined). By default, `channel(_:)`.
    func channel(_ event: PhoenixChannelEvent, joinRef: String?)
    /// The outcome of a push on the channel, in order with the events (before its caller
    /// resumes). A push given up because its task was cancelled is not reported.
    func channel(_ event: String, replied result: Result<PhoenixPayload, PhoenixClientError>)
}

extension PhoenixChannelObserver {
    package func channel(_ event: PhoenixChannelEvent, joinRef: String?) { channel(event) }
    package func channel(_ event: String, replied result: Result<PhoenixPayload, PhoenixClientError>) {}
}

/// An observer added to a channel after it was made (`PhoenixPresence`): told of the channel's
/// events after its own observer, in order, on the socket's executor, for as long as it lives.
protocol PhoenixChannelFollower: AnyObject, PhoenixChannelObserver {}

/// The channel's streams and observer: what the socket core delivers to.
final class PhoenixChannelOutlet: Sendable {
    private struct Streams {
        let events = Broadcast<PhoenixChannelEvent>()
        let messages = Broadcast<PhoenixChannelMessage>()
    }

    private struct WeakFollower {
        weak var follower: (any PhoenixChannelFollower)?
    }

    private let streams = Locked((current: Streams(), ended: false, followers: [WeakFollower]()))
    let observer: (any PhoenixChannelObserver)?

    init(observer: (any PhoenixChannelObserver)?) { self.observer = observer }

    /// Adds `follower`: it is told every event from now on.
    func follow(_ follower: any PhoenixChannelFollower) {
        streams.withLock { state in
            state.followers.removeAll { $0.follower == nil }
            state.followers.append(WeakFollower(follower: follower))
        }
    }

    var events: AsyncStream<PhoenixChannelEvent> { streams.withLock { $0.current }.events.subscribe() }
    var messages: AsyncStream<PhoenixChannelMessage> { streams.withLock { $0.current }.messages.subscribe() }

    /// Before a join: an ended channel gets fresh streams for its new life.
    func reopenIfEnded() {
        let reopened = streams.withLock { state -> [WeakFollower]? in
            guard state.ended else { return nil }
            state.current = Streams()
            state.ended = false
            return state.followers
        }
        guard let followers = reopened else { return }
        observer?.channelWillJoin()
        for follower in followers { follower.follower?.channelWillJoin() }
    }

    /// Delivers `event`; `joinRef` is the channel's join ref now.
    func deliver(_ event: PhoenixChannelEvent, joinRef: String? = nil) {
        let (current, ended, followers) = streams.withLock { ($0.current, $0.ended, $0.followers) }
        guard !ended else { return }
        observer?.channel(event, joinRef: joinRef)
        for follower in followers { follower.follower?.channel(event, joinRef: joinRef) }
        if case .message(let message) = event { current.messages.send(message) }
        current.events.send(event)
    }

    /// Delivers `.closed(cause)` and ends every stream (once).
    func end(_ cause: PhoenixChannelCloseCause) {
        let ending = streams.withLock { state -> (Streams, [WeakFollower])? in
            guard !state.ended else { return nil }
            state.ended = true
            return (state.current, state.followers)
        }
        guard let (current, followers) = ending else { return }
        observer?.channel(.closed(cause), joinRef: nil)
        for follower in followers { follower.follower?.channel(.closed(cause), joinRef: nil) }
        current.events.send(.closed(cause))
        current.events.finish()
        current.messages.finish()
    }
}

/// JSON coding of payloads for the Codable conveniences.
enum PhoenixCoding {
    static func encode(_ value: some Encodable, using encoder: JSONEncoder) throws(PhoenixClientError)
        -> PhoenixPayload
    {
        do {
            return .json(ArraySlice(try encoder.encode(value)))
        } catch {
            throw .unencodable("\(error)")
        }
    }

    static func decode<Value: Decodable>(
        _ type: Value.Type,
        from payload: PhoenixPayload,
        using decoder: JSONDecoder,
        what: String
    ) throws(PhoenixClientError) -> Value {
        guard case .json(let bytes) = payload else {
            throw .undecodable("the \(what) is binary, not JSON")
        }
        do {
            return try decoder.decode(type, from: Data(bytes))
        } catch let error as DecodingError {
            throw .undecodable("the \(what) does not have the expected shape: \(PhoenixCoding.explain(error))")
        } catch {
            throw .undecodable("the \(what): \(error)")
        }
    }

    static func explain(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let joined = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(
                separator: ".")
            return joined.isEmpty ? "" : " at \(joined)"
        }
        switch error {
        case .typeMismatch(_, let context): return "wrong type\(path(context))"
        case .valueNotFound(_, let context): return "missing value\(path(context))"
        case .keyNotFound(let key, let context): return "missing key \(key.stringValue)\(path(context))"
        case .dataCorrupted(let context): return "invalid JSON\(path(context))"
        @unknown default: return "invalid"
        }
    }
}
