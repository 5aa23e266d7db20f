import ClustaarSDK
import ClustaarTestSupport
import Foundation
import PhoenixProtocol
import Testing

/// Issue 16: a channel decodes an event into its typed value only when a stream that would show
/// the value (or its error) has a subscriber. What a subscriber sees must not depend on that:
/// exactly the events sent after it subscribed, in the server's order, on every stream.
@Suite struct ChannelFanOutTests {
    static let malformedBotReply = #"{"fulfillment":{"actions":7}}"#

    static func botReply(_ text: String) -> String {
        #"{"fulfillment":{"actions":[{"type":"send_text_action","alternatives":["\#(text)"]}]}}"#
    }

    /// Events pushed before anyone subscribed are not replayed; those after are seen by each
    /// stream in order, the ordered stream interleaving the kinds as the server sent them. A
    /// `control` event with no subscriber still updates `control`.
    @Test func aSubscriberSeesExactlyTheEventsAfterItSubscribedInOrder() async throws {
        let harness = try Harness()
        let channel = harness.channel()
        let join = try await harness.joined(channel, control: false)
        let before: [(String, String)] = [
            ("bot_reply", Self.botReply("Before")),
            ("interlocutor_reply", #"{"message":"Early","type":"text"}"#),
            ("bot_reply", Self.malformedBotReply),
            ("agent_reply", #"{"type":"text","message":"Early agent"}"#),
            ("control", #"{"at":1,"value":true}"#),
        ]
        for (event, payload) in before {
            try harness.server.push(topic: Harness.topic, event: event, payload: payload, joinRef: join.ref)
        }
        // Nobody reads any stream, yet the channel knows an agent took over.
        await harness.eventually { channel.control == true }

        var events = channel.events.makeAsyncIterator()
        var botReplies = channel.botReplies.makeAsyncIterator()
        var echoes = channel.interlocutorReplies.makeAsyncIterator()
        var errors = channel.errors.makeAsyncIterator()
        var changes = channel.controlChanges.makeAsyncIterator()
        let after: [(String, String)] = [
            ("bot_reply", Self.botReply("After 1")),
            ("interlocutor_reply", #"{"message":"Bonjour","type":"text"}"#),
            ("bot_reply", Self.malformedBotReply),
            ("bot_reply", Self.botReply("After 2")),
            ("control", #"{"at":2,"value":false}"#),
        ]
        for (event, payload) in after {
            try harness.server.push(topic: Harness.topic, event: event, payload: payload, joinRef: join.ref)
        }
        var seen: [String] = []
        for _ in after {
            switch await events.next() {
            case .botReply(let reply): seen.append("bot \(Self.text(reply))")
            case .interlocutorReply(let body): seen.append("echo \(body)")
            case let other: seen.append(describe(other))
            }
        }
        #expect(
            seen == [
                "bot After 1", #"echo text("Bonjour")"#, "error bot_reply", "bot After 2", "control false at 2",
            ])
        #expect(await botReplies.next().map(Self.text) == "After 1")
        #expect(await botReplies.next().map(Self.text) == "After 2")
        #expect(await echoes.next() == .text("Bonjour"))
        guard case .undecodable(let event, let error) = await errors.next() else {
            Issue.record("expected a decoding error")
            return
        }
        #expect(event == "bot_reply")
        #expect(error.path == "fulfillment.actions")
        #expect(await changes.next() == ControlChange(control: false, at: .number(2)))
        #expect(channel.control == false)
    }

    /// A subscriber of `errors` alone still hears of every payload that cannot be read, and of
    /// every server error, of each kind, in order.
    @Test func anErrorsOnlySubscriberStillGetsEveryUnreadablePayload() async throws {
        let harness = try Harness()
        let channel = harness.channel()
        let join = try await harness.joined(channel)
        var errors = channel.errors.makeAsyncIterator()
        let pushes: [(String, String)] = [
            ("bot_reply", Self.botReply("Fine")),
            ("bot_reply", Self.malformedBotReply),
            ("interlocutor_reply", #"{"type":"text"}"#),
            ("agent_reply", #"{"status":500,"body":{"error":"down"}}"#),
            ("control", #"{"at":3}"#),
            ("bot_reply", Self.botReply("Fine again")),
        ]
        for (event, payload) in pushes {
            try harness.server.push(topic: Harness.topic, event: event, payload: payload, joinRef: join.ref)
        }
        var seen: [String] = []
        for _ in 0..<4 {
            switch await errors.next() {
            case .undecodable(let event, let error): seen.append("undecodable \(event) at \(error.path)")
            case .server(let event, let error): seen.append("server \(event) \(error.status) \(error.error)")
            case nil: seen.append("end")
            }
        }
        #expect(
            seen == [
                "undecodable bot_reply at fulfillment.actions", "undecodable interlocutor_reply at message",
                #"server agent_reply 500 "down""#, "undecodable control at value",
            ])
        #expect(channel.control == false)  // the unreadable `control` changed nothing
    }

    /// The `control` a channel remembers with no subscriber decides whether a rejoin is a
    /// change: one that agrees with it tells none.
    @Test func aControlRememberedWithoutSubscribersDecidesTheRejoinsChange() async throws {
        let harness = try Harness { $0.reconnectPolicy = PhoenixReconnectPolicy(delays: [.milliseconds(10)]) }
        let channel = harness.channel()
        let join = try await harness.joined(channel, control: false)
        try harness.server.push(
            topic: Harness.topic, event: "control", payload: #"{"at":1,"value":true}"#, joinRef: join.ref)
        await harness.eventually { channel.control == true }
        var events = channel.events.makeAsyncIterator()
        await harness.dropAndReconnect()
        let rejoin = try await harness.server.nextMessage()
        try harness.server.reply(to: rejoin, response: #"{"control":true}"#)
        try harness.server.push(
            topic: Harness.topic, event: "agent_reply", payload: #"{"type":"text","message":"Still me"}"#,
            joinRef: rejoin.ref)
        #expect(
            await take(3, from: &events) == [
                "errored the connection was lost", "rejoined control true", "agent_reply Still me",
            ])
    }

    static func text(_ reply: BotReply) -> String {
        guard case .text(let action) = reply.actions.first else { return "\(reply.actions)" }
        return action.displayText ?? "none"
    }
}
