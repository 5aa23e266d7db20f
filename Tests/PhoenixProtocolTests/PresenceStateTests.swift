import PhoenixProtocol
import Testing

/// The presence sync model: the behaviours phoenix.js's presence tests cover (our own tests),
/// the edge cases issue 14 names, and the payload decoding. Payloads are written as a Phoenix
/// server sends them.
@Suite struct PresenceStateTests {
    // MARK: Helpers

    /// A meta as the server writes it: `{"id":N,"phx_ref":REF}` plus `extra` members.
    static func meta(_ ref: String, id: Int = 1, extra: String = "") -> String {
        #"{"id":\#(id)\#(extra),"phx_ref":"\#(ref)"}"#
    }

    static func presences(_ entries: [(String, [String])]) -> String {
        "{" + entries.map { #""\#($0.0)":{"metas":[\#($0.1.joined(separator: ","))]}"# }.joined(separator: ",") + "}"
    }

    static func diff(joins: [(String, [String])] = [], leaves: [(String, [String])] = []) -> String {
        #"{"joins":\#(presences(joins)),"leaves":\#(presences(leaves))}"#
    }

    /// The parsed form of `meta(...)`.
    static func m(_ ref: String, id: Int = 1, extra: String = "", previous: String? = nil) -> PhoenixPresenceMeta {
        PhoenixPresenceMeta(ref: ref, previousRef: previous, json: Array(meta(ref, id: id, extra: extra).utf8))
    }

    @discardableResult
    static func state(
        _ presence: inout PhoenixPresenceState, _ json: String, joinRef: String? = "1"
    ) throws -> PhoenixPresenceState.Outcome? {
        try presence.receive(event: "presence_state", payload: .json(json), channelJoinRef: joinRef)
    }

    @discardableResult
    static func diff(
        _ presence: inout PhoenixPresenceState, _ json: String, joinRef: String? = "1"
    ) throws -> PhoenixPresenceState.Outcome? {
        try presence.receive(event: "presence_diff", payload: .json(json), channelJoinRef: joinRef)
    }

    /// Keys and meta refs, in list order.
    static func listed(_ presence: PhoenixPresenceState) -> [String: [String]] {
        Dictionary(uniqueKeysWithValues: presence.list().map { ($0.key, $0.metas.map(\.ref)) })
    }

    static func keys(_ presence: PhoenixPresenceState) -> [String] { presence.list().map(\.key) }

    // MARK: syncState

    @Test func aStateOnAnEmptyStateJoinsEveryKey() throws {
        var presence = PhoenixPresenceState()
        let outcome = try Self.state(
            &presence, Self.presences([("u1", [Self.meta("1")]), ("u2", [Self.meta("2", id: 2)])]))
        #expect(
            outcome
                == .synced([
                    .join(key: "u1", current: nil, joined: [Self.m("1")]),
                    .join(key: "u2", current: nil, joined: [Self.m("2", id: 2)]),
                ]))
        #expect(
            presence.list() == [
                PhoenixPresenceEntry(key: "u1", metas: [Self.m("1")]),
                PhoenixPresenceEntry(key: "u2", metas: [Self.m("2", id: 2)]),
            ])
        #expect(presence["u2"] == [Self.m("2", id: 2)])
        #expect(presence["u3"] == nil)
    }

    @Test func anEmptyStateOnAnEmptyStateChangesNothing() throws {
        var presence = PhoenixPresenceState()
        #expect(try Self.state(&presence, "{}") == .synced([]))
        #expect(presence.list() == [])
    }

    @Test func aNewStateJoinsNewKeysAndLeavesGoneOnes() throws {
        var presence = PhoenixPresenceState()
        try Self.state(&presence, Self.presences([("u4", [Self.meta("4", id: 4)])]))
        let outcome = try Self.state(
            &presence,
            Self.presences([
                ("u1", [Self.meta("1")]), ("u2", [Self.meta("2", id: 2)]), ("u3", [Self.meta("3", id: 3)]),
            ]))
        #expect(
            outcome
                == .synced([
                    .join(key: "u1", current: nil, joined: [Self.m("1")]),
                    .join(key: "u2", current: nil, joined: [Self.m("2", id: 2)]),
                    .join(key: "u3", current: nil, joined: [Self.m("3", id: 3)]),
                    .leave(key: "u4", remaining: [], left: [Self.m("4", id: 4)]),
                ]))
        #expect(Self.keys(presence) == ["u1", "u2", "u3"])
    }

    @Test func aNewStateJoinsOnlyTheMetasAdded() throws {
        var presence = PhoenixPresenceState()
        try Self.state(&presence, Self.presences([("u3", [Self.meta("3", id: 3)])]))
        let outcome = try Self.state(
            &presence, Self.presences([("u3", [Self.meta("3", id: 3), Self.meta("3.new", id: 3)])]))
        #expect(
            outcome == .synced([.join(key: "u3", current: [Self.m("3", id: 3)], joined: [Self.m("3.new", id: 3)])]))
        #expect(presence["u3"] == [Self.m("3", id: 3), Self.m("3.new", id: 3)])
    }

    // MARK: syncDiff

    @Test func aDiffJoinsOnAnEmptyState() throws {
        var presence = PhoenixPresenceState()
        try Self.state(&presence, "{}")
        let outcome = try Self.diff(&presence, Self.diff(joins: [("u1", [Self.meta("1")])]))
        #expect(outcome == .synced([.join(key: "u1", current: nil, joined: [Self.m("1")])]))
        #expect(Self.listed(presence) == ["u1": ["1"]])
    }

    @Test func aDiffAddsAMetaToAKeyAndRemovesAKeyLeftWithNone() throws {
        var presence = PhoenixPresenceState()
        try Self.state(
            &presence,
            Self.presences([
                ("u1", [Self.meta("1")]), ("u2", [Self.meta("2", id: 2)]), ("u3", [Self.meta("3", id: 3)]),
            ]))
        let outcome = try Self.diff(
            &presence, Self.diff(joins: [("u1", [Self.meta("1.2")])], leaves: [("u2", [Self.meta("2", id: 2)])]))
        #expect(
            outcome
                == .synced([
                    .join(key: "u1", current: [Self.m("1")], joined: [Self.m("1.2")]),
                    .leave(key: "u2", remaining: [], left: [Self.m("2", id: 2)]),
                ]))
        #expect(Self.keys(presence) == ["u1", "u3"])
        #expect(presence["u1"] == [Self.m("1"), Self.m("1.2")])
    }

    /// Two metas for one key (two tabs) and one leaves: the key stays with the other.
    @Test func twoMetasForOneKeyAndOneLeaves() throws {
        var presence = PhoenixPresenceState()
        try Self.state(&presence, Self.presences([("u1", [Self.meta("1"), Self.meta("1.2")])]))
        let outcome = try Self.diff(&presence, Self.diff(leaves: [("u1", [Self.meta("1")])]))
        #expect(outcome == .synced([.leave(key: "u1", remaining: [Self.m("1.2")], left: [Self.m("1")])]))
        #expect(Self.listed(presence) == ["u1": ["1.2"]])
        // The other one leaves too: the key goes.
        try Self.diff(&presence, Self.diff(leaves: [("u1", [Self.meta("1.2")])]))
        #expect(presence.list() == [])
    }

    @Test func aLeaveForAnAbsentKeyIsIgnored() throws {
        var presence = PhoenixPresenceState()
        try Self.state(&presence, Self.presences([("u1", [Self.meta("1")])]))
        #expect(try Self.diff(&presence, Self.diff(leaves: [("ghost", [Self.meta("9")])])) == .synced([]))
        #expect(Self.listed(presence) == ["u1": ["1"]])
    }

    /// A join that names a meta already held replaces it in place of appending a copy (the
    /// joiner's own diff after the state that already had it).
    @Test func aJoinOfAMetaAlreadyHeldDoesNotDuplicateIt() throws {
        var presence = PhoenixPresenceState()
        try Self.state(&presence, Self.presences([("u1", [Self.meta("1")])]))
        let outcome = try Self.diff(&presence, Self.diff(joins: [("u1", [Self.meta("1")])]))
        #expect(outcome == .synced([.join(key: "u1", current: [Self.m("1")], joined: [Self.m("1")])]))
        #expect(presence["u1"] == [Self.m("1")])
    }

    @Test func aKeyThatLeavesAndRejoinsComesBackLast() throws {
        var presence = PhoenixPresenceState()
        try Self.state(&presence, Self.presences([("alice", [Self.meta("a1")]), ("bob", [Self.meta("b1", id: 2)])]))
        try Self.diff(&presence, Self.diff(leaves: [("alice", [Self.meta("a1")])]))
        #expect(Self.keys(presence) == ["bob"])
        let outcome = try Self.diff(&presence, Self.diff(joins: [("alice", [Self.meta("a2")])]))
        #expect(outcome == .synced([.join(key: "alice", current: nil, joined: [Self.m("a2")])]))
        #expect(Self.keys(presence) == ["bob", "alice"])
        #expect(presence["alice"] == [Self.m("a2")])
    }

    /// An update is one diff: the new meta joins (with `phx_ref_prev`), the old one leaves.
    @Test func aMetaUpdateIsALeaveAndAJoin() throws {
        var presence = PhoenixPresenceState()
        try Self.state(
            &presence,
            Self.presences([("u1", [Self.meta("1")]), ("u2", [Self.meta("2", id: 2, extra: #","name":"chris""#)])]))
        let updated = #"{"id":2,"name":"chris.2","phx_ref":"2.2","phx_ref_prev":"2"}"#
        let outcome = try Self.diff(
            &presence,
            Self.diff(
                joins: [("u2", [updated])], leaves: [("u2", [Self.meta("2", id: 2, extra: #","name":"chris""#)])]))
        let old = Self.m("2", id: 2, extra: #","name":"chris""#)
        let new = PhoenixPresenceMeta(ref: "2.2", previousRef: "2", json: Array(updated.utf8))
        #expect(
            outcome
                == .synced([
                    .join(key: "u2", current: [old], joined: [new]),
                    .leave(key: "u2", remaining: [new], left: [old]),
                ]))
        #expect(presence.list().map(\.metas) == [[Self.m("1")], [new]])
    }

    // MARK: Held diffs and rejoins

    @Test func diffsBeforeTheStateAreHeldThenAppliedInOrder() throws {
        var presence = PhoenixPresenceState()
        #expect(presence.isPendingSync(channelJoinRef: "1"))
        let leaveU2 = Self.diff(leaves: [("u2", [Self.meta("2", id: 2)])])
        #expect(try Self.diff(&presence, leaveU2) == .held)
        #expect(presence.list() == [])
        #expect(presence.pendingDiffs.count == 1)
        let outcome = try Self.state(
            &presence, Self.presences([("u1", [Self.meta("1")]), ("u2", [Self.meta("2", id: 2)])]))
        #expect(
            outcome
                == .synced([
                    .join(key: "u1", current: nil, joined: [Self.m("1")]),
                    .join(key: "u2", current: nil, joined: [Self.m("2", id: 2)]),
                    .leave(key: "u2", remaining: [], left: [Self.m("2", id: 2)]),
                ]))
        #expect(Self.listed(presence) == ["u1": ["1"]])
        #expect(presence.pendingDiffs == [])
        #expect(!presence.isPendingSync(channelJoinRef: "1"))
    }

    /// What a joiner sees from a real server: its own join's diff, then the state.
    @Test func theJoinersOwnDiffBeforeTheStateLeavesOneMeta() throws {
        var presence = PhoenixPresenceState()
        #expect(try Self.diff(&presence, Self.diff(joins: [("me", [Self.meta("m1")])])) == .held)
        let outcome = try Self.state(
            &presence, Self.presences([("other", [Self.meta("o1", id: 2)]), ("me", [Self.meta("m1")])]))
        #expect(
            outcome
                == .synced([
                    .join(key: "other", current: nil, joined: [Self.m("o1", id: 2)]),
                    .join(key: "me", current: nil, joined: [Self.m("m1")]),
                    .join(key: "me", current: [Self.m("m1")], joined: [Self.m("m1")]),
                ]))
        #expect(Self.listed(presence) == ["other": ["o1"], "me": ["m1"]])
    }

    /// After a rejoin (a new join ref), diffs wait for the new join's state, and that state
    /// replaces the old one: joins and leaves are computed against it.
    @Test func aStateAfterARejoinReplacesTheOldOne() throws {
        var presence = PhoenixPresenceState()
        try Self.state(&presence, Self.presences([("u1", [Self.meta("1")]), ("u2", [Self.meta("2", id: 2)])]))
        #expect(presence.stateJoinRef == "1")
        // The channel rejoined with join ref 3: the state held is stale.
        #expect(presence.isPendingSync(channelJoinRef: "3"))
        let leaveU1 = Self.diff(leaves: [("u1", [Self.meta("1")])])
        #expect(try Self.diff(&presence, leaveU1, joinRef: "3") == .held)
        #expect(Self.listed(presence) == ["u1": ["1"], "u2": ["2"]])
        let outcome = try Self.state(
            &presence,
            Self.presences([
                ("u1", [Self.meta("1")]), ("u3", [Self.meta("3", id: 3)]), ("u2", [Self.meta("2.2", id: 2)]),
            ]
            ),
            joinRef: "3")
        #expect(
            outcome
                == .synced([
                    .join(key: "u3", current: nil, joined: [Self.m("3", id: 3)]),
                    .join(key: "u2", current: [Self.m("2", id: 2)], joined: [Self.m("2.2", id: 2)]),
                    .leave(key: "u2", remaining: [Self.m("2.2", id: 2)], left: [Self.m("2", id: 2)]),
                    .leave(key: "u1", remaining: [], left: [Self.m("1")]),
                ]))
        #expect(Self.keys(presence) == ["u2", "u3"])
        #expect(presence.stateJoinRef == "3")
        #expect(try Self.diff(&presence, Self.diff(leaves: [("u3", [Self.meta("3", id: 3)])]), joinRef: "3") != .held)
        #expect(Self.keys(presence) == ["u2"])
    }

    @Test func aStateWithoutAJoinRefHoldsEveryDiff() throws {
        var presence = PhoenixPresenceState()
        try Self.state(&presence, Self.presences([("u1", [Self.meta("1")])]), joinRef: nil)
        #expect(try Self.diff(&presence, Self.diff(leaves: [("u1", [Self.meta("1")])]), joinRef: nil) == .held)
    }

    @Test func customEventNames() throws {
        var presence = PhoenixPresenceState(events: .init(state: "the_state", diff: "the_diff"))
        let user1 = Self.presences([("user1", [Self.meta("1")])])
        #expect(try presence.receive(event: "presence_state", payload: .json(user1), channelJoinRef: "1") == nil)
        #expect(presence.list() == [])
        _ = try presence.receive(event: "the_state", payload: .json(user1), channelJoinRef: "1")
        #expect(Self.listed(presence) == ["user1": ["1"]])
        _ = try presence.receive(
            event: "the_diff", payload: .json(Self.diff(leaves: [("user1", [Self.meta("1")])])), channelJoinRef: "1")
        #expect(presence.list() == [])
    }

    @Test func otherEventsAreNotPresence() throws {
        var presence = PhoenixPresenceState()
        #expect(try presence.receive(event: "shout", payload: .json("[1"), channelJoinRef: "1") == nil)
    }

    // MARK: Decoding

    @Test func keysThatLookLikeObjectInternalsAreOrdinaryKeys() throws {
        var presence = PhoenixPresenceState()
        try Self.state(&presence, Self.presences([("__proto__", [Self.meta("1")]), ("constructor", [Self.meta("2")])]))
        try Self.diff(&presence, Self.diff(leaves: [("__proto__", [Self.meta("1")])]))
        #expect(Self.keys(presence) == ["constructor"])
    }

    @Test func decodingKeepsEachMetaTextAndItsRefs() throws {
        let payload = PhoenixPayload.json(
            #"{ "joins" : {"al\u00e9":{"metas":[ {"online_at":"1795617905","phx_ref":"GBh","phx_ref_prev":"GBg","x":{"phx_ref":"no"}} ],"user":{"n":1}}}, "leaves":{}, "extra":[1] }"#
        )
        let diff = try PhoenixPresenceDiff(decoding: payload)
        #expect(
            diff
                == PhoenixPresenceDiff(joins: [
                    PhoenixPresenceEntry(
                        key: "alé",
                        metas: [
                            PhoenixPresenceMeta(
                                ref: "GBh", previousRef: "GBg",
                                json: Array(
                                    #"{"online_at":"1795617905","phx_ref":"GBh","phx_ref_prev":"GBg","x":{"phx_ref":"no"}}"#
                                        .utf8))
                        ])
                ]))
        let state = try PhoenixPresenceEntry.decodeState(.json(#"{"a":{"metas":[]},"b":{"metas":[{"phx_ref":"1"}]}}"#))
        #expect(state.map(\.key) == ["a", "b"])
        #expect(state[1].metas == [PhoenixPresenceMeta(ref: "1", json: Array(#"{"phx_ref":"1"}"#.utf8))])
    }

    @Test func aKeyGivenTwiceCountsOnceWithTheLaterValue() throws {
        let state = try PhoenixPresenceEntry.decodeState(
            .json(Self.presences([("a", [Self.meta("1")]), ("b", [Self.meta("2")]), ("a", [Self.meta("3")])])))
        #expect(state.map(\.key) == ["a", "b"])
        #expect(state[0].metas.map(\.ref) == ["3"])
    }

    @Test(arguments: [
        (#"[]"#, PhoenixPresenceError.wrongShape("a presence state must be an object")),
        (#"{"u":[]}"#, .wrongShape("the presence of u must be an object")),
        (#"{"u":{}}"#, .wrongShape("the presence of u has no metas")),
        (#"{"u":{"metas":{}}}"#, .wrongShape("the metas of u must be an array")),
        (#"{"u":{"metas":[1]}}"#, .wrongShape("a meta of u must be an object")),
        (#"{"u":{"metas":[{"id":1}]}}"#, .wrongShape("a meta of u has no phx_ref")),
        (#"{"u":{"metas":[{"phx_ref":1}]}}"#, .wrongShape("a phx_ref of u must be a string")),
        (
            #"{"u":{"metas":[{"phx_ref":"1"}]}} x"#,
            .invalidJSON(.invalidJSON(offset: 34, expected: "the end of the frame"))
        ),
        (#"{"u":{"metas":[{"phx_ref":"1"}"#, .invalidJSON(.invalidJSON(offset: 30, expected: "',' or ']'"))),
    ])
    func malformedStatesAreTypedErrors(json: String, expected: PhoenixPresenceError) {
        #expect(throws: expected) { try PhoenixPresenceEntry.decodeState(.json(json)) }
    }

    @Test func malformedDiffsAreTypedErrorsAndLeaveTheStateAsItWas() throws {
        #expect(throws: PhoenixPresenceError.wrongShape("a diff without leaves")) {
            try PhoenixPresenceDiff(decoding: .json(#"{"joins":{}}"#))
        }
        #expect(throws: PhoenixPresenceError.wrongShape("a diff without joins")) {
            try PhoenixPresenceDiff(decoding: .json(#"{"leaves":{}}"#))
        }
        #expect(throws: PhoenixPresenceError.wrongShape("joins must be an object")) {
            try PhoenixPresenceDiff(decoding: .json(#"{"joins":[],"leaves":{}}"#))
        }
        #expect(throws: PhoenixPresenceError.binaryPayload) {
            try PhoenixPresenceDiff(decoding: .binary([0x7b, 0x7d]))
        }
        var presence = PhoenixPresenceState()
        try Self.state(&presence, Self.presences([("u1", [Self.meta("1")])]))
        #expect(throws: PhoenixPresenceError.self) {
            try Self.diff(&presence, #"{"joins":{"u2":{"metas":[{"phx_ref":"2"}]}},"leaves":{"u1":{}}}"#)
        }
        #expect(Self.listed(presence) == ["u1": ["1"]])
    }
}
