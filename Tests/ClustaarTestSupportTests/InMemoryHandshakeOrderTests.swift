import Foundation
import Testing
import TransportCore

@testable import ClustaarTestSupport

/// Each order in which the two sides of an in-memory connection can move around the handshake,
/// forced step by step: the server's moves run between the client's announcement of its attempt
/// and its wait for the answer (the order that a loaded machine produces now and then), or
/// after the client is known to wait.
@Suite struct InMemoryHandshakeOrderTests {
    let request = WebSocketRequest(url: URL(string: "ws://in-memory/close?code=4001&reason=bye")!)

    /// Everything the client's inbound delivers until it ends.
    func drain(_ connection: some WebSocketConnection) async throws -> [WebSocketMessage] {
        var received: [WebSocketMessage] = []
        for try await message in connection.inbound { received.append(message) }
        return received
    }

    // The order of the conformance failure of issue 19: the server accepts and closes before the
    // connecting task has come to wait. The handshake succeeded, so the client gets its
    // connection and reads the close in it (TransportCore: the inbound ends after a `.close`).
    @Test func theServerAcceptsAndClosesBeforeTheClientWaits() async throws {
        let transport = InMemoryTransport(autoAccept: false)
        let server = transport.announceAttempt(request)
        server.accept(subprotocol: "chat.v1")
        server.close(code: CloseCode(4001), reason: "bye")
        let client = try await server.waitForAcceptance()
        #expect(client.subprotocol == "chat.v1")
        #expect(try await drain(client) == [.close(code: CloseCode(4001), reason: "bye")])
        await #expect(throws: TransportError(.closed, "the in-memory connection is closed")) {
            try await client.send(.text("too late"))
        }
        // Leaving the scope afterwards closes nothing more: the server saw its own close, once.
        await client.close(code: .normalClosure, reason: "")
        var serverSaw: [WebSocketMessage] = []
        for try await message in server.inbound { serverSaw.append(message) }
        #expect(serverSaw == [.close(code: CloseCode(4001), reason: "bye")])
    }

    // The conformance server's /report: a message, then the close, all before the client waits.
    @Test func theServerAcceptsSendsAndClosesBeforeTheClientWaits() async throws {
        let transport = InMemoryTransport(autoAccept: false)
        let server = transport.announceAttempt(request)
        server.accept()
        try server.send(text: "the report")
        server.close(code: .normalClosure, reason: "")
        let client = try await server.waitForAcceptance()
        #expect(client.subprotocol == nil)
        #expect(try await drain(client) == [.text("the report"), .close(code: .normalClosure, reason: "")])
    }

    // The conformance server's /drop: accepted, then dropped, before the client waits.
    @Test func theServerAcceptsAndDropsBeforeTheClientWaits() async throws {
        let transport = InMemoryTransport(autoAccept: false)
        let server = transport.announceAttempt(request)
        server.accept()
        server.drop(reason: "cable cut")
        let client = try await server.waitForAcceptance()
        var inbound = client.inbound.makeAsyncIterator()
        await #expect(throws: TransportError(.connectionLost, "cable cut")) { try await inbound.next() }
    }

    // The other order: the client already waits when the server accepts and closes.
    @Test func theClientWaitsThenTheServerAcceptsAndCloses() async throws {
        let transport = InMemoryTransport(autoAccept: false)
        let server = transport.announceAttempt(request)
        let client = Task { try await server.waitForAcceptance() }
        while !server.hasWaitingClient { await Task.yield() }
        server.accept()
        server.close(code: CloseCode(4001), reason: "bye")
        let connection = try await client.value
        #expect(try await drain(connection) == [.close(code: CloseCode(4001), reason: "bye")])
    }

    // A close before any answer is a failed attempt, in both orders: no connection was made.
    @Test(arguments: [false, true])
    func aCloseBeforeTheAnswerFailsTheAttempt(clientWaitsFirst: Bool) async throws {
        let transport = InMemoryTransport(autoAccept: false)
        let server = transport.announceAttempt(request)
        let client = Task { try await server.waitForAcceptance() }
        if clientWaitsFirst {
            while !server.hasWaitingClient { await Task.yield() }
        }
        server.close(code: .goingAway, reason: "not now")
        await #expect(throws: TransportError(.closed, "the in-memory server closed the attempt before accepting it")) {
            _ = try await client.value
        }
        #expect(!server.isOpen)
        server.accept()
        #expect(!server.isOpen, "an accept after the close changes nothing")
    }

    // A drop before any answer is a connection lost during the handshake.
    @Test func aDropBeforeTheAnswerFailsTheAttempt() async throws {
        let transport = InMemoryTransport(autoAccept: false)
        let server = transport.announceAttempt(request)
        server.drop(reason: "reset during the upgrade")
        await #expect(throws: TransportError(.connectionLost, "reset during the upgrade")) {
            _ = try await server.waitForAcceptance()
        }
    }

    // The server cannot send on an attempt it has not accepted.
    @Test func aSendBeforeTheAcceptThrows() {
        let server = InMemoryTransport(autoAccept: false).announceAttempt(request)
        #expect(throws: TransportError(.closed, "the in-memory connection is not accepted yet")) {
            try server.send(text: "early")
        }
    }

    // With `autoAccept`, the server (a test's own loop, `ScriptedPhoenixServer`) never sees an
    // attempt still pending: it may send or close the moment it gets one, before the
    // connecting task runs on.
    @Test func anAutoAcceptedAttemptReachesTheServerOpen() async throws {
        let transport = InMemoryTransport()
        let announced = transport.announceAttempt(request)
        let server = try #require(await transport.nextConnection())
        #expect(server === announced)
        // A Bool, not `server.isOpen` in the macro: a failed expectation would reflect the
        // connection to describe it, and reflecting its lock traps.
        let openOnArrival = server.isOpen
        #expect(openOnArrival)
        try server.send(text: "welcome")
        server.close(code: .serviceRestart, reason: "restart")
        let client = try await server.waitForAcceptance()
        #expect(try await drain(client) == [.text("welcome"), .close(code: .serviceRestart, reason: "restart")])
    }

    // The same for `ScriptedPhoenixServer`: it takes the attempt, and the test pushes and closes
    // before the connecting task runs on.
    @Test func theScriptedServerCanPushAndCloseBeforeTheClientRunsOn() async throws {
        let transport = InMemoryTransport()
        let scripted = ScriptedPhoenixServer(transport: transport)
        let attempt = transport.announceAttempt(request)
        while scripted.connectionCount == 0 { await Task.yield() }
        try scripted.push(topic: "room:1", event: "news", payload: #"{"n":1}"#, joinRef: "1")
        scripted.close(code: .serviceRestart, reason: "restart")
        let client = try await attempt.waitForAcceptance()
        let received = try await drain(client)
        #expect(received.count == 2)
        #expect(received.last == .close(code: .serviceRestart, reason: "restart"))
        #expect(received.first == .text(#"["1",null,"room:1","news",{"n":1}]"#))
    }

    // Leaving the scope while the server closes, in both orders: one close reaches each side,
    // whoever's came first.
    @Test(arguments: [false, true])
    func theScopeEndsAroundTheServersClose(serverClosesFirst: Bool) async throws {
        let transport = InMemoryTransport()
        let serverTask = Task { await transport.nextConnection() }
        let clientSaw = try await transport.withConnection(to: request) { client in
            let server = try #require(await serverTask.value)
            if serverClosesFirst {
                server.close(code: CloseCode(4001), reason: "bye")
                return try await drain(client)
            }
            return [WebSocketMessage]()
        }
        let server = try #require(await serverTask.value)
        server.close(code: CloseCode(4001), reason: "bye")  // after the scope: does nothing
        var serverSaw: [WebSocketMessage] = []
        for try await message in server.inbound { serverSaw.append(message) }
        let expected: WebSocketMessage =
            serverClosesFirst ? .close(code: CloseCode(4001), reason: "bye") : .close(code: .normalClosure, reason: "")
        #expect(serverSaw == [expected])
        #expect(clientSaw == (serverClosesFirst ? [expected] : []))
    }
}
