import ClustaarTestSupport
import Foundation
import PhoenixClient
import Synchronization
import Testing

/// The channel's behaviours that phoenix.js's channel tests check, on the in-memory transport
/// with the manual clock, each with the exact frames the server sees and the exact events the
/// app sees.
@Suite(.timeLimit(.minutes(1))) struct PhoenixChannelTests {
    @Test func joinSendsTheParamsAndReturnsTheReply() async throws {
        let harness = try Harness()
        let channel = harness.socket.channel("room:lobby", params: .json(#"{"user":"ada"}"#))
        var events = channel.events.makeAsyncIterator()
        let join = try await harness.joined(channel, response: #"{"welcome":true}"#)
        #expect(Harness.text(join) == #"["1","1","room:lobby","phx_join",{"user":"ada"}]"#)
        #expect(await channel.isJoined)
        #expect(await take(1, from: &events) == [#"joined {"welcome":true}"#])
    }

    @Test func joiningTheSameChannelTwiceIsRefused() async throws {
        let harness = try Harness()
        let channel = harness.socket.channel("room:1")
        try await harness.joined(channel)
        await #expect(throws: PhoenixClientError.alreadyJoined(topic: "room:1")) { try await channel.join() }
    }

    @Test func theHeartbeatTopicIsReserved() async throws {
        let harness = try Harness()
        await #expect(throws: PhoenixClientError.reservedTopic("phoenix")) {
            try await harness.socket.channel("phoenix").join()
        }
    }

    @Test func aRefusedJoinThrowsTheServersReasonAndEndsTheChannel() async throws {
        let harness = try Harness()
        let channel = harness.socket.channel("room:1")
        var events = channel.events.makeAsyncIterator()
        try await harness.socket.connect()
        let joining = Task { try await channel.join() }
        let join = try await harness.server.nextMessage()
        try harness.server.reply(to: join, status: "error", response: #"{"reason":"unauthorized"}"#)
        let error = PhoenixClientError.joinRejected(status: "error", response: .json(#"{"reason":"unauthorized"}"#))
        await #expect(throws: error) { try await joining.value }
        #expect(error.description == #"the server rejected the join (status error): {"reason":"unauthorized"}"#)
        #expect(
            await take(3, from: &events) == [
                #"rejected error {"reason":"unauthorized"}"#, "closed the join was refused", "end",
            ])
        #expect(await !channel.isJoined)
    }

    /// The first join's timeout is `join()`'s error: the server is told to drop the join, and the
    /// channel is left (nothing retries behind the caller's back).
    @Test func anUnansweredJoinTimesOutAndLeaves() async throws {
        let harness = try Harness { $0.joinTimeout = .seconds(5) }
        let channel = harness.socket.channel("room:1")
        var events = channel.events.makeAsyncIterator()
        try await harness.socket.connect()
        let joining = Task { try await channel.join() }
        #expect(try await harness.nextFrame() == #"["1","1","room:1","phx_join",{}]"#)
        harness.clock.advance(by: .seconds(5))
        await #expect(throws: PhoenixClientError.joinTimedOut) { try await joining.value }
        #expect(try await harness.nextFrame() == #"["1","2","room:1","phx_leave",{}]"#)
        #expect(await take(2, from: &events) == ["closed the join timed out", "end"])
    }

    /// After a drop the channel rejoins with a fresh join ref; a rejoin that times out is
    /// abandoned on the server (phx_leave) and retried on the rejoin schedule.
    @Test func rejoinsAfterADropAndRetriesARejoinThatTimesOut() async throws {
        let harness = try Harness {
            $0.joinTimeout = .seconds(5)
            $0.rejoinDelays = [.seconds(2)]
        }
        let channel = harness.socket.channel("room:1", params: .json(#"{"n":1}"#))
        var events = channel.events.makeAsyncIterator()
        var states = harness.socket.connectionStates.makeAsyncIterator()
        try await harness.joined(channel, response: #"{"a":1}"#)
        harness.server.drop()
        await harness.reconnect(after: &states)
        #expect(try await harness.nextFrame() == #"["2","2","room:1","phx_join",{"n":1}]"#)
        harness.clock.advance(by: .seconds(5))  // unanswered
        #expect(try await harness.nextFrame() == #"["2","3","room:1","phx_leave",{}]"#)
        #expect(
            await take(3, from: &events) == [
                #"joined {"a":1}"#, "errored the connection was lost",
                "errored no answer to the rejoin within the join timeout",
            ])
        harness.clock.advance(by: .seconds(2))
        let rejoin = try await harness.server.nextMessage()
        #expect(Harness.text(rejoin) == #"["4","4","room:1","phx_join",{"n":1}]"#)
        try harness.server.reply(to: rejoin, response: #"{"a":2}"#)
        #expect(await take(1, from: &events) == [#"rejoined {"a":2}"#])
        #expect(await channel.isJoined)
    }

    /// A rejoin the server refuses: with the default policy the channel ends; with a retry
    /// policy it is tried again and the next success is a rejoin.
    @Test func aRefusedRejoinEndsTheChannelOrIsRetried() async throws {
        let harness = try Harness()
        let channel = harness.socket.channel("room:1")
        var events = channel.events.makeAsyncIterator()
        var states = harness.socket.connectionStates.makeAsyncIterator()
        try await harness.joined(channel)
        harness.server.drop()
        await harness.reconnect(after: &states)
        let rejoin = try await harness.server.nextMessage()
        try harness.server.reply(to: rejoin, status: "error", response: #"{"reason":"expired"}"#)
        #expect(
            await take(5, from: &events) == [
                "joined {}", "errored the connection was lost", #"rejected error {"reason":"expired"}"#,
                "closed the join was refused", "end",
            ])

        let retrying = try Harness { $0.joinErrorPolicy = .retry(times: 1, after: .seconds(3)) }
        let retried = retrying.socket.channel("room:1")
        var retriedEvents = retried.events.makeAsyncIterator()
        var retryingStates = retrying.socket.connectionStates.makeAsyncIterator()
        try await retrying.joined(retried)
        retrying.server.drop()
        await retrying.reconnect(after: &retryingStates)
        let refused = try await retrying.server.nextMessage()
        try retrying.server.reply(to: refused, status: "error", response: #"{"reason":"busy"}"#)
        #expect(
            await take(3, from: &retriedEvents) == [
                "joined {}", "errored the connection was lost", #"rejected error {"reason":"busy"} retrying"#,
            ])
        retrying.clock.advance(by: .seconds(3))
        let again = try await retrying.server.nextMessage()
        #expect(Harness.text(again) == #"["3","3","room:1","phx_join",{}]"#)
        try retrying.server.reply(to: again, response: #"{"back":true}"#)
        #expect(await take(1, from: &retriedEvents) == [#"rejoined {"back":true}"#])
    }

    /// `phx_error`: a push in flight cannot get its reply (outcome unknown: the channel crashed),
    /// and the channel rejoins after the rejoin delay.
    @Test func rejoinsAfterTheChannelCrashes() async throws {
        let harness = try Harness { $0.rejoinDelays = [.seconds(1)] }
        let channel = harness.socket.channel("room:1")
        var events = channel.events.makeAsyncIterator()
        let join = try await harness.joined(channel)
        let pushing = Task { try await channel.push("work") }
        #expect(try await harness.nextFrame() == #"["1","2","room:1","work",{}]"#)
        try harness.server.send(
            PhoenixMessage(joinRef: join.ref, ref: join.ref, topic: "room:1", event: "phx_error", payload: .emptyObject)
        )
        let error = PhoenixClientError.outcomeUnknown(.channelCrashed)
        await #expect(throws: error) { try await pushing.value }
        #expect(
            error.description == "no reply, outcome unknown: the server's channel crashed")
        #expect(await take(2, from: &events) == ["joined {}", "errored the server's channel crashed: {}"])
        harness.clock.advance(by: .seconds(1))
        let rejoin = try await harness.server.nextMessage()
        #expect(Harness.text(rejoin) == #"["3","3","room:1","phx_join",{}]"#)
        try harness.server.reply(to: rejoin)
        #expect(await take(1, from: &events) == ["rejoined {}"])
    }

    /// A push made while the channel joins waits, and goes out with the join ref once joined.
    @Test func pushesWaitForTheJoinThenGoInOrder() async throws {
        let harness = try Harness()
        let channel = harness.socket.channel("room:1")
        try await harness.socket.connect()
        let joining = Task { try await channel.join() }
        let join = try await harness.server.nextMessage()
        let first = Task { try await channel.push("first", .json(#"{"n":1}"#)) }
        await until { await harness.socket.pendingPushCount == 1 }
        let second = Task { try await channel.push("second", .json(#"{"n":2}"#)) }
        await until { await harness.socket.pendingPushCount == 2 }
        try harness.server.reply(to: join)
        _ = try await joining.value
        let pushes = [try await harness.server.nextMessage(), try await harness.server.nextMessage()]
        #expect(
            pushes.map(Harness.text) == [
                #"["1","2","room:1","first",{"n":1}]"#, #"["1","3","room:1","second",{"n":2}]"#,
            ])
        try harness.server.reply(to: pushes[1], response: #"{"ok":2}"#)
        try harness.server.reply(to: pushes[0], response: #"{"ok":1}"#)
        #expect(try await first.value == .json(#"{"ok":1}"#))
        #expect(try await second.value == .json(#"{"ok":2}"#))
    }

    @Test func aPushBeyondTheBufferIsRefusedAtOnce() async throws {
        let harness = try Harness { $0.pushBufferLimit = 1 }
        let channel = harness.socket.channel("room:1")
        let joining = Task { try await channel.join() }  // the socket is not open: the join waits
        await until { await channel.state == .waitingForSocket }
        let buffered = Task { try await channel.push("kept") }
        await until { await harness.socket.pendingPushCount == 1 }
        await #expect(throws: PhoenixClientError.bufferFull(limit: 1)) { try await channel.push("one too many") }
        try await harness.socket.connect()
        let join = try await harness.server.nextMessage()
        try harness.server.reply(to: join)
        _ = try await joining.value
        let push = try await harness.server.nextMessage()
        #expect(Harness.text(push) == #"["1","2","room:1","kept",{}]"#)
        try harness.server.reply(to: push)
        _ = try await buffered.value
    }

    @Test func anUnansweredPushTimesOut() async throws {
        let harness = try Harness { $0.pushTimeout = .seconds(10) }
        let channel = harness.socket.channel("room:1")
        try await harness.joined(channel)
        let pushing = Task { try await channel.push("slow") }
        let push = try await harness.server.nextMessage()
        harness.clock.advance(by: .seconds(10))
        await #expect(throws: PhoenixClientError.replyTimedOut) { try await pushing.value }
        try harness.server.reply(to: push)  // too late: dropped
        // A push's own timeout overrides the socket's.
        let quick = Task { try await channel.push("quick", timeout: .seconds(1)) }
        _ = try await harness.server.nextMessage()
        harness.clock.advance(by: .seconds(1))
        await #expect(throws: PhoenixClientError.replyTimedOut) { try await quick.value }
    }

    /// The socket keeps its armed timer when a deadline moves later (a push answered, a later
    /// push): the timer then fires early, finds nothing due and is armed again, so every push
    /// still times out exactly at its deadline, and one timer sleeps at a time.
    @Test func aTimerKeptForAnEarlierDeadlineStillTimesPushesOutWhenDue() async throws {
        let harness = try Harness { $0.pushTimeout = .seconds(10) }
        let clock = harness.clock
        let channel = harness.socket.channel("room:1")
        try await harness.joined(channel)  // t = 0; the heartbeat is due at 30 s
        let answered = Task { try await channel.push("quick") }  // due at 10 s
        try harness.server.reply(to: try await harness.server.nextMessage())
        _ = try await answered.value
        clock.advance(by: .seconds(4))
        let pushing = Task { try await channel.push("slow") }  // due at 14 s
        let push = try await harness.server.nextMessage()
        await until { clock.sleeperCount == 1 }
        clock.advance(by: .seconds(6))  // t = 10 s: the answered push's old deadline
        await until { clock.sleeperCount == 1 }  // fired early, armed again
        #expect(await harness.socket.pendingPushCount == 1)
        clock.advance(by: .seconds(4) - .nanoseconds(1))
        #expect(await harness.socket.pendingPushCount == 1)
        clock.advance(by: .nanoseconds(1))  // t = 14 s
        await #expect(throws: PhoenixClientError.replyTimedOut) { try await pushing.value }
        try harness.server.reply(to: push)  // too late: dropped

        // A deadline earlier than the armed one (here the heartbeat's) re-arms the timer for it.
        let quick = Task { try await channel.push("quick", timeout: .seconds(1)) }
        _ = try await harness.server.nextMessage()
        await until { await harness.socket.pendingPushCount == 1 }
        clock.advance(by: .seconds(1) - .nanoseconds(1))
        #expect(await harness.socket.pendingPushCount == 1)
        clock.advance(by: .nanoseconds(1))  // t = 15 s
        await #expect(throws: PhoenixClientError.replyTimedOut) { try await quick.value }
        await until { clock.sleeperCount == 1 }
        #expect(await harness.socket.pendingPushCount == 0)
    }

    @Test func anErrorReplyIsTheServersResponse() async throws {
        let harness = try Harness()
        let channel = harness.socket.channel("room:1")
        try await harness.joined(channel)
        let pushing = Task { try await channel.push("shout", .json(#"{"body":""}"#)) }
        let push = try await harness.server.nextMessage()
        try harness.server.reply(to: push, status: "error", response: #"{"reason":"empty"}"#)
        let error = PhoenixClientError.replyRejected(status: "error", response: .json(#"{"reason":"empty"}"#))
        await #expect(throws: error) { try await pushing.value }
        #expect(error.description == #"the server rejected the push (status error): {"reason":"empty"}"#)
    }

    /// A connection lost with a push in flight: the outcome is unknown, and the error carries the
    /// close code and reason.
    @Test func aCloseWithAPushInFlightSaysTheCloseCode() async throws {
        let harness = try Harness()
        let channel = harness.socket.channel("room:1")
        try await harness.joined(channel)
        let pushing = Task { try await channel.push("work") }
        _ = try await harness.server.nextMessage()
        harness.server.close(code: .serviceRestart, reason: "restart")
        let error = PhoenixClientError.outcomeUnknown(.connectionLost(code: .serviceRestart, reason: "restart"))
        await #expect(throws: error) { try await pushing.value }
        #expect(
            error.description
                == #"no reply, outcome unknown: the connection closed with code 1012 (service restart): "restart""#)
    }

    @Test func leaveSendsPhxLeaveAndEndsTheChannel() async throws {
        let harness = try Harness()
        let channel = harness.socket.channel("room:1")
        var events = channel.events.makeAsyncIterator()
        var messages = channel.messages.makeAsyncIterator()
        try await harness.joined(channel)
        let leaving = Task { await channel.leave() }
        let leave = try await harness.server.nextMessage()
        #expect(Harness.text(leave) == #"["1","2","room:1","phx_leave",{}]"#)
        try harness.server.reply(to: leave)
        await leaving.value
        #expect(await take(3, from: &events) == ["joined {}", "closed left", "end"])
        #expect(await messages.next() == nil)
        await #expect(throws: PhoenixClientError.notJoined) { try await channel.push("after") }
    }

    @Test func leavingWithoutASocketClosesAtOnce() async throws {
        let harness = try Harness()
        let channel = harness.socket.channel("room:1")
        var events = channel.events.makeAsyncIterator()
        let joining = Task { try await channel.join() }
        await until { await channel.state == .waitingForSocket }
        await channel.leave()
        await #expect(throws: PhoenixClientError.cancelled(.left)) { try await joining.value }
        #expect(await take(2, from: &events) == ["closed left", "end"])
    }

    @Test func phxCloseFromTheServerEndsTheChannelAndItsPushes() async throws {
        let harness = try Harness()
        let channel = harness.socket.channel("room:1")
        var events = channel.events.makeAsyncIterator()
        let join = try await harness.joined(channel)
        let pushing = Task { try await channel.push("work") }
        _ = try await harness.server.nextMessage()
        try harness.server.send(
            PhoenixMessage(joinRef: join.ref, ref: join.ref, topic: "room:1", event: "phx_close", payload: .emptyObject)
        )
        await #expect(throws: PhoenixClientError.cancelled(.closedByServer)) { try await pushing.value }
        #expect(await take(3, from: &events) == ["joined {}", "closed closed by the server", "end"])
        #expect(await !channel.isJoined)
    }

    /// As phoenix.js: joining a topic that another channel object holds leaves that one first.
    @Test func aDuplicateJoinReplacesTheOldChannel() async throws {
        let harness = try Harness()
        let first = harness.socket.channel("room:1", params: .json(#"{"v":1}"#))
        let second = harness.socket.channel("room:1", params: .json(#"{"v":2}"#))
        var firstEvents = first.events.makeAsyncIterator()
        try await harness.joined(first)
        let joining = Task { try await second.join() }
        let leave = try await harness.server.nextMessage()
        #expect(Harness.text(leave) == #"["1","2","room:1","phx_leave",{}]"#)
        try harness.server.reply(to: leave)
        let join = try await harness.server.nextMessage()
        #expect(Harness.text(join) == #"["3","3","room:1","phx_join",{"v":2}]"#)
        try harness.server.reply(to: join, response: #"{"second":true}"#)
        #expect(try await joining.value == .json(#"{"second":true}"#))
        #expect(
            await take(3, from: &firstEvents) == [
                "joined {}", "closed replaced by another join of the same topic", "end",
            ])
        #expect(await !first.isJoined)
        #expect(await second.isJoined)
        await #expect(throws: PhoenixClientError.notJoined) { try await first.push("stale") }
    }

    @Test func aDuplicateJoinCanBeRefused() async throws {
        let harness = try Harness { $0.duplicateJoins = .refuse }
        try await harness.joined(harness.socket.channel("room:1"))
        await #expect(throws: PhoenixClientError.alreadyJoined(topic: "room:1")) {
            try await harness.socket.channel("room:1").join()
        }
    }

    @Test func messagesAndLifeComeInOneOrder() async throws {
        let harness = try Harness()
        let channel = harness.socket.channel("room:1")
        var events = channel.events.makeAsyncIterator()
        var messages = channel.messages.makeAsyncIterator()
        let join = try await harness.joined(channel)
        try harness.server.push(topic: "room:1", event: "a", payload: #"{"n":1}"#, joinRef: join.ref)
        try harness.server.push(topic: "room:1", event: "b", payload: "[2]", joinRef: join.ref)
        try harness.server.push(topic: "room:1", event: "stale", payload: "{}", joinRef: "99")  // an old join's
        try harness.server.push(topic: "room:2", event: "elsewhere", payload: "{}", joinRef: join.ref)
        try harness.server.push(topic: "room:1", event: "c", payload: "null", joinRef: nil)  // a broadcast
        #expect(
            await take(4, from: &events) == ["joined {}", #"message a {"n":1}"#, "message b [2]", "message c null"])
        #expect(await messages.next() == PhoenixChannelMessage(event: "a", payload: .json(#"{"n":1}"#)))
    }

    @Test func paramsProviderIsAskedBeforeEveryJoin() async throws {
        let harness = try Harness()
        let calls = Mutex(0)
        let channel = harness.socket.channel("room:1") {
            let call = calls.withLock { count -> Int in
                count += 1
                return count
            }
            return .json(#"{"token":"t\#(call)"}"#)
        }
        var states = harness.socket.connectionStates.makeAsyncIterator()
        let join = try await harness.joined(channel)
        #expect(Harness.text(join) == #"["1","1","room:1","phx_join",{"token":"t1"}]"#)
        harness.server.drop()
        await harness.reconnect(after: &states)
        #expect(try await harness.nextFrame() == #"["2","2","room:1","phx_join",{"token":"t2"}]"#)
    }

    @Test func aFailingParamsProviderFailsTheJoin() async throws {
        struct NoToken: Error, CustomStringConvertible {
            var description: String { "no token" }
        }
        let harness = try Harness()
        let channel = harness.socket.channel("room:1") { () async throws -> PhoenixPayload in throw NoToken() }
        await #expect(throws: PhoenixClientError.joinParamsUnavailable("no token")) { try await channel.join() }
    }

    @Test func disconnectEndsChannelsAndTheirPushes() async throws {
        let harness = try Harness()
        let channel = harness.socket.channel("room:1")
        var events = channel.events.makeAsyncIterator()
        try await harness.joined(channel)
        let pushing = Task { try await channel.push("work") }
        _ = try await harness.server.nextMessage()
        await harness.socket.disconnect()
        await #expect(throws: PhoenixClientError.cancelled(.disconnected)) { try await pushing.value }
        #expect(await take(3, from: &events) == ["joined {}", "closed disconnected", "end"])
    }

    @Test func cancellingAPushCompletesItAndKeepsTheChannel() async throws {
        let harness = try Harness()
        let channel = harness.socket.channel("room:1")
        try await harness.joined(channel)
        let pushing = Task { try await channel.push("never mind") }
        let first = try await harness.server.nextMessage()
        pushing.cancel()
        await #expect(throws: PhoenixClientError.cancelled(.taskCancelled)) { try await pushing.value }
        try harness.server.reply(to: first)  // late: dropped
        let again = Task { try await channel.push("again") }
        let push = try await harness.server.nextMessage()
        #expect(Harness.text(push) == #"["1","3","room:1","again",{}]"#)
        try harness.server.reply(to: push)
        #expect(try await again.value == .emptyObject)
    }
}

/// Binary payloads and the Codable conveniences.
@Suite(.timeLimit(.minutes(1))) struct PhoenixPayloadTests {
    @Test func binaryPayloadsGoBothWaysOverJSONv2() async throws {
        let harness = try Harness()
        let channel = harness.socket.channel("room:1")
        var events = channel.events.makeAsyncIterator()
        let join = try await harness.joined(channel)
        let pushing = Task { try await channel.push("upload", binary: [0, 1, 2, 255]) }
        let push = try await harness.server.nextMessage()
        #expect(push.payload == .binary([0, 1, 2, 255]))
        #expect([push.joinRef, push.ref, push.topic, push.event] == ["1", "2", "room:1", "upload"])
        try harness.server.send(
            .reply(joinRef: push.joinRef, ref: push.ref, topic: "room:1", status: "ok", response: .binary([9, 8])))
        #expect(try await pushing.value == .binary([9, 8]))
        try harness.server.send(
            PhoenixMessage(joinRef: join.ref, ref: nil, topic: "room:1", event: "frame", payload: .binary([7, 0])))
        #expect(await take(2, from: &events) == ["joined {}", "message frame binary[7, 0]"])
    }

    /// JSON v1 has no binary frames: the push is refused with a typed error and never sent.
    @Test func aBinaryPushOverJSONv1IsRefused() async throws {
        let harness = try Harness(serializer: .jsonV1)
        let channel = harness.socket.channel("room:1")
        try await harness.joined(channel)
        let error = PhoenixClientError.unencodable(
            "binary payloads need the JSON v2 serializer (JSON v1 has no binary frames)")
        await #expect(throws: error) { try await channel.push("upload", binary: [1, 2, 3]) }
        #expect(
            error.description
                == "cannot encode: binary payloads need the JSON v2 serializer (JSON v1 has no binary frames)")
        let pushing = Task { try await channel.push("text") }
        let push = try await harness.server.nextMessage()
        #expect(Harness.text(push) == #"[null,"2","room:1","text",{}]"#)  // v1 pushes carry no join_ref
        try harness.server.reply(to: push)
        _ = try await pushing.value
    }

    struct Shout: Codable, Equatable {
        let body: String
    }

    struct Ack: Decodable, Equatable {
        let id: Int
    }

    @Test func codableConveniences() async throws {
        let harness = try Harness()
        let channel = try harness.socket.channel("room:1", params: Shout(body: "join"))
        var messages = channel.messages.makeAsyncIterator()
        try await harness.socket.connect()
        let joining = Task { try await channel.join(replyAs: Ack.self) }
        let join = try await harness.server.nextMessage()
        #expect(Harness.text(join) == #"["1","1","room:1","phx_join",{"body":"join"}]"#)
        try harness.server.reply(to: join, response: #"{"id":1}"#)
        #expect(try await joining.value == Ack(id: 1))

        let pushing = Task { try await channel.push("shout", encoding: Shout(body: "hi"), replyAs: Ack.self) }
        let push = try await harness.server.nextMessage()
        #expect(Harness.text(push) == #"["1","2","room:1","shout",{"body":"hi"}]"#)
        try harness.server.reply(to: push, response: #"{"id":7}"#)
        #expect(try await pushing.value == Ack(id: 7))

        try harness.server.push(topic: "room:1", event: "shout", payload: #"{"body":"yo"}"#, joinRef: join.ref)
        let message = try #require(await messages.next())
        #expect(try message.decode(Shout.self) == Shout(body: "yo"))
        let error = PhoenixClientError.undecodable("the shout payload does not have the expected shape: missing key id")
        #expect(throws: error) { try message.decode(Ack.self) }
        #expect(
            throws: PhoenixClientError.undecodable("the frame payload is binary, not JSON")
        ) { try PhoenixChannelMessage(event: "frame", payload: .binary([1])).decode(Ack.self) }
    }
}

/// Yields until `condition` holds (the socket works on its own executor), or the test is
/// cancelled (its time limit passed).
func until(_ condition: () async -> Bool) async {
    while !(await condition()), !Task.isCancelled { await Task.yield() }
}
