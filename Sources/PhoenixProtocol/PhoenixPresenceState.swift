/// Phoenix Presence on the client, sans I/O: the presences of one channel, kept in sync from the
/// server's `presence_state` and `presence_diff` events as phoenix.js keeps them.
///
/// - `presence_state` replaces the whole state; what changed against the state held so far is
///   reported as joins and leaves (so a new state after a rejoin reports who came and went
///   meanwhile).
/// - `presence_diff` adds its joins and removes its leaves. Diffs that arrive before the state of
///   the current join (the server may send the joiner's own diff first, and after a rejoin the
///   state held is stale) are held, then applied in order right after that state.
/// - A key may have several metas (one per tracked process: two tabs, two devices); they are
///   told apart by `phx_ref`. A leave removes only the metas whose `phx_ref` it names.
///
/// Metas are kept as the JSON text they arrived in (``PhoenixPresenceMeta/json``) beside their
/// `phx_ref`: this module has no JSON tree type, and the layer above decodes the text into the
/// app's own type. Fields of a presence other than `metas` (those an app's `fetch/2` adds) are
/// not kept.
///
/// Keys are listed in the order they first joined (a key that leaves and comes back goes last).
/// Event names default to `presence_state` and `presence_diff` and can be changed, as in
/// phoenix.js.
public struct PhoenixPresenceState: Sendable {
    /// The event names that carry presence.
    public struct Events: Sendable, Hashable {
        /// The full state (`presence_state`).
        public var state: String
        /// A change (`presence_diff`).
        public var diff: String

        /// Phoenix.Presence's names unless told otherwise.
        public init(state: String = "presence_state", diff: String = "presence_diff") {
            self.state = state
            self.diff = diff
        }
    }

    /// What a presence event did.
    public enum Outcome: Sendable, Hashable {
        /// A diff that came before the state of the current join: held until that state.
        case held
        /// The state changed: these joins and leaves, in the order phoenix.js reports them (all
        /// the joins of a diff, then its leaves). Empty when nothing changed. phoenix.js's
        /// `onSync` fires here.
        case synced([PhoenixPresenceEvent])
    }

    /// The event names this state listens to.
    public let events: Events
    /// The join ref of the channel join whose state arrived last; nil before any state.
    public private(set) var stateJoinRef: String?
    /// Diffs held until the state arrives, oldest first.
    public private(set) var pendingDiffs: [PhoenixPresenceDiff] = []

    private var presences: [String: Slot] = [:]
    private var nextOrder: UInt64 = 0

    private struct Slot: Sendable {
        var order: UInt64
        var metas: [PhoenixPresenceMeta]
    }

    /// An empty state: no presences, waiting for the first `presence_state`.
    public init(events: Events = Events()) {
        self.events = events
    }

    // MARK: Reading

    /// Every presence, in the order the keys joined.
    public func list() -> [PhoenixPresenceEntry] {
        presences.sorted { $0.value.order < $1.value.order }
            .map { PhoenixPresenceEntry(key: $0.key, metas: $0.value.metas) }
    }

    /// The metas of `key`, or nil if nobody is present under it.
    public subscript(key: String) -> [PhoenixPresenceMeta]? { presences[key]?.metas }

    /// Whether diffs are held now: no state yet for the channel's current join.
    public func isPendingSync(channelJoinRef: String?) -> Bool {
        stateJoinRef == nil || stateJoinRef != channelJoinRef
    }

    // MARK: Events

    /// Handles one channel message if it is a presence event.
    ///
    /// - Parameters:
    ///   - channelJoinRef: the channel's current join ref (a diff is held unless the state
    ///     arrived for this join).
    /// - Returns: nil for any other event; otherwise what the event did.
    /// - Throws: `PhoenixPresenceError` for a payload that is not a presence state or diff; the
    ///   state is then left as it was.
    public mutating func receive(event: String, payload: PhoenixPayload, channelJoinRef: String?)
        throws(PhoenixPresenceError) -> Outcome?
    {
        if event == events.state {
            return stateReceived(try PhoenixPresenceEntry.decodeState(payload), channelJoinRef: channelJoinRef)
        }
        if event == events.diff {
            return diffReceived(try PhoenixPresenceDiff(decoding: payload), channelJoinRef: channelJoinRef)
        }
        return nil
    }

    /// A full state arrived for the channel's join `channelJoinRef`: it replaces the state, the
    /// held diffs are applied after it, and every change is reported.
    public mutating func stateReceived(_ newState: [PhoenixPresenceEntry], channelJoinRef: String?) -> Outcome {
        stateJoinRef = channelJoinRef
        var reported = apply(replacingWith: newState)
        let held = pendingDiffs
        pendingDiffs = []
        for diff in held { reported += apply(diff) }
        return .synced(reported)
    }

    /// A diff arrived while the channel's join is `channelJoinRef`: applied, or held until the
    /// state of that join arrives.
    public mutating func diffReceived(_ diff: PhoenixPresenceDiff, channelJoinRef: String?) -> Outcome {
        if isPendingSync(channelJoinRef: channelJoinRef) {
            pendingDiffs.append(diff)
            return .held
        }
        return .synced(apply(diff))
    }

    // MARK: Sync rules (phoenix.js `syncState` / `syncDiff`)

