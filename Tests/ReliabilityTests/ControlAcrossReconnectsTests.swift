import ClustaarSDK
import ClustaarSandbox
import ClustaarTestSupport
import Foundation
import Testing

/// Issue 17 over both transports: SDK → FaultProxy → sandbox. The sandbox keeps who holds each
/// conversation server-wide (as the real service does), so a rejoin's reply tells what changed
/// while the client was away; the app hears it exactly once, in order with the channel's life.
@Suite(.serialized, .timeLimit(.minutes(2))) struct ControlAcrossReconnectsTests {
    /// Generous join and push timeouts: a loaded machine must not turn a slow answer into a
    /// failure (nothing here measures time).
    static func patient(_ configuration: inout ClustaarWebChatService.Configuration) {
        configuration.joinTimeout = .seconds(60)
        configuration.pushTimeout = .seconds(60)
    }

    /// An agent takes the conversation (the app hears `control`), the connection is cut, the
    /// rejoin says control: true (no second change); the agent gives it back while the client is
    /// disconnected, and the next rejoin brings that change, once.
    @Test(arguments: TransportKind.allCases)
    func controlTakenAndReleasedAcrossCuts(kind: TransportKind) async throws {
        let setup = try await FaultSetup(kind, configure: Self.patient)
        var events = setup.channel.events.makeAsyncIterator()
        var changes = setup.channel.controlChanges.makeAsyncIterator()
        try await setup.joined()

        #expect(setup.sandbox.setControl(interlocutorID: FaultSetup.interlocutorID, taken: true))
        #expect(await Life.take(2, from: &events) == ["joined control false", "control true"])
        await setup.proxy.dropConnections()
        #expect(await Life.take(2, from: &events) == ["errored the connection was lost", "rejoined control true"])
        #expect(setup.channel.control == true)

        // Released while the client cannot reach the server: only the rejoin can tell.
        await setup.proxy.stop()
        #expect(await Life.take(1, from: &events) == ["errored the connection was lost"])
        #expect(setup.sandbox.setControl(interlocutorID: FaultSetup.interlocutorID, taken: false))
        #expect(!setup.sandbox.setControl(interlocutorID: FaultSetup.interlocutorID, taken: false))
        try await setup.proxy.start()
        #expect(await Life.take(2, from: &events) == ["rejoined control false", "control false at nil"])
        #expect(setup.channel.control == false)

        // The bot answers again, and nothing else came in between.
        try await setup.say("Hello")
        #expect(await Life.take(2, from: &events) == ["interlocutor_reply", "bot_reply"])
        await setup.channel.leave()
        #expect(await Life.take(2, from: &events) == ["closed left", "end"])
        // Exactly one change each way over the whole conversation.
        #expect(await changes.next()?.control == true)
        #expect(await changes.next() == ControlChange(control: false, at: nil))
        #expect(await changes.next() == nil)
        #expect(Fault.clientEventCount(setup.proxy.statistics, "phx_join") == 3)
        await setup.tearDown()
    }

    /// The server restarts: the channel's life comes in order (errored, then the rejoin), the
    /// control an agent holds survives the restart, and an unchanged control is no change.
    @Test(arguments: TransportKind.allCases)
    func serverRestartKeepsTheControlAndMakesNoDuplicateChange(kind: TransportKind) async throws {
        let setup = try await FaultSetup(kind, configure: Self.patient)
        var events = setup.channel.events.makeAsyncIterator()
        var statuses = setup.channel.joinStatuses.makeAsyncIterator()
        try await setup.joined()

        try await setup.sandbox.restart()
        #expect(
            await Life.take(3, from: &events) == [
                "joined control false", "errored the connection was lost", "rejoined control false",
            ])
        try await setup.say("take control")
        #expect(
            await Life.take(3, from: &events) == [
                "interlocutor_reply", "control true", "agent_reply Hello, I am an agent. How can I help?",
            ])

        try await setup.sandbox.restart()
        #expect(await Life.take(2, from: &events) == ["errored the connection was lost", "rejoined control true"])
        #expect(setup.sandbox.isControlTaken(interlocutorID: FaultSetup.interlocutorID))
        // The agent still answers; no control change came with the rejoin.
        try await setup.say("are you human?")
        #expect(await Life.take(2, from: &events) == ["interlocutor_reply", "agent_reply Agent: are you human?"])
        let statusesSeen = [await statuses.next(), await statuses.next(), await statuses.next()]
        #expect(statusesSeen.map { $0?.control } == [false, false, true])
        await setup.tearDown()
    }
}

/// The channel's events, readable in one assertion (ReliabilityTests has no SDK test helpers).
enum Life {
    static func take(_ count: Int, from events: inout AsyncStream<ChannelEvent>.Iterator) async -> [String] {
        var out: [String] = []
        for _ in 0..<count { out.append(describe(await events.next())) }
        return out
    }

    static func describe(_ event: ChannelEvent?) -> String {
        switch event {
        case nil: "end"
        case .joined(let status, let isRejoin): "\(isRejoin ? "rejoined" : "joined") control \(status.control)"
        case .errored(let cause): "errored \(cause)"
        case .rejected(let status, let response, let willRetry):
            "rejected \(status) \(response)\(willRetry ? " retrying" : "")"
        case .closed(let cause): "closed \(cause)"
        // A server's `control` carries its own time; a rejoin's change has none.
        case .controlChanged(let change): "control \(change.control)\(change.at == nil ? " at nil" : "")"
        case .botReply: "bot_reply"
        case .agentReply(let reply): "agent_reply \(reply.message)"
        case .interlocutorReply: "interlocutor_reply"
        case .error(let error): "error \(error)"
        }
    }
}
