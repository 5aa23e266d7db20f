import ClustaarTestSupport
import Foundation
import PhoenixProtocol
import Testing

@testable import ClustaarSandbox

/// Several pure connections sharing one `SandboxRooms`, as the server runs them: each frame's
/// outputs in order, room requests answered at once, deliveries to other connections in the
/// order the rooms made them.
struct RoomHarness {
    var connections: [SandboxConnection]
    var rooms = SandboxRooms()

    init(clients: Int) {
        connections = (0..<clients).map { _ in SandboxConnection(serializer: .jsonV2, now: Wire.now) }
    }

    /// Client `client` sends a v2 text frame; returns what each client receives, by index.
    mutating func send(_ client: Int, _ text: String) -> [[String]] {
        var received = Array(repeating: [String](), count: connections.count)
        for output in connections[client].frameReceived(.text(Array(text.utf8)), at: Wire.now) {
            switch output {
            case .room(let request):
                deliver(rooms.handle(request, from: client, at: Wire.now), into: &received)
            default:
                received[client].append(Wire.render(output))
            }
        }
        return received
    }

    /// Client `client`'s socket closes.
    mutating func close(_ client: Int) -> [[String]] {
        connections[client].closeRequested()
        var received = Array(repeating: [String](), count: connections.count)
        deliver(rooms.connectionClosed(client), into: &received)
        return received
    }

    private func deliver(_ deliveries: [SandboxRooms.Delivery], into received: inout [[String]]) {
        for delivery in deliveries {
            if let frame = connections[delivery.connection].deliver(delivery.message) {
                received[delivery.connection].append(Wire.render(.send(frame)))
            }
        }
    }
}

/// The `room:*` channel: Phoenix.Presence's exact payloads, broadcasts, errors.
@Suite struct SandboxRoomTests {
    static let topic = "room:lobby"
    /// Phoenix.Tracker refs at `Wire.now`: the time in nanoseconds, the tracker hash, a counter.
    static let refs = ["GOtQ-LGojwBaFwAB", "GOtQ-LGojwBaFwAC", "GOtQ-LGojwBaFwAD", "GOtQ-LGojwBaFwAE"]

    static func join(_ joinRef: String, _ params: String, topic: String = topic) -> String {
        #"["\#(joinRef)","\#(joinRef)","\#(topic)","phx_join",\#(params)]"#
    }

    static func push(_ joinRef: String, _ ref: String, _ event: String, _ payload: String) -> String {
        #"["\#(joinRef)","\#(ref)","\#(topic)","\#(event)",\#(payload)]"#
    }

    static func reply(_ joinRef: String?, _ ref: String, _ status: String, _ response: String) -> String {
        Wire.reply(joinRef, ref, topic: topic, status, response)
    }

    static func broadcast(_ event: String, _ payload: String) -> String {
        #"[null,null,"\#(topic)","\#(event)",\#(payload)]"#
    }

    static func state(_ joinRef: String, _ payload: String) -> String {
        #"["\#(joinRef)",null,"\#(topic)","presence_state",\#(payload)]"#
    }

