import ClustaarTestSupport
import Foundation
import PhoenixProtocol
import Testing
import TransportCore

@Suite struct InMemoryTransportTests {
    let request = WebSocketRequest(url: URL(string: "ws://sandbox.test/socket/websocket?vsn=2.0.0")!)

    @Test func theTestPlaysTheServer() async throws {
        let transport = InMemoryTransport()
        let server = Task { () throws -> [WebSocketMessage] in
            guard let connection = await transport.nextConnection() else { return [] }
            var received: [WebSocketMessage] = []
            for try await message in connection.inbound {
                received.append(message)
                if case .text = message { try connection.send(message) }  // echo
            }
            return received
        }
        let echoed = try await transport.withConnection(to: request) { connection in
            try await connection.send(.text("ping"))
            var iterator = connection.inbound.makeAsyncIterator()
            let echo = try await iterator.next()
            await connection.close(code: .normalClosure, reason: "done")
            #expect(try await iterator.next() == .close(code: .normalClosure, reason: "done"))
            #expect(try await iterator.next() == nil)
            return echo
        }
        #expect(echoed == .text("ping"))
        #expect(try await server.value == [.text("ping"), .close(code: .normalClosure, reason: "done")])
    }

    @Test func theRequestReachesTheServer() async throws {
        let transport = InMemoryTransport()
        var request = request
        request.subprotocols = ["phoenix"]
        async let attempt = transport.nextConnection()
        try await transport.withConnection(to: request) { _ in }
        let connection = await attempt
        #expect(connection?.request == request)
    }

    @Test func aServerCloseEndsTheClientsInbound() async throws {
        let transport = InMemoryTransport()
        let messages = try await transport.withConnection(to: request) { connection in
            guard let server = await transport.nextConnection() else { return [WebSocketMessage]() }
            try server.send(text: "bye soon")
            server.close(code: .serviceRestart, reason: "restart")
            var received: [WebSocketMessage] = []
            for try await message in connection.inbound { received.append(message) }
            await #expect(throws: TransportError(.closed, "the in-memory connection is closed")) {
                try await connection.send(.text("too late"))
            }
            return received
        }
        #expect(messages == [.text("bye soon"), .close(code: .serviceRestart, reason: "restart")])
    }

    @Test func aDropIsAConnectionLoss() async throws {
        let transport = InMemoryTransport()
        try await transport.withConnection(to: request) { connection in
            let server = await transport.nextConnection()
            server?.drop(reason: "cable cut")
            var iterator = connection.inbound.makeAsyncIterator()
            await #expect(throws: TransportError(.connectionLost, "cable cut")) { try await iterator.next() }
        }
    }

    @Test func aRejectedAttemptThrowsBeforeTheBody() async {
        let transport = InMemoryTransport(autoAccept: false)
        let server = Task {
            await transport.nextConnection()?.reject(TransportError(.handshakeRejected(status: 403), "403"))
        }
        await #expect(throws: TransportError(.handshakeRejected(status: 403), "403")) {
            try await transport.withConnection(to: request) { _ in Issue.record("the body must not run") }
        }
        await server.value
    }

    @Test func anUnansweredAttemptWaitsForTheServer() async throws {
        let transport = InMemoryTransport(autoAccept: false)
        let client = Task { try await transport.withConnection(to: request) { $0.subprotocol } }
        let server = try #require(await transport.nextConnection())
        #expect(!server.isOpen)
        server.accept(subprotocol: "phoenix")
        #expect(try await client.value == "phoenix")
    }

    @Test func leavingTheScopeClosesTheConnection() async throws {
        let transport = InMemoryTransport()
        try await transport.withConnection(to: request) { _ in }
        let server = try #require(await transport.nextConnection())
        #expect(!server.isOpen)
        var received: [WebSocketMessage] = []
        for try await message in server.inbound { received.append(message) }
        #expect(received == [.close(code: .normalClosure, reason: "")])
    }
}

@Suite struct ManualClockTests {
    @Test func sleepersWakeWhenTheClockReachesTheirDeadline() async throws {
        let clock = ManualClock()
        let woke = Task { () throws -> ManualClock.Instant in
            try await clock.sleep(for: .seconds(30))
            return clock.now
        }
        while clock.sleeperCount == 0 { await Task.yield() }
        clock.advance(by: .seconds(29))
        #expect(clock.sleeperCount == 1)
        clock.advance(by: .seconds(1))
        #expect(clock.sleeperCount == 0)
        #expect(try await woke.value == .zero.advanced(by: .seconds(30)))
    }

    @Test func aPastDeadlineReturnsAtOnce() async throws {
        let clock = ManualClock(now: .zero.advanced(by: .seconds(5)))
        try await clock.sleep(until: .zero.advanced(by: .seconds(1)), tolerance: nil)
        #expect(clock.now.offset == .seconds(5))
    }

    @Test func cancellationWakesASleeperWithAnError() async {
        let clock = ManualClock()
        let sleeper = Task { try await clock.sleep(for: .seconds(1)) }
        while clock.sleeperCount == 0 { await Task.yield() }
        sleeper.cancel()
        await #expect(throws: CancellationError.self) { try await sleeper.value }
        #expect(clock.sleeperCount == 0)
    }

    @Test func theClockNeverGoesBackwards() {
        let clock = ManualClock(now: .zero.advanced(by: .seconds(10)))
        clock.advance(to: .zero.advanced(by: .seconds(3)))
        #expect(clock.now.offset == .seconds(10))
    }
}

@Suite struct SplitMix64Tests {
    @Test func theSameSeedGivesTheSameSequence() {
        var a = SplitMix64(seed: 1)
        var b = SplitMix64(seed: 1)
        let first = (0..<4).map { _ in a.next() }
        #expect(first == (0..<4).map { _ in b.next() })
        // The reference SplitMix64 output for seed 1.
        #expect(first[0] == 0x910A_2DEC_8902_5CC1)
    }
}
