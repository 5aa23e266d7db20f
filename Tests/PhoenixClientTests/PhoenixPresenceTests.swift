import ClustaarTestSupport
import Foundation
import PhoenixClient
import Testing

/// Presence over a channel, as phoenix.js's presence tests check it, on the in-memory transport
/// with the manual clock: the exact updates an app sees for the server's state and diffs.
@Suite(.timeLimit(.minutes(1))) struct PhoenixPresenceTests {
    struct Member: Decodable, Hashable {
        let phx_ref: String
        let name: String?
    }

    static func meta(_ ref: String, name: String? = nil) -> String {
        name.map { #"{"phx_ref":"\#(ref)","name":"\#($0)"}"# } ?? #"{"phx_ref":"\#(ref)"}"#
    }

    /// The server's own diff often comes before the state: it is held, then applied after it.
    @Test func aDiffBeforeTheStateIsHeldThenApplied() async throws {
        let harness = try Harness()
        let channel = harness.socket.channel("room:1")
        let presence = PhoenixPresence(channel: channel)
        var updates = presence.updates.makeAsyncIterator()
        let join = try await harness.joined(channel)
        try harness.server.push(
            topic: "room:1", event: "presence_diff",
            payload: #"{"joins":{"bob":{"metas":[\#(Self.meta("2", name: "Bob"))]}},"leaves":{}}"#, joinRef: nil)
        try harness.server.push(
            topic: "room:1", event: "presence_state",
            payload: #"{"ada":{"metas":[\#(Self.meta("1", name: "Ada"))]}}"#, joinRef: join.joinRef)
        #expect(await take(3, from: &updates) == ["join ada - [1]", "join bob - [2]", "sync ada:1 bob:2"])
        #expect(presence.list().map(\.key) == ["ada", "bob"])
        #expect(presence["bob"]?.map(\.ref) == ["2"])
        #expect(presence["carol"] == nil)
        let decoded = try presence.list(metasAs: Member.self)
        #expect(decoded.map(\.key) == ["ada", "bob"])
        #expect(
            decoded.map(\.metas) == [[Member(phx_ref: "1", name: "Ada")], [Member(phx_ref: "2", name: "Bob")]])
    }

    /// Two metas for one key (two tabs): a leave removes only the meta it names.
    @Test func twoMetasForOneKeyAndOneLeaves() async throws {
        let harness = try Harness()
        let channel = harness.socket.channel("room:1")
        let presence = PhoenixPresence(channel: channel)
        var updates = presence.updates.makeAsyncIterator()
        let join = try await harness.joined(channel)
        try harness.server.push(
            topic: "room:1", event: "presence_state",
            payload: #"{"ada":{"metas":[\#(Self.meta("1")),\#(Self.meta("2"))]}}"#, joinRef: join.joinRef)
        try harness.server.push(
            topic: "room:1", event: "presence_diff",
            payload: #"{"joins":{},"leaves":{"ada":{"metas":[\#(Self.meta("1"))]}}}"#, joinRef: nil)
        try harness.server.push(
            topic: "room:1", event: "presence_diff",
            payload: #"{"joins":{},"leaves":{"ada":{"metas":[\#(Self.meta("2"))]}}}"#, joinRef: nil)
        #expect(
            await take(6, from: &updates) == [
                "join ada - [1,2]", "sync ada:1,2",
                "leave ada [2] [1]", "sync ada:2",
                "leave ada [] [2]", "sync",
            ])
        #expect(presence.list().isEmpty)
    }

    /// A key that leaves and comes back is a new join, listed last.
    @Test func aKeyThatLeavesAndRejoins() async throws {
        let harness = try Harness()
        let channel = harness.socket.channel("room:1")
        let presence = PhoenixPresence(channel: channel)
        var updates = presence.updates.makeAsyncIterator()
        let join = try await harness.joined(channel)
        try harness.server.push(
            topic: "room:1", event: "presence_state",
            payload: #"{"ada":{"metas":[\#(Self.meta("1"))]},"bob":{"metas":[\#(Self.meta("2"))]}}"#,
            joinRef: join.joinRef)
        try harness.server.push(
            topic: "room:1", event: "presence_diff",
            payload: #"{"joins":{},"leaves":{"ada":{"metas":[\#(Self.meta("1"))]}}}"#, joinRef: nil)
        try harness.server.push(
            topic: "room:1", event: "presence_diff",
            payload: #"{"joins":{"ada":{"metas":[\#(Self.meta("3"))]}},"leaves":{}}"#, joinRef: nil)
        #expect(
            await take(7, from: &updates) == [
                "join ada - [1]", "join bob - [2]", "sync ada:1 bob:2",
                "leave ada [] [1]", "sync bob:2",
                "join ada - [3]", "sync bob:2 ada:3",
            ])
    }

    /// After a drop the channel rejoins with a new join ref: a diff before the new state is held,
    /// and the new state replaces the old one (who left and came meanwhile is reported).
    @Test func theStateIsReplacedAfterARejoin() async throws {
        let harness = try Harness()
        let channel = harness.socket.channel("room:1")
        let presence = PhoenixPresence(channel: channel)
        var updates = presence.updates.makeAsyncIterator()
        var states = harness.socket.connectionStates.makeAsyncIterator()
        let join = try await harness.joined(channel)
        try harness.server.push(
            topic: "room:1", event: "presence_state",
            payload: #"{"ada":{"metas":[\#(Self.meta("1"))]},"bob":{"metas":[\#(Self.meta("2"))]}}"#,
            joinRef: join.joinRef)
        #expect(await take(3, from: &updates) == ["join ada - [1]", "join bob - [2]", "sync ada:1 bob:2"])

        harness.server.drop()
        await harness.reconnect(after: &states)
        let rejoin = try await harness.server.nextMessage()
        #expect(rejoin.joinRef != join.joinRef)
        try harness.server.reply(to: rejoin)
        try harness.server.push(
            topic: "room:1", event: "presence_diff",
            payload: #"{"joins":{"carol":{"metas":[\#(Self.meta("4"))]}},"leaves":{}}"#, joinRef: nil)
        try harness.server.push(
            topic: "room:1", event: "presence_state",
            payload: #"{"ada":{"metas":[\#(Self.meta("1"))]},"carol":{"metas":[\#(Self.meta("4"))]},"#
                + #""dave":{"metas":[\#(Self.meta("5"))]}}"#,
            joinRef: rejoin.joinRef)
        #expect(
            await take(5, from: &updates) == [
                "join carol - [4]", "join dave - [5]", "leave bob [] [2]", "join carol [4] [4]",
                "sync ada:1 carol:4 dave:5",
            ])
    }

    /// phoenix.js lets an app name the events; a payload that is not presence is reported and
    /// changes nothing; the updates end when the channel closes.
    @Test func customEventNamesBadPayloadsAndTheEnd() async throws {
        let harness = try Harness()
        let channel = harness.socket.channel("room:1")
        let presence = PhoenixPresence(channel: channel, eventNames: .init(state: "who", diff: "who_changed"))
        var updates = presence.updates.makeAsyncIterator()
        let join = try await harness.joined(channel)
        try harness.server.push(
            topic: "room:1", event: "presence_state", payload: #"{"x":{"metas":[\#(Self.meta("9"))]}}"#,
            joinRef: join.joinRef)
        try harness.server.push(
            topic: "room:1", event: "who", payload: #"{"ada":{"metas":[{"name":"no ref"}]}}"#, joinRef: join.joinRef)
        try harness.server.push(
            topic: "room:1", event: "who", payload: #"{"ada":{"metas":[\#(Self.meta("1"))]}}"#, joinRef: join.joinRef)
        try harness.server.push(
            topic: "room:1", event: "who_changed",
            payload: #"{"joins":{"bob":{"metas":[\#(Self.meta("2"))]}},"leaves":{}}"#, joinRef: nil)
        #expect(
            await take(5, from: &updates) == [
                "invalid who not a presence payload: a meta of ada has no phx_ref",
                "join ada - [1]", "sync ada:1", "join bob - [2]", "sync ada:1 bob:2",
            ])
        let leaving = Task { await channel.leave() }
        try harness.server.reply(to: try await harness.server.nextMessage())
        await leaving.value
        #expect(await take(1, from: &updates) == ["end"])
        #expect(presence.list().map(\.key) == ["ada", "bob"])
    }
}

/// The next `count` presence updates, readable in one assertion: refs of metas in brackets.
func take(_ count: Int, from updates: inout AsyncStream<PhoenixPresenceUpdate>.Iterator) async -> [String] {
    var out: [String] = []
    for _ in 0..<count { out.append(describe(await updates.next())) }
    return out
}

func describe(_ update: PhoenixPresenceUpdate?, refs: (String) -> String = { $0 }) -> String {
    func list(_ metas: [PhoenixPresenceMeta]?) -> String {
        metas.map { "[" + $0.map { refs($0.ref) }.joined(separator: ",") + "]" } ?? "-"
    }
    switch update {
    case nil: return "end"
    case .join(let key, let current, let joined): return "join \(key) \(list(current)) \(list(joined))"
    case .leave(let key, let remaining, let left): return "leave \(key) \(list(remaining)) \(list(left))"
    case .synced(let entries):
        let members = entries.map { "\($0.key):" + $0.metas.map { refs($0.ref) }.joined(separator: ",") }
        return (["sync"] + members).joined(separator: " ")
    case .invalidPayload(let event, let error): return "invalid \(event) \(error)"
    }
}
