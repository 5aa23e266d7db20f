import Foundation
import Logging
import PhoenixProtocol

/// The presences of a channel (Phoenix.Presence), kept in sync as phoenix.js's `Presence` keeps
/// them: who is there, and who joins and leaves.
///
/// ```swift
/// let room = socket.channel("room:lobby", params: .json(#"{"user":"ada"}"#))
/// let presence = PhoenixPresence(channel: room)
/// let updates = presence.updates
/// try await room.join()
/// for await update in updates {
///     if case .synced(let list) = update { print(list.map(\.key)) }
/// }
/// ```
///
/// Make it before `join()`: the server sends the full state (`presence_state`) right after the
/// join, then a diff (`presence_diff`) for every join and leave. A diff that arrives before the
/// state of the channel's current join is held and applied right after that state, and the state
/// a rejoin brings replaces the one held (the difference is reported as joins and leaves). A key
/// may have several metas (one per tracked process), told apart by `phx_ref`.
///
/// The presence follows the channel's messages as the socket receives them, with no task in
/// between: `updates` come in the server's order, and `list()` is up to date as soon as a sync
/// is delivered. After the channel ends, the last state stays readable; a new join of the same
/// channel object syncs again.
public final class PhoenixPresence: Sendable {
    /// The event names presence travels in: `presence_state` and `presence_diff` by default, as
    /// in phoenix.js (`new Presence(channel, {events: {state, diff}})`).
    public typealias EventNames = PhoenixPresenceState.Events

    /// The channel followed.
    public let channel: PhoenixChannel
    private let follower: PresenceFollower

    /// Follows the presences of `channel`. Make it before the channel joins, or the first
    /// state is missed (and diffs are held until a rejoin brings one).
    ///
    /// - Parameter channel: the channel whose presences to follow.
    /// - Parameter eventNames: the names of the state and diff events.
    public convenience init(channel: PhoenixChannel, eventNames: EventNames = EventNames()) {
        self.init(channel: channel, eventNames: eventNames, onUpdates: nil)
    }

    /// For tools in this package (phx-client): `onUpdates` is also given the updates of each
    /// presence event (those `updates` yields), on the socket's executor, in order with the
    /// channel's observer. It must not block.
    package init(
        channel: PhoenixChannel,
        eventNames: EventNames = EventNames(),
        onUpdates: (@Sendable ([PhoenixPresenceUpdate]) -> Void)?
    ) {
        self.channel = channel
        follower = PresenceFollower(
            eventNames: eventNames, logger: channel.socket.configuration.logger, topic: channel.topic,
            onUpdates: onUpdates)
        channel.outlet.follow(follower)
    }

    /// The event names followed.
    public var eventNames: EventNames { follower.eventNames }

    /// Everyone present, in the order the keys joined, each with its metas (oldest first).
    public func list() -> [PhoenixPresenceEntry] {
        follower.state.withLock { $0.model.list() }
    }

    /// Everyone present, with each meta decoded as `type` from its JSON (`phx_ref` included).
    ///
    /// - Throws: `.undecodable` when a meta is not a `type`.
    public func list<Meta: Decodable>(
        metasAs type: Meta.Type,
        decoder: JSONDecoder = JSONDecoder()
    ) throws(PhoenixClientError) -> [(key: String, metas: [Meta])] {
        var decoded: [(key: String, metas: [Meta])] = []
        for entry in list() {
            decoded.append((entry.key, try entry.decodeMetas(as: type, decoder: decoder)))
        }
        return decoded
    }

    /// The metas of `key`, or nil when nobody is present under it.
    public subscript(key: String) -> [PhoenixPresenceMeta]? {
        follower.state.withLock { $0.model[key] }
    }

    /// Joins, leaves and syncs from now on, in the server's order: for every presence event, its
    /// joins, then its leaves, then `.synced` with the list at that point (phoenix.js's
    /// `onJoin`, `onLeave`, `onSync`). A held diff yields nothing until the state arrives.
    ///
    /// Each access is a new subscription; any number may run at once. A subscription ends when
    /// the channel closes (left, closed by the server, refused, disconnected); one made after
    /// that follows the channel's next join.
    public var updates: AsyncStream<PhoenixPresenceUpdate> {
        follower.state.withLock { $0.updates.subscribe() }
    }
}

