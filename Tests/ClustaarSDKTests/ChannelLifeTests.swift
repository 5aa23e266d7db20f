import ClustaarSDK
import ClustaarTestSupport
import Foundation
import PhoenixProtocol
import Testing

/// Issue 17: every (re)join reaches the app. In memory with the manual clock: the channel's
/// life in `events` (exact sequences), `joinStatuses`, and the control state a rejoin tells.
@Suite struct ChannelLifeTests {
    /// `phx_error`: the channel says why it stopped, rejoins after the rejoin delay, and the
    /// rejoin's `control` (an agent took over meanwhile) is a control change, after the join.
    @Test func aRejoinAfterPhxErrorTellsTheControlTheServerHasNow() async throws {
        let harness = try Harness { $0.rejoinDelays = [.seconds(1)] }
        let channel = harness.channel()
        var events = channel.events.makeAsyncIterator()
        var changes = channel.controlChanges.makeAsyncIterator()
        var statuses = channel.joinStatuses.makeAsyncIterator()
        #expect(channel.control == nil)
        let join = try await harness.joined(channel, control: false)
        #expect(channel.control == false)
        try harness.server.send(
            PhoenixMessage(
                joinRef: join.ref, ref: join.ref, topic: Harness.topic, event: "phx_error", payload: .emptyObject))
        #expect(
            await take(2, from: &events) == [
                "joined control false", "errored the channel crashed on the server: {}",
            ])
        harness.clock.advance(by: .seconds(1))
        let rejoin = try await harness.server.nextMessage()
        #expect(rejoin.event == "phx_join" && rejoin.ref != join.ref)
        try harness.server.reply(to: rejoin, response: #"{"control":true}"#)
        #expect(await take(2, from: &events) == ["rejoined control true", "control true at nil"])
        #expect(await changes.next() == ControlChange(control: true, at: nil))
        #expect(await statuses.next() == JoinStatus(control: false))
        #expect(await statuses.next() == JoinStatus(control: true))
        #expect(channel.control == true)

        // The stream ends after `.closed`, and so does every other.
        let leaving = Task { await channel.leave() }
        let leave = try await harness.server.nextMessage()
        try harness.server.reply(to: leave)
        await leaving.value
        #expect(await take(2, from: &events) == ["closed left", "end"])
        #expect(await changes.next() == nil)
        #expect(await statuses.next() == nil)
    }

