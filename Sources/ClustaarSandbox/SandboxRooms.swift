import ClustaarModels
import Foundation
import PhoenixProtocol

/// The shared side of the `room:*` channels, without I/O: who is in each room, with the metas
/// Phoenix.Presence tracks, and the messages each connection must get. One value serves every
/// connection of a server (behind its registry's lock); a session asks it through
/// `SandboxSession.RoomRequest`.
///
/// It behaves as a Phoenix app whose room channel tracks `Phoenix.Presence`:
///
/// | request | what the connections get |
/// |---|---|
/// | join (user, meta) | every member, the joiner included: `presence_diff` `{"joins":{USER:{"metas":[META]}},"leaves":{}}`; then the joiner: `presence_state` `{USER:{"metas":[...]},...}` |
/// | leave (or the socket closes) | the other members: `presence_diff` `{"joins":{},"leaves":{USER:{"metas":[META]}}}` |
/// | update_meta | every member: one `presence_diff` joining the new meta (with `phx_ref_prev`) and leaving the old |
/// | shout | every member, the shouter included: `shout` `{"body":..,"user":..}` |
///
/// META is `{"online_at": "<unix seconds>", "phx_ref": REF, ...meta}` (`phx_ref_prev` too after an
/// update; the join's `meta` cannot override these three). REF is Phoenix.Tracker's: base64url
/// of 12 bytes (the time in nanoseconds, a 16-bit tracker hash, a 16-bit counter), 16
/// characters. Diffs and shouts are broadcasts (join_ref and ref null); `presence_state` is a
/// push to the joiner (its join_ref, ref null). Metas of one key are listed in join order.
public struct SandboxRooms: Sendable {
    /// Identifies one connection (socket) of the server.
    public typealias ConnectionID = Int

    /// A message for one connection.
    public struct Delivery: Sendable, Hashable {
        public var connection: ConnectionID
        public var message: PhoenixMessage
    }

    /// One tracked presence: a connection's member of a room.
    struct Member: Sendable, Hashable {
        var connection: ConnectionID
        var user: String
        var meta: JSONObject
    }

    /// Members per topic, in join order.
    private var rooms: [String: [Member]] = [:]
    /// The low 16 bits of `:erlang.unique_integer()` in a real tracker's refs.
    private var refCounter: UInt16 = 0
    /// The 16-bit hash of the tracker shard in a real tracker's refs; fixed per server.
    private let trackerHash: UInt16

    /// No room has anyone in it.
    public init(trackerHash: UInt16 = 0x5a17) {
        self.trackerHash = trackerHash
    }

    /// The users in `topic`, in join order (a user joined twice is listed twice).
    public func users(in topic: String) -> [String] { rooms[topic, default: []].map(\.user) }

    /// The connections in `topic`, in join order.
    func members(of topic: String) -> [Member] { rooms[topic, default: []] }

    // MARK: Requests

    /// Runs one request of `connection` at `now`; returns the messages to deliver, in order.
    public mutating func handle(
        _ request: SandboxSession.RoomRequest,
        from connection: ConnectionID,
        at now: Date
    ) -> [Delivery] {
        switch request {
        case .join(let topic, let joinRef, let user, let meta):
            return join(topic: topic, joinRef: joinRef, user: user, meta: meta, connection: connection, at: now)
        case .leave(let topic):
            return leave(topic: topic, connection: connection)
        case .updateMeta(let topic, let meta):
            return updateMeta(topic: topic, meta: meta, connection: connection, at: now)
        case .broadcast(let topic, let event, let payload):
            return broadcast(topic: topic, event: event, payload: payload)
        }
    }

    /// The connection closed: it leaves every room it was in.
    public mutating func connectionClosed(_ connection: ConnectionID) -> [Delivery] {
        let topics = rooms.filter { $0.value.contains { $0.connection == connection } }.keys.sorted()
        return topics.flatMap { leave(topic: $0, connection: connection) }
    }

    private mutating func join(
        topic: String,
        joinRef: String?,
        user: String,
        meta: JSONObject,
        connection: ConnectionID,
        at now: Date
    ) -> [Delivery] {
        var deliveries = leave(topic: topic, connection: connection)  // a rejoin replaces the old member
        var tracked: JSONObject = [
            "online_at": .string(String(Self.unixSeconds(now))), "phx_ref": .string(ref(at: now)),
        ]
        for key in meta.keys where !Self.reservedKeys.contains(key) { tracked[key] = meta[key] }
        rooms[topic, default: []].append(Member(connection: connection, user: user, meta: tracked))
        deliveries += broadcast(topic: topic, event: "presence_diff", payload: Self.diff(joins: [(user, tracked)]))
        deliveries.append(
            Delivery(
                connection: connection,
                message: PhoenixMessage(
                    joinRef: joinRef, ref: nil, topic: topic, event: "presence_state",
                    payload: .json(ArraySlice(state(of: topic).encoded)))))
        return deliveries
    }

