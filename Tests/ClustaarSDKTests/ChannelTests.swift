import ClustaarSDK
import ClustaarTestSupport
import Foundation
import PhoenixProtocol
import Synchronization
import Testing

@Suite(.timeLimit(.minutes(1))) struct ChannelTests {
    @Test func joinSendsTheClustaarParamsAndReturnsTheControlStatus() async throws {
        let harness = try Harness()
        let channel = harness.channel()
        let join = try await harness.joined(channel, control: true)
        #expect(join.topic == Harness.topic)
        #expect(join.event == "phx_join")
        #expect(join.joinRef == join.ref)
        #expect(
            try json(join.payload)
                == json(
                    #"{"bot_id":"5c8a1f0e9d3b2a0012c4e5f6","socketToken":"tok-123","origin":"https://example.com","isLogged":false}"#
                ))
        #expect(await channel.isJoined)
    }

    @Test func aRejectedJoinThrowsTheServersReason() async throws {
        let harness = try Harness()
        let channel = harness.channel(socketToken: "bad")
        try await harness.service.connect()
        var errors = channel.botReplies.makeAsyncIterator()
        let status = Task { try await channel.join() }
        let join = try await harness.server.nextMessage()
        try harness.server.reply(to: join, status: "error", response: #"{"reason":"unauthorized"}"#)
        await #expect(throws: ClustaarError.joinRejected(reason: ["reason": "unauthorized"])) { try await status.value }
        #expect(await errors.next() == nil)  // the channel's streams end
        #expect(await !channel.isJoined)
    }

    @Test func anUnansweredJoinTimesOutAndLeaves() async throws {
        let harness = try Harness { $0.joinTimeout = .seconds(5) }
        let channel = harness.channel()
        try await harness.service.connect()
        let status = Task { try await channel.join() }
        _ = try await harness.server.nextMessage()  // phx_join, never answered
        harness.clock.advance(by: .seconds(5))
        await #expect(throws: ClustaarError.joinTimedOut) { try await status.value }
        let leave = try await harness.server.nextMessage()
        #expect(leave.event == "phx_leave")
    }

    @Test func joiningTwiceIsRefused() async throws {
        let harness = try Harness()
        let channel = harness.channel()
        _ = try await harness.joined(channel)
        await #expect(throws: ClustaarError.alreadyJoined(topic: Harness.topic)) { try await channel.join() }
        let twin = harness.channel()
        await #expect(throws: ClustaarError.alreadyJoined(topic: Harness.topic)) { try await twin.join() }
    }

    @Test func sendReplyWaitsForTheAcknowledgement() async throws {
        let harness = try Harness()
        let channel = harness.channel()
        let join = try await harness.joined(channel)
        let acknowledged = Task { try await channel.sendReply(token: "bot-token", .text("Hello")) }
        let push = try await harness.server.nextMessage()
        #expect(push.event == "interlocutor_reply")
        #expect(push.joinRef == join.ref)
        #expect(
            try json(push.payload)
                == json(
                    #"{"token":"bot-token","params":{"debug":0,"display":true,"channel":"clustaar_web_chat"},"body":{"type":"text","message":"Hello"}}"#
                ))
        try harness.server.reply(to: push, response: #"{"received":true}"#)
        #expect(try await acknowledged.value == ["received": true])
    }

    /// A reply over the connection's `maxMessageSize` fails at once with its size and the limit,
    /// and the channel goes on: the next reply is sent and acknowledged.
    @Test func sendReplyOverTheSizeLimitFailsAtOnceAndTheNextGoesOut() async throws {
        let harness = try Harness { $0.limits.maxMessageSize = 512 }
        let channel = harness.channel()
        let join = try await harness.joined(channel)
        let text = String(repeating: "a", count: 600)
        // The frame as the server would get it (the size does not depend on key order).
        let frame =
            #"["\#(join.ref ?? "")","2","\#(Harness.topic)","interlocutor_reply",{"token":"bot-token","params":{"debug":0,"display":true,"channel":"clustaar_web_chat"},"body":{"type":"text","message":"\#(text)"}}]"#
        let error = ClustaarError.tooLarge(size: frame.utf8.count, limit: 512)
        await #expect(throws: error) { try await channel.sendReply(token: "bot-token", .text(text)) }
        #expect(
            error.description
                == "not sent: the message is \(frame.utf8.count) bytes, over the connection's limit of 512 bytes (maxMessageSize)"
        )
        let acknowledged = Task { try await channel.sendReply(token: "bot-token", .text("short")) }
        let push = try await harness.server.nextMessage()
        #expect(push.ref == "3")
        #expect(try json(push.payload)["body"]?["message"] == "short")
        try harness.server.reply(to: push, response: #"{"received":true}"#)
        #expect(try await acknowledged.value == ["received": true])
    }

    /// `{}`, the usual acknowledgement, is read without a decoder: the same value as any other
    /// empty object.
    @Test func anEmptyAcknowledgementIsAnEmptyObject() async throws {
        let harness = try Harness()
        let channel = harness.channel()
        _ = try await harness.joined(channel)
        for response in ["{}", " { } ", #"{"a":1}"#] {
            let acknowledged = Task { try await channel.sendReply(token: "bot-token", .text("Hello")) }
            try harness.server.reply(to: try await harness.server.nextMessage(), response: response)
            let value = try await acknowledged.value
            #expect(value == (try json(response)))
            #expect((value == .object(JSONObject())) == (response != #"{"a":1}"#))
        }
    }

    @Test func aRejectedReplyThrowsTheServersResponse() async throws {
        let harness = try Harness()
        let channel = harness.channel()
        _ = try await harness.joined(channel)
        let acknowledged = Task {
            try await channel.sendReply(token: "bot-token", .customEvent(name: "cart_abandoned"))
        }
        let push = try await harness.server.nextMessage()
        #expect(try json(push.payload)["params"]?["display"] == false)
        try harness.server.reply(to: push, status: "error", response: #"{"reason":"invalid token"}"#)
        await #expect(throws: ClustaarError.replyRejected(status: "error", response: ["reason": "invalid token"])) {
            try await acknowledged.value
        }
    }

    @Test func anUnacknowledgedReplyTimesOut() async throws {
        let harness = try Harness { $0.pushTimeout = .seconds(10) }
        let channel = harness.channel()
        _ = try await harness.joined(channel)
        let acknowledged = Task { try await channel.sendReply(token: "bot-token", .text("anyone?")) }
        _ = try await harness.server.nextMessage()
        harness.clock.advance(by: .seconds(10))
        await #expect(throws: ClustaarError.replyTimedOut) { try await acknowledged.value }
    }

    @Test func sendingBeforeJoiningIsRefused() async throws {
        let harness = try Harness()
        try await harness.service.connect()
        await #expect(throws: ClustaarError.notJoined) {
            try await harness.channel().sendReply(token: "bot-token", .text("too early"))
        }
    }

    @Test func repliesReachEveryConsumerAndSurviveABadPayload() async throws {
        let harness = try Harness()
        let channel = harness.channel()
        let join = try await harness.joined(channel)
        var first = channel.botReplies.makeAsyncIterator()
        var second = channel.botReplies.makeAsyncIterator()
        var errors = channel.errors.makeAsyncIterator()
        try harness.server.push(
            topic: Harness.topic, event: "bot_reply", payload: #"{"fulfillment":{"actions":7}}"#, joinRef: join.ref)
        try harness.server.push(topic: Harness.topic, event: "bot_reply", payload: echoBotReply, joinRef: join.ref)
        let reply = try #require(await first.next())
        #expect(await second.next() == reply)
        guard case .text(let text) = reply.actions.first else {
            Issue.record("expected a text action, got \(reply.actions)")
            return
        }
        #expect(text.text == "Echo: Hello")
        guard case .undecodable(let event, let error) = await errors.next() else {
            Issue.record("expected a decoding error")
            return
        }
        #expect(event == "bot_reply")
        #expect(error.path == "fulfillment.actions")
    }

    @Test func agentRepliesControlChangesAndEchoes() async throws {
        let harness = try Harness()
        let channel = harness.channel()
        let join = try await harness.joined(channel)
        var control = channel.controlChanges.makeAsyncIterator()
        var agent = channel.agentReplies.makeAsyncIterator()
        var echoes = channel.interlocutorReplies.makeAsyncIterator()
        try harness.server.push(
            topic: Harness.topic, event: "control", payload: #"{"at":1718011200,"value":true}"#, joinRef: join.ref)
        try harness.server.push(
            topic: Harness.topic, event: "agent_reply", payload: #"{"type":"text","message":"Hi, Julie here"}"#,
            joinRef: join.ref)
        try harness.server.push(
            topic: Harness.topic, event: "interlocutor_reply",
            payload: #"{"message":"Bonjour","timestamp":"2026-11-25T13:29:38.350Z","type":"text"}"#, joinRef: join.ref)
        #expect(await control.next()?.control == true)
        #expect(await agent.next() == AgentReply(type: "text", message: "Hi, Julie here"))
        #expect(await echoes.next() == .text("Bonjour"))
    }

    @Test func theEventsStreamKeepsTheServersOrderAcrossKinds() async throws {
        let harness = try Harness()
        let channel = harness.channel()
        let join = try await harness.joined(channel)
        var events = channel.events.makeAsyncIterator()
        let pushes: [(String, String)] = [
            ("control", #"{"at":1,"value":true}"#),
            ("agent_reply", #"{"type":"text","message":"Hi"}"#),
            ("bot_reply", #"{"fulfillment":{"actions":[{"type":"text_action","text":"Back"}]}}"#),
            ("bot_reply", #"{"fulfillment":{"actions":[{"type":"wait_action","duration":"soon"}]}}"#),
            ("control", #"{"at":2,"value":false}"#),
            ("interlocutor_reply", #"{"message":"Bonjour","type":"text"}"#),
        ]
        for (event, payload) in pushes {
            try harness.server.push(topic: Harness.topic, event: event, payload: payload, joinRef: join.ref)
        }
        var kinds: [String] = []
        for _ in pushes {
            switch await events.next() {
            case .controlChanged(let change): kinds.append("control \(change.control)")
            case .agentReply(let reply): kinds.append("agent \(reply.message)")
            case .botReply(let reply): kinds.append("bot \(reply.actions.count)")
            case .interlocutorReply(let body): kinds.append("echo \(body == .text("Bonjour"))")
            case .error(.undecodable(let event, _)): kinds.append("undecodable \(event)")
            case .error(.server(let event, _)): kinds.append("server error \(event)")
            case let other?: kinds.append("\(other)")
            case nil: kinds.append("end")
            }
        }
        #expect(
            kinds == [
                "control true", "agent Hi", "bot 1", "undecodable bot_reply", "control false", "echo true",
            ])
    }

    @Test func serverErrorsInTheEnvelopeGoToTheErrorsStream() async throws {
        let harness = try Harness()
        let channel = harness.channel()
        let join = try await harness.joined(channel)
        var errors = channel.errors.makeAsyncIterator()
        try harness.server.push(
            topic: Harness.topic, event: "bot_reply",
            payload: #"{"status":422,"body":{"error":{"type":"invalid_request","message":"token is invalid"}}}"#,
            joinRef: join.ref)
        guard case .server(let event, let error) = await errors.next() else {
            Issue.record("expected a server error")
            return
        }
        #expect(event == "bot_reply")
        #expect(error.status == 422)
        #expect(error.error["message"] == "token is invalid")
    }

    @Test func leaveWhileJoiningCancelsTheJoin() async throws {
        let harness = try Harness()
        let channel = harness.channel()
        try await harness.service.connect()
        let status = Task { try await channel.join() }
        _ = try await harness.server.nextMessage()  // phx_join, unanswered
        let left = Task { await channel.leave() }
        let leave = try await harness.server.nextMessage()
        #expect(leave.event == "phx_leave")
        try harness.server.reply(to: leave)
        await left.value
        await #expect(throws: ClustaarError.self) { try await status.value }
        #expect(await !channel.isJoined)
    }

    @Test func cancellingSendReplyCompletesItAndKeepsTheChannelUsable() async throws {
        let harness = try Harness()
        let channel = harness.channel()
        _ = try await harness.joined(channel)
        let sending = Task { try await channel.sendReply(token: "bot-token", .text("never mind")) }
        let first = try await harness.server.nextMessage()
        sending.cancel()
        await #expect(throws: ClustaarError.cancelled(.taskCancelled)) { try await sending.value }
        try harness.server.reply(to: first)  // a late acknowledgement is ignored
        let second = Task { try await channel.sendReply(token: "bot-token", .text("Hello again")) }
        let push = try await harness.server.nextMessage()
        try harness.server.reply(to: push)
        #expect(try await second.value == [:])
    }

    @Test func cancellingJoinLeavesTheChannel() async throws {
        let harness = try Harness()
        let channel = harness.channel()
        try await harness.service.connect()
        let joining = Task { try await channel.join() }
        _ = try await harness.server.nextMessage()  // phx_join
        joining.cancel()
        await #expect(throws: ClustaarError.cancelled(.taskCancelled)) { try await joining.value }
        let leave = try await harness.server.nextMessage()
        #expect(leave.event == "phx_leave")
    }

    @Test func aDropFailsTheReplyInFlightAndTheChannelRejoins() async throws {
        let harness = try Harness { $0.reconnectPolicy = PhoenixReconnectPolicy(delays: [.milliseconds(10)]) }
        let channel = harness.channel()
        let firstJoin = try await harness.joined(channel)
        let acknowledged = Task { try await channel.sendReply(token: "bot-token", .text("are you there?")) }
        _ = try await harness.server.nextMessage()
        await harness.dropAndReconnect()
        await #expect(
            throws: ClustaarError.outcomeUnknown(.connectionLost(code: nil, reason: "connection dropped"))
        ) { try await acknowledged.value }
        let rejoin = try await harness.server.nextMessage()
        #expect(rejoin.event == "phx_join")
        #expect(rejoin.ref != firstJoin.ref)
        try harness.server.reply(to: rejoin, response: #"{"control":false}"#)
        // The channel works again, and its streams carried on across the reconnect.
        var replies = channel.botReplies.makeAsyncIterator()
        try harness.server.push(topic: Harness.topic, event: "bot_reply", payload: echoBotReply, joinRef: rejoin.ref)
        #expect(await replies.next() != nil)
        #expect(harness.transport.requests.count == 2)
    }

    @Test func anAsyncParamsProviderIsAskedBeforeEveryJoin() async throws {
        let harness = try Harness { $0.reconnectPolicy = PhoenixReconnectPolicy(delays: [.milliseconds(10)]) }
        let calls = Counter()
        let channel = harness.service.interlocutorChannel(interlocutorID: Harness.interlocutorID) {
            let call = calls.increment()
            return JoinParams(botID: Harness.botID, socketToken: "token-\(call)")
        }
        try await harness.service.connect()
        let status = Task { try await channel.join() }
        let join = try await harness.server.nextMessage()
        #expect(try json(join.payload)["socketToken"] == "token-1")
        try harness.server.reply(to: join, response: #"{"control":false}"#)
        _ = try await status.value
        await harness.dropAndReconnect()
        let rejoin = try await harness.server.nextMessage()
        #expect(try json(rejoin.payload)["socketToken"] == "token-2")
    }
}

final class Counter: Sendable {
    private let value = Mutex(0)
    func increment() -> Int {
        value.withLock {
            $0 += 1; return $0
        }
    }
}
