import Foundation
import PhoenixProtocol
import TransportCore

/// One channel (one topic) of a `PhoenixSocket`: join it, push to it, read what the server sends.
///
/// ```swift
/// let room = socket.channel("room:lobby", params: .json(#"{"user":"ada"}"#))
/// Task { for await event in room.events { print(event) } }
/// try await room.join()
/// let reply = try await room.push("shout", .json(#"{"body":"hi"}"#))
/// ```
///
/// `events` is one ordered stream of the server's messages and the channel's life (joined,
/// errored, rejected, closed); `messages` has the messages only. Each access is a new
/// subscription that sees what happens from then on; any number may run at once. Both end after
/// the channel closes (left, closed by the server, refused, replaced, or the socket
/// disconnected); a later `join()` gives them a new life.
public final class PhoenixChannel: Sendable {
    /// Where the join params come from.
    package enum Params: Sendable {
        /// The same params for every join.
        case fixed(PhoenixPayload)
        /// Asked before the first join and before every rejoin.
        case provided(@Sendable () async throws -> PhoenixPayload)
    }

    /// The channel's topic (`room:lobby`).
    public let topic: String
    /// The socket the channel lives on.
    public let socket: PhoenixSocket
    private let params: Params
    let outlet: PhoenixChannelOutlet

    init(socket: PhoenixSocket, topic: String, params: Params, observer: (any PhoenixChannelObserver)?) {
        self.socket = socket
        self.topic = topic
        self.params = params
        outlet = PhoenixChannelOutlet(observer: observer)
    }

    /// Joins the channel and returns the server's reply. If the socket is not open yet, the join
    /// waits for it. Once joined, the channel rejoins by itself after every drop or crash
    /// (`events` tells each time).
    ///
    /// - Throws: `.joinRejected` (the server's reason), `.joinTimedOut` (the channel is then
    ///   left), `.alreadyJoined`, `.reservedTopic`, `.joinParamsUnavailable` (the params provider
    ///   failed), `.unencodable` (the join cannot be written in this wire format),
    ///   `.cancelled` (task cancelled, left, replaced, closed by the server, or disconnected).
    @discardableResult
    public func join() async throws(PhoenixClientError) -> PhoenixPayload {
        let first: PhoenixPayload
        var provider: (@Sendable () async throws -> PhoenixPayload)?
        switch params {
        case .fixed(let payload): first = payload
        case .provided(let makeParams):
            do {
                first = try await makeParams()
            } catch {
                throw .joinParamsUnavailable("\(error)")
            }
            provider = makeParams
        }
        return try await socket.core.join(outlet, topic: topic, params: first, paramsProvider: provider)
    }

    /// Joins the channel and decodes the server's reply as `type`.
    ///
    /// - Throws: what `join()` throws, and `.undecodable` when the reply is not a `type`.
    public func join<Reply: Decodable>(
        replyAs type: Reply.Type,
        decoder: JSONDecoder = JSONDecoder()
    ) async throws(PhoenixClientError) -> Reply {
        let reply = try await join()
        return try PhoenixCoding.decode(type, from: reply, using: decoder, what: "join reply")
    }

    /// Leaves the channel. Returns once the server confirmed (or the leave timed out); pushes
    /// waiting to be sent fail with `.cancelled(.left)`, and the streams end after `.closed(.left)`.
    public func leave() async {
        await socket.core.leave(outlet, topic: topic)
    }

    /// Whether the channel is joined now.
    public var isJoined: Bool {
        get async { await socket.core.isJoined(outlet, topic: topic) }
    }

    /// The channel's state in the socket's state machine; nil when this object holds no channel
    /// (never joined, ended, or replaced).
    package var state: PhoenixChannelState? {
        get async { await socket.core.channelState(outlet, topic: topic) }
    }

    /// Pushes `event` with `payload` (JSON text, or `.binary` bytes with the JSON v2 serializer)
    /// and returns the server's `ok` reply.
    ///
    /// Made while the channel is (re)joining, the push waits (bounded) and goes out once joined.
    /// It is sent at most once: if the connection drops or the channel crashes before the reply,
    /// the call throws `.outcomeUnknown` with the cause, and nothing is re-sent.
    ///
    /// - Parameter event: the event name the server's `handle_in/3` matches.
    /// - Parameter payload: the payload (default `{}`).
    /// - Parameter timeout: how long to wait for the reply (default: the socket's push timeout).
    /// - Throws: `.replyRejected` (a non-ok reply), `.replyTimedOut`, `.outcomeUnknown`,
    ///   `.notJoined`, `.bufferFull`, `.unencodable` (e.g. binary with JSON v1), `.cancelled`.
    @discardableResult
    public func push(
        _ event: String,
        _ payload: PhoenixPayload = .emptyObject,
        timeout: Duration? = nil
    ) async throws(PhoenixClientError) -> PhoenixPayload {
        try await socket.core.push(outlet, topic: topic, event: event, payload: payload, timeout: timeout).get()
    }

    /// Pushes `event` with bytes, in a binary frame (JSON v2).
    @discardableResult
    public func push(
        _ event: String,
        binary bytes: some Sequence<UInt8>,
        timeout: Duration? = nil
    ) async throws(PhoenixClientError) -> PhoenixPayload {
        try await push(event, .binary(ArraySlice(bytes)), timeout: timeout)
    }

    /// Pushes `event` with `value` encoded as JSON, and returns the raw reply.
    @discardableResult
    public func push(
        _ event: String,
        encoding value: some Encodable,
        encoder: JSONEncoder = JSONEncoder(),
        timeout: Duration? = nil
    ) async throws(PhoenixClientError) -> PhoenixPayload {
        try await push(event, try PhoenixCoding.encode(value, using: encoder), timeout: timeout)
    }

    /// Pushes `event` with `value` encoded as JSON, and decodes the reply as `type`.
    public func push<Reply: Decodable>(
        _ event: String,
        encoding value: some Encodable,
        replyAs type: Reply.Type,
        encoder: JSONEncoder = JSONEncoder(),
        decoder: JSONDecoder = JSONDecoder(),
        timeout: Duration? = nil
    ) async throws(PhoenixClientError) -> Reply {
        let reply = try await push(event, try PhoenixCoding.encode(value, using: encoder), timeout: timeout)
        return try PhoenixCoding.decode(type, from: reply, using: decoder, what: "\(event) reply")
    }

    /// Everything that happens on the channel, in order: messages and its life (joined with
    /// whether it is a rejoin, errored with why, rejected, closed).
    public var events: AsyncStream<PhoenixChannelEvent> { outlet.events }

    /// The server's messages only, in order.
    public var messages: AsyncStream<PhoenixChannelMessage> { outlet.messages }
}