    /// A tracked meta: `online_at`, `phx_ref` (and `phx_ref_prev`) and the user's `fields`
    /// (`(key, JSON)` pairs), keys sorted as the sandbox writes them.
    static func meta(_ ref: Int, _ fields: [(String, String)] = [], previous: Int? = nil) -> String {
        var members = fields + [("online_at", #""\#(Wire.unixSeconds)""#), ("phx_ref", #""\#(refs[ref])""#)]
        if let previous { members.append(("phx_ref_prev", #""\#(refs[previous])""#)) }
        return "{" + members.sorted { $0.0 < $1.0 }.map { #""\#($0.0)":\#($0.1)"# }.joined(separator: ",") + "}"
    }

    static func diff(joins: String = "{}", leaves: String = "{}") -> String {
        broadcast("presence_diff", #"{"joins":\#(joins),"leaves":\#(leaves)}"#)
    }

    @Test func twoClientsSeeEachOtherJoinAndLeave() {
        var room = RoomHarness(clients: 2)
        let alice = Self.meta(0, [("device", #""phone""#)])
        // Alice joins: ok {}, her own join's diff, then the state.
        #expect(
            room.send(0, Self.join("1", #"{"user":"alice","meta":{"device":"phone"}}"#)) == [
                [
                    Self.reply("1", "1", "ok", "{}"),
                    Self.diff(joins: #"{"alice":{"metas":[\#(alice)]}}"#),
                    Self.state("1", #"{"alice":{"metas":[\#(alice)]}}"#),
                ],
                [],
            ])
        // Bob joins: both see his diff; he gets the state with both.
        let bob = Self.meta(1)
        #expect(
            room.send(1, Self.join("7", #"{"user":"bob"}"#)) == [
                [Self.diff(joins: #"{"bob":{"metas":[\#(bob)]}}"#)],
                [
                    Self.reply("7", "7", "ok", "{}"),
                    Self.diff(joins: #"{"bob":{"metas":[\#(bob)]}}"#),
                    Self.state("7", #"{"alice":{"metas":[\#(alice)]},"bob":{"metas":[\#(bob)]}}"#),
                ],
            ])
        // Alice leaves: ok and phx_close for her; Bob sees her leave.
        #expect(
            room.send(0, Self.push("1", "2", "phx_leave", "{}")) == [
                [Self.reply("1", "2", "ok", "{}"), #"["1","1","\#(Self.topic)","phx_close",{}]"#],
                [Self.diff(leaves: #"{"alice":{"metas":[\#(alice)]}}"#)],
            ])
        // Bob's socket closes: nobody is left to tell.
        #expect(room.close(1) == [[], []])
        #expect(room.rooms.users(in: Self.topic) == [])
    }

    @Test func aClosedSocketLeavesItsRooms() {
        var room = RoomHarness(clients: 2)
        _ = room.send(0, Self.join("1", #"{"user":"alice"}"#))
        _ = room.send(1, Self.join("1", #"{"user":"bob"}"#))
        #expect(room.close(0) == [[], [Self.diff(leaves: #"{"alice":{"metas":[\#(Self.meta(0))]}}"#)]])
        #expect(room.rooms.users(in: Self.topic) == ["bob"])
    }

    @Test func oneUserOnTwoSocketsHasTwoMetas() {
        var room = RoomHarness(clients: 2)
        _ = room.send(0, Self.join("1", #"{"user":"alice"}"#))
        let received = room.send(1, Self.join("1", #"{"user":"alice"}"#))
        #expect(
            received[1].last == Self.state("1", #"{"alice":{"metas":[\#(Self.meta(0)),\#(Self.meta(1))]}}"#))
        #expect(room.close(1)[0] == [Self.diff(leaves: #"{"alice":{"metas":[\#(Self.meta(1))]}}"#)])
    }

    @Test func shoutIsBroadcastToTheRoomThenAcknowledged() {
        var room = RoomHarness(clients: 2)
        _ = room.send(0, Self.join("1", #"{"user":"alice"}"#))
        _ = room.send(1, Self.join("1", #"{"user":"bob"}"#))
        let shout = Self.broadcast("shout", #"{"body":{"text":"hi"},"user":"alice"}"#)
        #expect(
            room.send(0, Self.push("1", "2", "shout", #"{"body":{"text":"hi"}}"#)) == [
                [shout, Self.reply("1", "2", "ok", "{}")], [shout],
            ])
        #expect(
            room.send(0, Self.push("1", "3", "shout", #"{"text":"hi"}"#)) == [
                [Self.reply("1", "3", "error", #"{"reason":"shout expects {body}"}"#)], [],
            ])
    }

    @Test func pingIsAnsweredWithItsOwnPayload() {
        var room = RoomHarness(clients: 1)
        _ = room.send(0, Self.join("1", #"{"user":"alice"}"#))
        #expect(
            room.send(0, Self.push("1", "2", "ping", #"{"n":[1,2]}"#)) == [
                [Self.reply("1", "2", "ok", #"{"n":[1,2]}"#)]
            ])
    }

    /// As Phoenix.Presence reports an update: one diff joining the new meta (with
    /// `phx_ref_prev`) and leaving the old one.
    @Test func updateMetaIsALeaveAndAJoinInOneDiff() {
        var room = RoomHarness(clients: 2)
        _ = room.send(0, Self.join("1", #"{"user":"alice","meta":{"status":"away"}}"#))
        _ = room.send(1, Self.join("1", #"{"user":"bob"}"#))
        let old = Self.meta(0, [("status", #""away""#)])
        let new = Self.meta(2, [("status", #""busy""#)], previous: 0)
        let diff = Self.diff(joins: #"{"alice":{"metas":[\#(new)]}}"#, leaves: #"{"alice":{"metas":[\#(old)]}}"#)
        #expect(
            room.send(0, Self.push("1", "2", "update_meta", #"{"meta":{"status":"busy"}}"#)) == [
                [Self.reply("1", "2", "ok", "{}"), diff], [diff],
            ])
        #expect(
            room.send(0, Self.push("1", "3", "update_meta", #"{"meta":"busy"}"#)) == [
                [Self.reply("1", "3", "error", #"{"reason":"update_meta expects {meta}"}"#)], [],
            ])
    }

    @Test func theMetaCannotOverrideTheTrackersOwnKeys() {
        var room = RoomHarness(clients: 1)
        let received = room.send(0, Self.join("1", #"{"user":"alice","meta":{"phx_ref":"x","online_at":0,"a":1}}"#))
        #expect(received[0].last == Self.state("1", #"{"alice":{"metas":[\#(Self.meta(0, [("a", "1")]))]}}"#))
    }

    @Test(arguments: [
        (#"{}"#, "missing user"), (#"{"user":7}"#, "missing user"), (#"[]"#, "missing user"),
        (#"{"user":"alice","meta":[1]}"#, "meta must be an object"),
    ])
    func joinErrors(params: String, reason: String) {
        var room = RoomHarness(clients: 1)
        #expect(room.send(0, Self.join("1", params)) == [[Self.reply("1", "1", "error", #"{"reason":"\#(reason)"}"#)]])
        #expect(room.rooms.users(in: Self.topic) == [])
    }

    /// A join whose params travel in a binary frame: the channel gets bytes, so no user.
    @Test func aBinaryJoinHasNoUser() throws {
        var connection = SandboxConnection(serializer: .jsonV2, now: Wire.now)
        let join = PhoenixMessage(
            joinRef: "1", ref: "1", topic: Self.topic, event: "phx_join",
            payload: .binary(ArraySlice(#"{"user":"alice"}"#.utf8)))
        let outputs = connection.frameReceived(try PhoenixSerializer.jsonV2.encode(join, from: .client), at: Wire.now)
        #expect(outputs.map(Wire.render) == [Self.reply("1", "1", "error", #"{"reason":"missing user"}"#)])
    }

    /// A second join of the topic on the same socket replaces the first: the old meta leaves,
    /// the new one joins.
    @Test func aRejoinOnTheSameSocketReplacesTheMeta() {
        var room = RoomHarness(clients: 2)
        _ = room.send(0, Self.join("1", #"{"user":"alice"}"#))
        _ = room.send(1, Self.join("1", #"{"user":"bob"}"#))
        let received = room.send(0, Self.join("3", #"{"user":"carol"}"#))
        let carol = Self.meta(2)
        #expect(
            received == [
                [
                    Self.reply("3", "3", "ok", "{}"), #"["1","1","\#(Self.topic)","phx_close",{}]"#,
                    Self.diff(joins: #"{"carol":{"metas":[\#(carol)]}}"#),
                    Self.state("3", #"{"bob":{"metas":[\#(Self.meta(1))]},"carol":{"metas":[\#(carol)]}}"#),
                ],
                [
                    Self.diff(leaves: #"{"alice":{"metas":[\#(Self.meta(0))]}}"#),
                    Self.diff(joins: #"{"carol":{"metas":[\#(carol)]}}"#),
                ],
            ])
    }

    @Test func interlocutorUploadAnswersTheSizeOfABinaryPayload() throws {
        var connection = SandboxConnection(serializer: .jsonV2, now: Wire.now)
        _ = connection.frameReceived(.text(Array(Wire.join().utf8)), at: Wire.now)
        let upload = PhoenixMessage(
            joinRef: "1", ref: "2", topic: Wire.topic, event: "upload",
            payload: .binary([0, 1, 2, 3, 0xfe, 0xff, 0x68, 0x65, 0x6c, 0x6c, 0x6f]))
        let frame = try PhoenixSerializer.jsonV2.encode(upload, from: .client)
        #expect(
            connection.frameReceived(frame, at: Wire.now).map(Wire.render) == [
                Wire.reply("1", "2", "ok", #"{"size":11}"#)
            ])
        let json = #"["1","3","\#(Wire.topic)","upload",{"not":"binary"}]"#
        #expect(
            connection.frameReceived(.text(Array(json.utf8)), at: Wire.now).map(Wire.render) == [
                Wire.reply("1", "3", "error", #"{"reason":"upload expects a binary payload"}"#)
            ])
    }
}