    /// A rejoin that gets no answer in time: left on the server, tried again after the rejoin
    /// delay; its `control` agrees with what the app knows, so no control change is made up.
    @Test func aRejoinAfterAJoinTimeoutIsRetriedAndAnUnchangedControlIsNoChange() async throws {
        let harness = try Harness {
            $0.joinTimeout = .seconds(5)
            $0.rejoinDelays = [.seconds(2)]
            $0.reconnectPolicy = PhoenixReconnectPolicy(delays: [.milliseconds(10)])
        }
        let channel = harness.channel()
        var events = channel.events.makeAsyncIterator()
        let join = try await harness.joined(channel, control: true)
        await harness.dropAndReconnect()
        let unanswered = try await harness.server.nextMessage()
        #expect(unanswered.event == "phx_join")
        harness.clock.advance(by: .seconds(5))
        let abandoned = try await harness.server.nextMessage()
        #expect(abandoned.event == "phx_leave" && abandoned.joinRef == unanswered.ref)
        #expect(
            await take(3, from: &events) == [
                "joined control true", "errored the connection was lost",
                "errored the server did not answer the rejoin in time",
            ])
        harness.clock.advance(by: .seconds(2))
        let rejoin = try await harness.server.nextMessage()
        #expect(rejoin.event == "phx_join" && rejoin.ref != unanswered.ref && rejoin.ref != join.ref)
        try harness.server.reply(to: rejoin, response: #"{"control":true}"#)
        // The next event after the rejoin is the server's own: nothing came between.
        try harness.server.push(
            topic: Harness.topic, event: "control", payload: #"{"at":7,"value":false}"#, joinRef: rejoin.ref)
        #expect(await take(2, from: &events) == ["rejoined control true", "control false at 7"])
        #expect(channel.control == false)
    }

    /// A refused rejoin: retried by the join-error policy, and the retry's `control` (released
    /// meanwhile) differs from the last `control` event: one change. Without a retry policy the
    /// channel ends.
    @Test func aRejectedRejoinIsRetriedOrEndsTheChannel() async throws {
        let harness = try Harness {
            $0.joinErrorPolicy = .retry(times: 1, after: .seconds(3))
            $0.reconnectPolicy = PhoenixReconnectPolicy(delays: [.milliseconds(10)])
        }
        let channel = harness.channel()
        var events = channel.events.makeAsyncIterator()
        var changes = channel.controlChanges.makeAsyncIterator()
        let join = try await harness.joined(channel, control: false)
        try harness.server.push(
            topic: Harness.topic, event: "control", payload: #"{"at":1,"value":true}"#, joinRef: join.ref)
        #expect(await take(2, from: &events) == ["joined control false", "control true at 1"])
        await harness.dropAndReconnect()
        let refused = try await harness.server.nextMessage()
        try harness.server.reply(to: refused, status: "error", response: #"{"reason":"busy"}"#)
        #expect(
            await take(2, from: &events) == [
                "errored the connection was lost", #"rejected error {"reason":"busy"} retrying"#,
            ])
        harness.clock.advance(by: .seconds(3))
        let again = try await harness.server.nextMessage()
        #expect(again.event == "phx_join")
        try harness.server.reply(to: again, response: #"{"control":false}"#)
        #expect(await take(2, from: &events) == ["rejoined control false", "control false at nil"])
        #expect(await changes.next() == ControlChange(control: true, at: .number(1)))
        #expect(await changes.next() == ControlChange(control: false, at: nil))

        let stopping = try Harness { $0.reconnectPolicy = PhoenixReconnectPolicy(delays: [.milliseconds(10)]) }
        let stopped = stopping.channel()
        var stoppedEvents = stopped.events.makeAsyncIterator()
        var stoppedChanges = stopped.controlChanges.makeAsyncIterator()
        _ = try await stopping.joined(stopped, control: true)
        await stopping.dropAndReconnect()
        let rejected = try await stopping.server.nextMessage()
        try stopping.server.reply(to: rejected, status: "error", response: #"{"reason":"unauthorized"}"#)
        #expect(
            await take(5, from: &stoppedEvents) == [
                "joined control true", "errored the connection was lost",
                #"rejected error {"reason":"unauthorized"}"#, "closed the join was refused", "end",
            ])
        #expect(await stoppedChanges.next() == nil)
        #expect(await !stopped.isJoined)
    }

    /// An unreadable rejoin reply is reported, and keeps the control the app knows.
    @Test func anUnreadableRejoinReplyIsAnErrorAndNoChange() async throws {
        let harness = try Harness { $0.reconnectPolicy = PhoenixReconnectPolicy(delays: [.milliseconds(10)]) }
        let channel = harness.channel()
        var events = channel.events.makeAsyncIterator()
        _ = try await harness.joined(channel, control: true)
        await harness.dropAndReconnect()
        let rejoin = try await harness.server.nextMessage()
        try harness.server.reply(to: rejoin, response: #"{"control":"maybe"}"#)
        #expect(
            await take(4, from: &events) == [
                "joined control true", "errored the connection was lost", "error phx_reply", "rejoined control true",
            ])
        #expect(channel.control == true)
    }
}

/// The next `count` events of a channel, readable in one assertion.
func take(_ count: Int, from events: inout AsyncStream<ChannelEvent>.Iterator) async -> [String] {
    var out: [String] = []
    for _ in 0..<count { out.append(describe(await events.next())) }
    return out
}

func describe(_ event: ChannelEvent?) -> String {
    switch event {
    case nil: "end"
    case .joined(let status, let isRejoin): "\(isRejoin ? "rejoined" : "joined") control \(status.control)"
    case .errored(let cause): "errored \(cause)"
    case .rejected(let status, let response, let willRetry):
        "rejected \(status) \(response)\(willRetry ? " retrying" : "")"
    case .closed(let cause): "closed \(cause)"
    case .controlChanged(let change): "control \(change.control) at \(describe(change.at))"
    case .botReply: "bot_reply"
    case .agentReply(let reply): "agent_reply \(reply.message)"
    case .interlocutorReply: "interlocutor_reply"
    case .error(.undecodable(let event, _)), .error(.server(let event, _)): "error \(event)"
    }
}

func describe(_ at: ControlTimestamp?) -> String {
    switch at {
    case nil: "nil"
    case .number(let number): "\(number)"
    case .text(let text): text
    case .other(let value): "\(value)"
    }
}