    private mutating func leave(topic: String, connection: ConnectionID) -> [Delivery] {
        guard let index = rooms[topic]?.firstIndex(where: { $0.connection == connection }),
            let member = rooms[topic]?.remove(at: index)
        else { return [] }
        if rooms[topic]?.isEmpty == true { rooms[topic] = nil }
        return broadcast(topic: topic, event: "presence_diff", payload: Self.diff(leaves: [(member.user, member.meta)]))
    }

    /// `Presence.update/3`: the new meta keeps `online_at`, takes `meta`, a new `phx_ref` and
    /// the old one as `phx_ref_prev`.
    private mutating func updateMeta(topic: String, meta: JSONObject, connection: ConnectionID, at now: Date)
        -> [Delivery]
    {
        guard let index = rooms[topic]?.firstIndex(where: { $0.connection == connection }),
            let old = rooms[topic]?[index]
        else { return [] }
        var updated: JSONObject = [
            "online_at": old.meta["online_at"] ?? .null, "phx_ref": .string(ref(at: now)),
            "phx_ref_prev": old.meta["phx_ref"] ?? .null,
        ]
        for key in meta.keys where !Self.reservedKeys.contains(key) { updated[key] = meta[key] }
        rooms[topic]?[index].meta = updated
        return broadcast(
            topic: topic, event: "presence_diff",
            payload: Self.diff(joins: [(old.user, updated)], leaves: [(old.user, old.meta)]))
    }

    /// A broadcast on `topic` to every member: join_ref and ref null.
    private func broadcast(topic: String, event: String, payload: JSONValue) -> [Delivery] {
        let message = PhoenixMessage(
            joinRef: nil, ref: nil, topic: topic, event: event, payload: .json(ArraySlice(payload.encoded)))
        return rooms[topic, default: []].map { Delivery(connection: $0.connection, message: message) }
    }

    // MARK: Payloads

    /// Keys a join's or update's `meta` cannot set: the tracker's own.
    static let reservedKeys: Set<String> = ["online_at", "phx_ref", "phx_ref_prev"]

    /// `Presence.list/1`: `{USER: {"metas": [...]}}`, metas in join order.
    func state(of topic: String) -> JSONValue { Self.group(rooms[topic, default: []].map { ($0.user, $0.meta) }) }

    static func group(_ presences: [(user: String, meta: JSONObject)]) -> JSONValue {
        var metas: [String: [JSONValue]] = [:]
        var order: [String] = []
        for (user, meta) in presences {
            if metas[user] == nil { order.append(user) }
            metas[user, default: []].append(.object(meta))
        }
        return .object(JSONObject(order.map { .init(key: $0, value: ["metas": .array(metas[$0] ?? [])]) }))
    }

    static func diff(
        joins: [(user: String, meta: JSONObject)] = [],
        leaves: [(user: String, meta: JSONObject)] = []
    ) -> JSONValue {
        ["joins": group(joins), "leaves": group(leaves)]
    }

    /// A Phoenix.Tracker ref: base64url of the time in nanoseconds (64 bits), the tracker hash
    /// and a counter (16 bits each), big-endian.
    private mutating func ref(at now: Date) -> String {
        refCounter &+= 1
        let time = (now.timeIntervalSince1970 * 1e9).rounded(.down)
        let nanoseconds: UInt64 = time > 0 ? (time < 1.8e19 ? UInt64(time) : .max) : 0
        var bytes: [UInt8] = []
        for shift in stride(from: 56, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: nanoseconds >> shift))
        }
        bytes += [UInt8(trackerHash >> 8), UInt8(truncatingIfNeeded: trackerHash)]
        bytes += [UInt8(refCounter >> 8), UInt8(truncatingIfNeeded: refCounter)]
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
    }

    static func unixSeconds(_ now: Date) -> Int64 {
        let seconds = now.timeIntervalSince1970.rounded(.down)
        return seconds > 0 ? (seconds < 9e18 ? Int64(seconds) : .max) : 0
    }
}