    /// The changes from the state held to `newState`, applied as one diff.
    private mutating func apply(replacingWith newState: [PhoenixPresenceEntry]) -> [PhoenixPresenceEvent] {
        let incoming = PhoenixPresenceEntry.merged(newState)
        let incomingKeys = Set(incoming.map(\.key))
        var joins: [PhoenixPresenceEntry] = []
        // Keys gone entirely leave first, then the metas gone from keys still present.
        var leaves = list().filter { !incomingKeys.contains($0.key) }
        for entry in incoming {
            guard let current = presences[entry.key]?.metas else {
                joins.append(entry)
                continue
            }
            let currentRefs = Set(current.map(\.ref))
            let newRefs = Set(entry.metas.map(\.ref))
            let joined = entry.metas.filter { !currentRefs.contains($0.ref) }
            let left = current.filter { !newRefs.contains($0.ref) }
            if !joined.isEmpty { joins.append(PhoenixPresenceEntry(key: entry.key, metas: joined)) }
            if !left.isEmpty { leaves.append(PhoenixPresenceEntry(key: entry.key, metas: left)) }
        }
        return apply(PhoenixPresenceDiff(joins: joins, leaves: leaves))
    }

    /// Joins first: a joined key takes the joined metas, after the metas it already had that
    /// the join does not name again. Then leaves: the named metas go, and a key left with none
    /// goes. A leave for a key not present does nothing and is not reported.
    private mutating func apply(_ diff: PhoenixPresenceDiff) -> [PhoenixPresenceEvent] {
        var reported: [PhoenixPresenceEvent] = []
        for join in diff.joins {
            let current = presences[join.key]
            let joinedRefs = Set(join.metas.map(\.ref))
            let kept = current?.metas.filter { !joinedRefs.contains($0.ref) } ?? []
            let order = current?.order ?? takeOrder()
            presences[join.key] = Slot(order: order, metas: kept + join.metas)
            reported.append(.join(key: join.key, current: current?.metas, joined: join.metas))
        }
        for leave in diff.leaves {
            guard var slot = presences[leave.key] else { continue }
            let leftRefs = Set(leave.metas.map(\.ref))
            slot.metas.removeAll { leftRefs.contains($0.ref) }
            presences[leave.key] = slot.metas.isEmpty ? nil : slot
            reported.append(.leave(key: leave.key, remaining: slot.metas, left: leave.metas))
        }
        return reported
    }

    private mutating func takeOrder() -> UInt64 {
        defer { nextOrder += 1 }
        return nextOrder
    }
}

/// One join or leave, as phoenix.js reports them to `onJoin` and `onLeave`.
public enum PhoenixPresenceEvent: Sendable, Hashable {
    /// `key` joined with `joined` (new metas, or a meta updated: it then carries
    /// ``PhoenixPresenceMeta/previousRef``). `current` is what the key had before; nil when
    /// the key was not present.
    case join(key: String, current: [PhoenixPresenceMeta]?, joined: [PhoenixPresenceMeta])
    /// `key` lost the metas `left` and has `remaining` (empty: the key is gone).
    case leave(key: String, remaining: [PhoenixPresenceMeta], left: [PhoenixPresenceMeta])

    /// The presence key this event is about.
    public var key: String {
        switch self {
        case .join(let key, _, _), .leave(let key, _, _): key
        }
    }
}

/// The presence of one key: its metas, in order.
public struct PhoenixPresenceEntry: Sendable, Hashable {
    /// The key the server tracks it under (a user id, a name...).
    public var key: String
    /// One meta per tracked process, oldest first.
    public var metas: [PhoenixPresenceMeta]

    public init(key: String, metas: [PhoenixPresenceMeta]) {
        self.key = key
        self.metas = metas
    }

    /// Entries with a key given twice merged into the first place, the later one winning (as
    /// a JSON object with a repeated key reads in JavaScript).
    static func merged(_ entries: [PhoenixPresenceEntry]) -> [PhoenixPresenceEntry] {
        var index: [String: Int] = [:]
        var result: [PhoenixPresenceEntry] = []
        for entry in entries {
            if let at = index[entry.key] {
                result[at] = entry
            } else {
                index[entry.key] = result.count
                result.append(entry)
            }
        }
        return result
    }
}

/// One meta of a presence: what the server tracked for one process, told apart by `phx_ref`.
public struct PhoenixPresenceMeta: Sendable, Hashable {
    /// `phx_ref`: unique to this meta.
    public var ref: String
    /// `phx_ref_prev`: the ref of the meta this one replaced, for an update.
    public var previousRef: String?
    /// The meta object's JSON text as the server sent it (`phx_ref` included).
    public var json: [UInt8]

    public init(ref: String, previousRef: String? = nil, json: [UInt8]) {
        self.ref = ref
        self.previousRef = previousRef
        self.json = json
    }
}

/// A `presence_diff`: keys that joined and keys that left, each with the metas concerned.
public struct PhoenixPresenceDiff: Sendable, Hashable {
    public var joins: [PhoenixPresenceEntry]
    public var leaves: [PhoenixPresenceEntry]

    public init(joins: [PhoenixPresenceEntry] = [], leaves: [PhoenixPresenceEntry] = []) {
        self.joins = joins
        self.leaves = leaves
    }
}

/// Why a payload is not a presence state or diff.
public enum PhoenixPresenceError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The payload came in a binary frame; presence travels as JSON.
    case binaryPayload
    /// The payload is not valid JSON.
    case invalidJSON(PhoenixCodingError)
    /// Valid JSON of the wrong shape (e.g. `metas` not an array, a meta without `phx_ref`).
    case wrongShape(String)

    public var description: String {
        switch self {
        case .binaryPayload: "a presence payload must be JSON, not binary"
        case .invalidJSON(let error): "invalid presence payload: \(error)"
        case .wrongShape(let what): "not a presence payload: \(what)"
        }
    }
}