/// What changed in a channel's presences: `PhoenixPresence.updates` yields these.
public enum PhoenixPresenceUpdate: Sendable, Hashable {
    /// `key` joined with the metas `joined` (new ones, or an updated one: it then carries
    /// `previousRef`). `current` is what the key had before: nil when it was not present.
    case join(key: String, current: [PhoenixPresenceMeta]?, joined: [PhoenixPresenceMeta])
    /// `key` lost the metas `left`; `remaining` is what it still has (empty: the key is gone).
    case leave(key: String, remaining: [PhoenixPresenceMeta], left: [PhoenixPresenceMeta])
    /// A presence event was applied (after its joins and leaves): everyone present now, in
    /// the order the keys joined.
    case synced([PhoenixPresenceEntry])
    /// A presence event's payload was not a presence state or diff; it was dropped and the
    /// presences are as they were.
    case invalidPayload(event: String, PhoenixPresenceError)

    init(_ event: PhoenixPresenceEvent) {
        switch event {
        case .join(let key, let current, let joined): self = .join(key: key, current: current, joined: joined)
        case .leave(let key, let remaining, let left): self = .leave(key: key, remaining: remaining, left: left)
        }
    }
}

extension PhoenixPresenceMeta {
    /// The meta decoded as `type` from its JSON (`phx_ref`, `phx_ref_prev` included).
    ///
    /// - Throws: `.undecodable` when it is not a `type`.
    public func decode<Meta: Decodable>(
        as type: Meta.Type,
        decoder: JSONDecoder = JSONDecoder()
    ) throws(PhoenixClientError) -> Meta {
        try PhoenixCoding.decode(type, from: .json(ArraySlice(json)), using: decoder, what: "presence meta")
    }
}

extension PhoenixPresenceEntry {
    /// The metas decoded as `type`, in order.
    ///
    /// - Throws: `.undecodable` when one is not a `type`.
    public func decodeMetas<Meta: Decodable>(
        as type: Meta.Type,
        decoder: JSONDecoder = JSONDecoder()
    ) throws(PhoenixClientError) -> [Meta] {
        var metas: [Meta] = []
        metas.reserveCapacity(self.metas.count)
        for meta in self.metas { metas.append(try meta.decode(as: type, decoder: decoder)) }
        return metas
    }
}

/// Feeds a channel's messages to the sync model on the socket's executor, and fans the
/// changes out. The channel's outlet holds it weakly; the `PhoenixPresence` holds it.
final class PresenceFollower: PhoenixChannelFollower, Sendable {
    struct State {
        var model: PhoenixPresenceState
        var updates = Broadcast<PhoenixPresenceUpdate>()
    }

    let eventNames: PhoenixPresenceState.Events
    let state: Locked<State>
    private let logger: Logger
    private let topic: String
    private let onUpdates: (@Sendable ([PhoenixPresenceUpdate]) -> Void)?

    init(
        eventNames: PhoenixPresenceState.Events,
        logger: Logger,
        topic: String,
        onUpdates: (@Sendable ([PhoenixPresenceUpdate]) -> Void)?
    ) {
        self.eventNames = eventNames
        self.logger = logger
        self.topic = topic
        self.onUpdates = onUpdates
        state = Locked(State(model: PhoenixPresenceState(events: eventNames)))
    }

    func channelWillJoin() {}

    func channel(_ event: PhoenixChannelEvent) {}

    func channel(_ event: PhoenixChannelEvent, joinRef: String?) {
        switch event {
        case .message(let message):
            received(message, joinRef: joinRef)
        case .closed:
            // This life's subscriptions end; later ones follow the next join.
            state.withLock { state in
                state.updates.finish()
                state.updates = Broadcast()
            }
        case .joined, .errored, .rejected:
            break
        }
    }

    /// Runs on the socket's executor, one message at a time. The model changes and the updates
    /// go out under the lock, so a new subscription sees exactly the updates after it.
    private func received(_ message: PhoenixChannelMessage, joinRef: String?) {
        let sent = state.withLock { state -> [PhoenixPresenceUpdate] in
            let updates: [PhoenixPresenceUpdate]
            do throws(PhoenixPresenceError) {
                let outcome = try state.model.receive(
                    event: message.event, payload: message.payload, channelJoinRef: joinRef)
                guard case .synced(let events) = outcome else {
                    return []  // not a presence event, or a diff held until the state
                }
                // The list is made only when someone will read it.
                let wantsList = onUpdates != nil || state.updates.subscriberCount > 0
                updates = events.map(PhoenixPresenceUpdate.init) + [.synced(wantsList ? state.model.list() : [])]
            } catch {
                updates = [.invalidPayload(event: message.event, error)]
            }
            for update in updates { state.updates.send(update) }
            return updates
        }
        guard !sent.isEmpty else { return }
        if case .invalidPayload(_, let error) = sent.first {
            logger.warning(
                "presence payload dropped",
                metadata: ["topic": "\(topic)", "event": "\(message.event)", "error": "\(error)"])
        }
        onUpdates?(sent)
    }
}
