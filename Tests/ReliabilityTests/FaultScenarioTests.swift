import ClustaarSDK
import ClustaarSandbox
import ClustaarTestSupport
import Foundation
import PhoenixProtocol
import Testing

/// Issue 9's fault scenarios, each over both transports: SDK → FaultProxy → sandbox server on
/// loopback. Every assertion is an event, a value, an order or a typed error; time only drives
/// the short heartbeat and timeouts configured on the service, never a bound on wall time.
/// Serialized: the scenarios are busy (100 reconnects), and every suite of the process shares
/// two cores; one at a time keeps this suite's share of the load small.
@Suite(.serialized, .timeLimit(.minutes(2))) struct FaultScenarioTests {
    /// The sandbox restarts under a joined channel: the socket closes with 1012, reconnects
    /// through the proxy, the channel rejoins and the conversation goes on.
    @Test(arguments: TransportKind.allCases)
    func serverRestartMidConversation(kind: TransportKind) async throws {
        let setup = try await FaultSetup(kind)
        try await setup.joined()
        var replies = setup.channel.botReplies.makeAsyncIterator()
        try await setup.say("before")
        #expect(Fault.firstText(await replies.next()) == "Echo: before")

        var states = setup.service.connectionStates.makeAsyncIterator()
        try await setup.sandbox.restart()
        let seen = await Fault.collectStates(&states) { $0 == .open }
        // The server's close comes first (it had a joined channel: 1012), then a reconnect.
        switch kind {
        case .posix: #expect(seen.first == .closed(code: .serviceRestart, reason: ""))
        case .lws:
            // libwebsockets 4.1 turns 1012 into 1002 before we see it (see LWSTransport).
            guard case .error(let error) = seen.first else {
                Issue.record("expected an error first: \(seen)")
                return
            }
            #expect(error.code == .protocolViolation, "\(error)")
        }
        let serverCloses = setup.proxy.statistics.frames.filter { $0.direction == .serverToClient && $0.opcode == 8 }
        #expect(serverCloses.map(\.payload) == [[0x03, 0xF4]])  // what the server really sent: 1012
        // Attempts 1, 2... (a reconnect that comes while the sandbox is down is closed by the proxy).
        let attempts = seen.compactMap(Fault.reconnectAttempt)
        #expect(!attempts.isEmpty && attempts == Array(1...max(attempts.count, 1)))
        #expect(seen.last == .open)

        try await setup.say("after")
        #expect(Fault.firstText(await replies.next()) == "Echo: after")
        #expect(await setup.channel.isJoined)
        let statistics = setup.proxy.statistics
        #expect(Fault.clientEventCount(statistics, "phx_join") == 2)
        #expect(Fault.clientEventCount(statistics, "interlocutor_reply") == 2)  // nothing re-sent
        #expect(statistics.openConnections == 1)
        await setup.tearDown()
    }

    /// A half-open link: the proxy swallows everything and closes nothing. Only the heartbeat
    /// can notice, and does: the client sends exactly one heartbeat that goes unanswered, then
    /// gives up when the next one is due (within two intervals of the link going silent),
    /// reconnects through the healed proxy, and the channel rejoins.
    @Test(arguments: TransportKind.allCases)
    func halfOpenConnectionIsNoticedByTheHeartbeat(kind: TransportKind) async throws {
        let heartbeatTimeout = ConnectionState.error(TransportError(.connectionLost, "heartbeat timeout"))
        let setup = try await FaultSetup(kind) { configuration in
            // 1 s, not less: on a loaded machine a 200 ms heartbeat once went unanswered before the
            // link went silent, and the test then waited for a timeout that had already passed.
            configuration.heartbeatInterval = .seconds(1)
            configuration.timeouts.close = .milliseconds(300)
            // A reconnect that still meets the black hole (the heal comes just after the
            // timeout) gives its handshake up soon and tries again.
            configuration.timeouts.handshake = .seconds(5)
        }
        try await setup.joined()
        // Go silent right after an answered heartbeat, on the connection that carried it.
        let answered = await setup.proxy.waitUntil { statistics in
            Fault.phoenixMessages(statistics.frames, direction: .serverToClient).contains {
                $0.message.topic == "phoenix"
            }
        }
        let silenced = try #require(
            Fault.phoenixMessages(answered.frames, direction: .serverToClient).last { $0.message.topic == "phoenix" }
        ).frame.connection
        var states = setup.service.connectionStates.makeAsyncIterator()
        await setup.proxy.blackHole()

        // The first thing the client notices is the unanswered heartbeat.
        let noticed = await Fault.collectStates(&states) { $0 == heartbeatTimeout }
        #expect(noticed == [heartbeatTimeout])
        await setup.proxy.heal()
        let reopened = await Fault.collectStates(&states) { $0 == .open }
        let attempts = reopened.compactMap(Fault.reconnectAttempt)
        #expect(!attempts.isEmpty && attempts == Array(1...max(attempts.count, 1)))
        #expect(reopened.filter { $0 == .open }.count == 1)

        // What the client sent on the silent link: one heartbeat nobody answered, then its close.
        let statistics = await setup.proxy.waitUntil { statistics in
            statistics.frames.contains {
                $0.connection == silenced && $0.direction == .clientToServer && $0.opcode == 8
            }
        }
        let sent = statistics.frames.filter { $0.connection == silenced && $0.direction == .clientToServer }
        let answeredRefs = Set(
            Fault.phoenixMessages(statistics.frames, connection: silenced, direction: .serverToClient)
                .filter { !$0.frame.swallowed && $0.message.topic == "phoenix" }.compactMap(\.message.ref))
        let unanswered = Fault.phoenixMessages(sent, direction: .clientToServer)
            .filter { $0.message.event == "heartbeat" && !answeredRefs.contains($0.message.ref ?? "") }
        #expect(unanswered.count == 1, "heartbeats sent into the silence: \(unanswered.map(\.message))")
        #expect(unanswered.allSatisfy { $0.frame.swallowed })
        let close = try #require(sent.last)
        #expect(close.opcode == 8 && close.swallowed)
        #expect(close.payload == [0x03, 0xE8] + Array("heartbeat timeout".utf8))

        // The channel rejoined on the healed link.
        var replies = setup.channel.botReplies.makeAsyncIterator()
        try await setup.say("healed")
        #expect(Fault.firstText(await replies.next()) == "Echo: healed")
        #expect(await setup.channel.isJoined)
        await setup.tearDown()
    }

    /// A slow server: its acknowledgement comes after the push timeout. `sendReply` throws
    /// `.replyTimedOut` once; the late ack is ignored (the connection stays, nothing else is
    /// reported) and the next `sendReply` works.
    @Test(arguments: TransportKind.allCases)
    func slowServerTimesPushesOutAndLateRepliesAreIgnored(kind: TransportKind) async throws {
        // Long enough for a normal round trip on a loaded machine; the slow one never makes it.
        let setup = try await FaultSetup(kind) { $0.pushTimeout = .seconds(3) }
        try await setup.joined()
        var replies = setup.channel.botReplies.makeAsyncIterator()
        var errors = setup.channel.errors.makeAsyncIterator()

        // Everything the server sends is held far longer than the push timeout.
        await setup.proxy.setDelay(.seconds(3600), for: [.serverToClient])
        await #expect(throws: ClustaarError.replyTimedOut) { try await setup.say("slow") }
        let held = await setup.proxy.waitUntil { statistics in
            Fault.phoenixMessages(statistics.frames, direction: .serverToClient).contains {
                $0.message.event == "bot_reply"
            }
        }
        #expect(held.bytesFromServer > held.bytesToClients)  // the ack is still in the proxy

        // The server catches up: the late ack, then the bot's answer, reach the client.
        await setup.proxy.setDelay(.zero, for: [.serverToClient])
        #expect(Fault.firstText(await replies.next()) == "Echo: slow")  // the ack came before it
        #expect(await setup.service.isConnected)
        #expect(await setup.channel.isJoined)

        try await setup.say("fast")
        #expect(Fault.firstText(await replies.next()) == "Echo: fast")

        #expect(setup.proxy.statistics.connectionsAccepted == 1)  // one connection throughout
        await setup.channel.leave()
        #expect(await errors.next() == nil)  // the late ack was not reported as anything
        await setup.tearDown()
    }

    /// Where the connection is cut in the server's answer to a push.
    enum CutPoint: String, CaseIterable, Sendable, CustomTestStringConvertible {
        /// Inside the ack's frame (its first 8 bytes only): the ack never arrives.
        case insideTheAck
        /// Half of the server's first chunk: with the sandbox, ack, echo and bot reply usually
        /// go in one chunk, so the ack does arrive and a later frame is cut.
        case halfTheChunk

        var keeping: Int? {
            switch self {
            case .insideTheAck: 8
            case .halfTheChunk: nil
            }
        }

        var testDescription: String { rawValue }
    }

    static let cuts: [(TransportKind, CutPoint)] = TransportKind.allCases.flatMap { kind in
        CutPoint.allCases.map { (kind, $0) }
    }

    /// The connection is cut in the middle of the server's answer to a push (the client gets
    /// part of a chunk, then the end of the stream). `sendReply` reports one outcome: the ack if
    /// it got through whole, else `.outcomeUnknown`; the message is never re-sent; the channel
    /// rejoins and goes on.
    @Test(arguments: cuts)
    func cutWhileAPushIsInFlight(kind: TransportKind, cut: CutPoint) async throws {
        let setup = try await FaultSetup(kind)
        try await setup.joined()
        var states = setup.service.connectionStates.makeAsyncIterator()

        await setup.proxy.cutNextServerChunk(keeping: cut.keeping)
        let outcome: Result<Void, ClustaarError>
        do {
            try await setup.say("in flight")
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        switch (cut, outcome) {
        case (.insideTheAck, .success): Issue.record("the ack got through a cut inside it")
        case (.insideTheAck, .failure(let error)): #expect(error.isOutcomeUnknownAfterAConnectionLoss)
        case (.halfTheChunk, .success): break
        case (.halfTheChunk, .failure(let error)):  // the chunk held the ack only
            #expect(error.isOutcomeUnknownAfterAConnectionLoss)
        }
        let seen = await Fault.collectStates(&states) { $0 == .open }
        #expect(
            seen.first.map { state in
                if case .error = state { true } else if case .closed = state { true } else { false }
            } == true)
        #expect(seen.compactMap(Fault.reconnectAttempt) == [1])

        // Were "in flight" re-sent on the new connection, its echo would come before this one's.
        var replies = setup.channel.botReplies.makeAsyncIterator()
        try await setup.say("after")
        #expect(Fault.firstText(await replies.next()) == "Echo: after")
        #expect(await setup.channel.isJoined)

        let statistics = setup.proxy.statistics
        #expect(statistics.connectionsCut == 1)
        let pushes = Fault.phoenixMessages(statistics.frames, direction: .clientToServer)
            .filter { $0.message.event == "interlocutor_reply" }
        #expect(pushes.map(\.frame.connection) == [1, 2])  // one "in flight" on the first, "after" on the second
        #expect(Fault.clientEventCount(statistics, "phx_join") == 2)
        await setup.tearDown()
    }

    /// A reset instead of a cut: the server handled the push, but its ack is held in the proxy
    /// when the connection is reset. `sendReply` throws `.outcomeUnknown`, once; the ack never
    /// arrives; nothing is re-sent after the rejoin.
    @Test(arguments: TransportKind.allCases)
    func resetWhileTheAckIsHeldReportsOutcomeUnknown(kind: TransportKind) async throws {
        let setup = try await FaultSetup(kind)
        try await setup.joined()
        var states = setup.service.connectionStates.makeAsyncIterator()

        await setup.proxy.pause([.serverToClient])
        let sending = Task { try await setup.say("held") }
        // The server answered (ack, echo, bot reply): all of it waits in the proxy.
        let held = await setup.proxy.waitUntil { statistics in
            Fault.phoenixMessages(statistics.frames, direction: .serverToClient).contains {
                $0.message.event == "bot_reply"
            }
        }
        await setup.proxy.dropConnections(reset: true)
        await setup.proxy.resume()
        let error = await #expect(throws: ClustaarError.self) { try await sending.value }
        #expect(error.map(\.isOutcomeUnknownAfterAConnectionLoss) == true)
        let seen = await Fault.collectStates(&states) { $0 == .open }
        #expect(seen.compactMap(Fault.reconnectAttempt) == [1])

        var replies = setup.channel.botReplies.makeAsyncIterator()
        try await setup.say("after")
        #expect(Fault.firstText(await replies.next()) == "Echo: after")
        let statistics = setup.proxy.statistics
        #expect(statistics.connectionsAccepted == 2)
        // Nothing the server sent on the first connection after the push reached the client.
        let firstConnectionBytes = held.bytesToClients
        #expect(firstConnectionBytes < held.bytesFromServer)
        let pushes = Fault.phoenixMessages(statistics.frames, direction: .clientToServer)
            .filter { $0.message.event == "interlocutor_reply" }
        #expect(pushes.map(\.frame.connection) == [1, 2])
        await setup.tearDown()
    }

    /// 100 drops in a row (FIN and RST alternately): each time the socket reconnects at the
    /// first attempt and the channel rejoins (a push is acknowledged on every connection); a
    /// reply round-trips at the end, and no descriptor is left behind.
    @Test(arguments: TransportKind.allCases)
    func hundredReconnectsInARow(kind: TransportKind) async throws {
        let setup = try await FaultSetup(kind) {
            $0.reconnectPolicy = PhoenixReconnectPolicy(delays: [.milliseconds(2)])
        }
        try await setup.joined()
        let ports: Set<Int> = [setup.proxy.port, setup.sandbox.port]
        try await setup.channel.sendReply(token: FaultSetup.botToken, .customEvent(name: "warm_up"))
        // Count from a settled start, as at the end: a connection made while setting up may still
        // be closing on the server's side (a loaded run saw 8 sockets here instead of 6).
        while setup.sandbox.statistics.openConnections > 1 || setup.proxy.statistics.openConnections > 1 {
            await Task.yield()
        }
        let before = Fault.Descriptors.now(ports: ports)

        let rounds = 100
        var attempts: [Int] = []
        var opens = 0
        for round in 1...rounds {
            var states = setup.service.connectionStates.makeAsyncIterator()
            await setup.proxy.dropConnections(reset: round.isMultiple(of: 2))
            let seen = await Fault.collectStates(&states) { $0 == .open }
            attempts += seen.compactMap(Fault.reconnectAttempt)
            opens += seen.filter { $0 == .open }.count
            // Waits for the rejoin, then for the ack.
            try await setup.channel.sendReply(token: FaultSetup.botToken, .customEvent(name: "round_\(round)"))
        }
        #expect(opens == rounds)
        #expect(attempts == Array(repeating: 1, count: rounds))  // each time at the first attempt

        var replies = setup.channel.botReplies.makeAsyncIterator()
        try await setup.say("still here")
        var text = Fault.firstText(await replies.next())
        while text?.hasPrefix("Echo: custom_event round_") == true { text = Fault.firstText(await replies.next()) }
        #expect(text == "Echo: still here")
        #expect(await setup.channel.isJoined)

        let statistics = setup.proxy.statistics
        #expect(statistics.connectionsAccepted == rounds + 1)
        #expect(Fault.clientEventCount(statistics, "phx_join") == rounds + 1)
        #expect(statistics.openConnections == 1)
        // Old connections finish closing on the server's side on its own time: wait for that.
        while setup.sandbox.statistics.openConnections > 1 { await Task.yield() }
        let after = Fault.Descriptors.now(ports: ports)
        // Each time: two listeners, client and proxy ends, proxy and sandbox ends (6 measured).
        #expect(before.socketsOnPorts == 6, "before: \(before)")
        #expect(after.socketsOnPorts - before.socketsOnPorts <= 1, "before: \(before); after: \(after)")
        // Other suites run in parallel and open their own; a leak per reconnect would show as 100.
        #expect(after.total - before.total < 40, "before: \(before); after: \(after)")
        await setup.tearDown()
    }
}
