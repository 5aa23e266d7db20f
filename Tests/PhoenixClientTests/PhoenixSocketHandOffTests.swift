import ClustaarTestSupport
import Foundation
import PhoenixClient
import Synchronization
import Testing
import TransportCore

/// The socket's hand-offs to and from the transport: frames go straight into the connection
/// when it has room and nothing waits ahead of them, through the writer task otherwise, in one
/// order; frames read from a connection the socket has given up are dropped.
@Suite struct PhoenixSocketHandOffTests {
    @Test func writesKeepTheirOrderWhenTheConnectionIsFull() async throws {
        let transport = ControlledTransport()
        let socket = try PhoenixSocket(
            endpoint: URL(string: "ws://phoenix.example.test/socket")!, transport: transport,
            configuration: PhoenixSocket.Configuration(), clock: ManualClock())
        let joined = try await connectAndJoinRoom1(socket, through: transport.base)
        let (server, channel) = (joined.server, joined.channel)
        var inbound = joined.inbound
        #expect(transport.control.trySendCount == 1, "the join went straight into the connection")

        // Full: "a" goes to the writer task, whose send waits for room.
        transport.control.setFull(true)
        let pushingA = Task { try await channel.push("a") }
        await transport.control.sendHeld()
        // Room again for a direct write, but "a" still waits in the writer task: "b" goes behind it.
        transport.control.setFull(false, holdingSends: true)
        let pushingB = Task { try await channel.push("b") }
        while await socket.pendingPushCount < 2 { await Task.yield() }
        transport.control.setFull(false)
        #expect(try await inbound.next()?.string == #"["1","2","room:1","a",{}]"#)
        #expect(try await inbound.next()?.string == #"["1","3","room:1","b",{}]"#)
        // The writer task has nothing left: "c" goes straight in again.
        let sentThroughTheWriter = transport.control.sendCount
        let pushingC = Task { try await channel.push("c") }
        #expect(try await inbound.next()?.string == #"["1","4","room:1","c",{}]"#)
        #expect(transport.control.sendCount == sentThroughTheWriter)
        #expect(sentThroughTheWriter == 2)
        for (ref, pushing) in [("2", pushingA), ("3", pushingB), ("4", pushingC)] {
            try server.send(text: #"["1","\#(ref)","room:1","phx_reply",{"status":"ok","response":{"r":\#(ref)}}]"#)
            #expect(try await pushing.value == .json(#"{"r":\#(ref)}"#))
        }
        await socket.disconnect()
    }

    @Test func framesOfAConnectionGivenUpAreDropped() async throws {
        let transport = ControlledTransport()
        let clock = ManualClock()
        var configuration = PhoenixSocket.Configuration()
        configuration.reconnectPolicy = PhoenixReconnectPolicy(delays: [.seconds(1)])
        let socket = try PhoenixSocket(
            endpoint: URL(string: "ws://phoenix.example.test/socket")!, transport: transport,
            configuration: configuration, clock: clock)
        var states = socket.connectionStates.makeAsyncIterator()
        let accepting = Task { await transport.base.nextConnection() }
        try await socket.connect()
        let old = try #require(await accepting.value)
        var oldInbound = old.inbound.makeAsyncIterator()
        let channel = socket.channel("room:1")
        var events = channel.events.makeAsyncIterator()
        let joining = Task { try await channel.join() }
        #expect(try await oldInbound.next()?.string == #"["1","1","room:1","phx_join",{}]"#)
        try old.send(text: #"["1","1","room:1","phx_reply",{"status":"ok","response":{}}]"#)
        _ = try await joining.value

        // The heartbeat goes unanswered and the client's close never reaches the server: the
        // socket gives the connection up after the close timeout, which stays open.
        transport.control.setIgnoresCloses(true)
        clock.advance(by: .seconds(30))
        #expect(try await oldInbound.next()?.string == #"[null,"2","phoenix","heartbeat",{}]"#)
        clock.advance(by: .seconds(30))
        while await states.next() != .error(TransportError(.connectionLost, "heartbeat timeout")) {}
        clock.advance(by: .seconds(5))
        #expect(await states.next() == .closed(code: nil, reason: "the transport did not confirm the close"))
        #expect(await states.next() == .reconnecting(attempt: 1, delay: .seconds(1)))
        let reconnecting = Task { await transport.base.nextConnection() }
        clock.advance(by: .seconds(1))
        let new = try #require(await reconnecting.value)
        var newInbound = new.inbound.makeAsyncIterator()
        #expect(try await newInbound.next()?.string == #"["3","3","room:1","phx_join",{}]"#)
        try new.send(text: #"["3","3","room:1","phx_reply",{"status":"ok","response":{}}]"#)

        // The old connection speaks last: a message with the new join's ref, then its close.
        try old.send(text: #"["3",null,"room:1","stale",{}]"#)
        old.close(code: .normalClosure, reason: "")
        await transport.control.scopeEnded()
        try new.send(text: #"["3",null,"room:1","fresh",{}]"#)
        let seen = await take(4, from: &events)
        #expect(
            seen == [
                "joined {}", "errored the connection was lost", "rejoined {}",
                "message fresh {}",
            ])
        transport.control.setIgnoresCloses(false)
        await socket.disconnect()
    }
}

/// An `InMemoryTransport` whose connections the test can make full (`trySend` refuses, `send`
/// waits), whose closes it can swallow, and that tells when a connection's scope has ended.
final class ControlledTransport: Transport {
    let base = InMemoryTransport()
    let control = Control()

    func withConnection<Result: Sendable>(
        to request: WebSocketRequest,
        _ body: (any WebSocketConnection) async throws -> Result
    ) async throws -> Result {
        defer { control.scopeDidEnd() }
        return try await base.withConnection(to: request) { connection in
            try await body(ControlledConnection(base: connection, control: control))
        }
    }

    final class Control: Sendable {
        private struct State {
            var full = false
            var holdingSends = false
            var ignoresCloses = false
            var heldSends: [CheckedContinuation<Void, Never>] = []
            var sendCount = 0
            var trySendCount = 0
        }

        private let state = Mutex(State())
        private let held = AsyncStream<Void>.makeStream()
        private let ended = AsyncStream<Void>.makeStream()

        /// Full: `trySend` refuses and `send` waits. `holdingSends` keeps `send` waiting after.
        func setFull(_ full: Bool, holdingSends: Bool? = nil) {
            let released = state.withLock { state -> [CheckedContinuation<Void, Never>] in
                state.full = full
                state.holdingSends = holdingSends ?? full
                guard !state.holdingSends else { return [] }
                defer { state.heldSends = [] }
                return state.heldSends
            }
            for waiter in released { waiter.resume() }
        }

        /// Whether the connections' `close` is swallowed (the server never sees it).
        func setIgnoresCloses(_ ignores: Bool) { state.withLock { $0.ignoresCloses = ignores } }

        var ignoresCloses: Bool { state.withLock { $0.ignoresCloses } }
        /// Messages that went through `send` (the writer task).
        var sendCount: Int { state.withLock { $0.sendCount } }
        /// Messages `trySend` queued.
        var trySendCount: Int { state.withLock { $0.trySendCount } }

        /// Waits until a `send` is held.
        func sendHeld() async {
            var iterator = held.stream.makeAsyncIterator()
            _ = await iterator.next()
        }

        /// Waits until a connection's scope has ended.
        func scopeEnded() async {
            var iterator = ended.stream.makeAsyncIterator()
            _ = await iterator.next()
        }

        fileprivate func scopeDidEnd() { ended.continuation.yield() }

        fileprivate func admitSend() async {
            await withCheckedContinuation { continuation in
                let waits = state.withLock { state -> Bool in
                    state.sendCount += 1
                    guard state.holdingSends else { return false }
                    state.heldSends.append(continuation)
                    return true
                }
                if waits { held.continuation.yield() } else { continuation.resume() }
            }
        }

        fileprivate func admitTrySend() -> Bool {
            state.withLock { state in
                if state.full { return false }
                state.trySendCount += 1
                return true
            }
        }
    }
}

struct ControlledConnection: WebSocketConnection {
    let base: any WebSocketConnection
    let control: ControlledTransport.Control

    var subprotocol: String? { base.subprotocol }
    var inbound: WebSocketInbound { base.inbound }

    func send(_ message: WebSocketMessage) async throws(TransportError) {
        await control.admitSend()
        try await base.send(message)
    }

    func trySend(_ message: WebSocketMessage) throws(TransportError) -> Bool {
        guard control.admitTrySend() else { return false }
        return try base.trySend(message)
    }

    func close(code: CloseCode, reason: String) async {
        if !control.ignoresCloses { await base.close(code: code, reason: reason) }
    }
}
