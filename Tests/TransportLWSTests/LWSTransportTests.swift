import Foundation
import Testing
import TransportCore

@testable import TransportLWS

/// Reads the next message, failing the test if the sequence ended.
func nextMessage(_ iterator: inout WebSocketInbound.AsyncIterator) async throws -> WebSocketMessage {
    try #require(try await iterator.next())
}

/// The test server's record for `id` (close frame received, messages and bytes counted).
struct ServerRecord: Decodable, Equatable {
    var messages: Int
    var bytes: Int
    var close_code: Int?
    var close_reason: String?
}

func fetchRecord(_ server: TestServer, id: String) async throws -> ServerRecord {
    try await LWSTransport().withConnection(to: WebSocketRequest(url: server.url("/report?id=\(id)"))) { connection in
        var iterator = connection.inbound.makeAsyncIterator()
        let message = try await nextMessage(&iterator)
        let text = try #require(message.string)
        return try JSONDecoder().decode(ServerRecord.self, from: Data(text.utf8))
    }
}

@Suite struct LWSMessagingTests {
    @Test(arguments: LWSTransport.Framing.allCases) func echoesTextAndBinaryInOrder(framing: LWSTransport.Framing)
        async throws
    {
        let server = try await TestServer.shared()
        let echoed = try await LWSTransport(framing: framing).withConnection(
            to: WebSocketRequest(url: server.url("/echo"))
        ) {
            connection in
            try await connection.send(.text("héllo"))
            try await connection.send(.binary([0, 1, 2, 255]))
            try await connection.send(.text(""))
            var iterator = connection.inbound.makeAsyncIterator()
            return [
                try await nextMessage(&iterator), try await nextMessage(&iterator), try await nextMessage(&iterator),
            ]
        }
        #expect(echoed == [.text("héllo"), .binary([0, 1, 2, 255]), .text("")])
    }

    @Test(arguments: LWSTransport.Framing.allCases) func largeMessagesTravelAsFragmentsBothWays(
        framing: LWSTransport.Framing
    ) async throws {
        let server = try await TestServer.shared()
        let id = uniqueID()
        // 300 KiB: five fragments out (64 KiB each), many receive chunks in.
        let payload = (0..<(300 << 10)).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let echoed = try await LWSTransport(framing: framing).withConnection(
            to: WebSocketRequest(url: server.url("/echo?id=\(id)"))
        ) {
            connection in
            try await connection.send(.binary(payload))
            var iterator = connection.inbound.makeAsyncIterator()
            return try await nextMessage(&iterator)
        }
        #expect(echoed == .binary(payload))
        let record = try await fetchRecord(server, id: id)
        #expect(record.messages == 1)
        #expect(record.bytes == 300 << 10)
    }

    @Test(arguments: LWSTransport.Framing.allCases) func fragmentedMessageArrivesWhole(framing: LWSTransport.Framing)
        async throws
    {
        let server = try await TestServer.shared()
        let message = try await LWSTransport(framing: framing).withConnection(
            to: WebSocketRequest(url: server.url("/fragmented"))
        ) {
            connection in
            var iterator = connection.inbound.makeAsyncIterator()
            return try await nextMessage(&iterator)
        }
        #expect(message == .text("fragmented ✓"))
    }

    @Test(arguments: LWSTransport.Framing.allCases) func sendsRequestHeaders(framing: LWSTransport.Framing) async throws
    {
        let server = try await TestServer.shared()
        let request = WebSocketRequest(
            url: server.url("/headers"),
            headers: [HTTPHeader("X-Clustaar-Test", "42"), HTTPHeader("Authorization", "Bearer t0k3n")]
        )
        let headers = try await LWSTransport(framing: framing).withConnection(to: request) { connection in
            var iterator = connection.inbound.makeAsyncIterator()
            let text = try #require(try await nextMessage(&iterator).string)
            return try JSONDecoder().decode([[String]].self, from: Data(text.utf8))
        }
        #expect(headers.contains(["X-Clustaar-Test", "42"]))
        #expect(headers.contains(["Authorization", "Bearer t0k3n"]))
        #expect(headers.contains(["Host", "127.0.0.1:\(server.port)"]))
    }

    @Test(arguments: LWSTransport.Framing.allCases) func readsTheSelectedSubprotocol(framing: LWSTransport.Framing)
        async throws
    {
        let server = try await TestServer.shared()
        let offered = WebSocketRequest(url: server.url("/subprotocol"), subprotocols: ["v1.json", "v2.json"])
        let selected = try await LWSTransport(framing: framing).withConnection(to: offered) { $0.subprotocol }
        #expect(selected == "v2.json")

        let unknown = WebSocketRequest(url: server.url("/subprotocol"), subprotocols: ["v9.msgpack"])
        let none = try await LWSTransport(framing: framing).withConnection(to: unknown) { $0.subprotocol }
        #expect(none == nil)
    }

    @Test(arguments: LWSTransport.Framing.allCases) func rejectsASubprotocolThatWasNotOffered(
        framing: LWSTransport.Framing
    ) async throws {
        let server = try await TestServer.shared()
        let request = WebSocketRequest(url: server.url("/subprotocol-bogus"), subprotocols: ["v1.json"])
        let error = await #expect(throws: TransportError.self) {
            try await LWSTransport(framing: framing).withConnection(to: request) { _ in }
        }
        #expect(error?.code == .handshakeInvalid)
    }

    @Test(arguments: LWSTransport.Framing.allCases) func serverCloseCodeAndReasonEndTheSequence(
        framing: LWSTransport.Framing
    ) async throws {
        let server = try await TestServer.shared()
        let received = try await LWSTransport(framing: framing).withConnection(
            to: WebSocketRequest(url: server.url("/close/4001/bye"))
        ) { connection in
            var all: [WebSocketMessage] = []
            for try await message in connection.inbound { all.append(message) }
            return all
        }
        #expect(received == [.close(code: CloseCode(4001), reason: "bye")])
    }

    @Test(arguments: LWSTransport.Framing.allCases) func clientCloseCodeAndReasonReachTheServer(
        framing: LWSTransport.Framing
    ) async throws {
        let server = try await TestServer.shared()
        let id = uniqueID()
        let received = try await LWSTransport(framing: framing).withConnection(
            to: WebSocketRequest(url: server.url("/echo?id=\(id)"))
        ) {
            connection in
            try await connection.send(.text("before close"))
            var iterator = connection.inbound.makeAsyncIterator()
            var all = [try await nextMessage(&iterator)]
            await connection.close(code: CloseCode(4002), reason: "done here")
            let error = await #expect(throws: TransportError.self) { try await connection.send(.text("after close")) }
            #expect(error?.code == .closed)
            while let message = try await iterator.next() { all.append(message) }
            return all
        }
        // The echo of our message, then the server's answer to our close.
        #expect(received == [.text("before close"), .close(code: CloseCode(4002), reason: "done here")])
        let record = try await fetchRecord(server, id: id)
        #expect(record == ServerRecord(messages: 1, bytes: 12, close_code: 4002, close_reason: "done here"))
    }

    @Test(arguments: LWSTransport.Framing.allCases) func leavingTheScopeClosesWith1000(framing: LWSTransport.Framing)
        async throws
    {
        let server = try await TestServer.shared()
        let id = uniqueID()
        try await LWSTransport(framing: framing).withConnection(to: WebSocketRequest(url: server.url("/echo?id=\(id)")))
        { connection in
            try await connection.send(.text("x"))
        }
        let record = try await fetchRecord(server, id: id)
        #expect(record.close_code == 1000)
        #expect(record.close_reason == "")
    }

    @Test(arguments: LWSTransport.Framing.allCases) func droppedConnectionThrowsConnectionLost(
        framing: LWSTransport.Framing
    ) async throws {
        let server = try await TestServer.shared()
        let error = try await LWSTransport(framing: framing).withConnection(
            to: WebSocketRequest(url: server.url("/drop"))
        ) {
            connection in
            await #expect(throws: TransportError.self) {
                for try await _ in connection.inbound {}
            }
        }
        _ = error
    }

    @Test(arguments: LWSTransport.Framing.allCases) func inboundMessageOverTheLimitClosesWith1009(
        framing: LWSTransport.Framing
    ) async throws {
        let server = try await TestServer.shared()
        let request = WebSocketRequest(url: server.url("/big/5000"), limits: WebSocketLimits(maxMessageSize: 4096))
        let thrown = try await LWSTransport(framing: framing).withConnection(to: request) {
            connection -> TransportError? in
            do {
                for try await _ in connection.inbound {}
                return nil
            } catch let error as TransportError {
                return error
            }
        }
        #expect(thrown?.code == .messageTooBig)
    }

    @Test(arguments: LWSTransport.Framing.allCases) func outboundMessageOverTheLimitThrows(
        framing: LWSTransport.Framing
    ) async throws {
        let server = try await TestServer.shared()
        let request = WebSocketRequest(url: server.url("/echo"), limits: WebSocketLimits(maxMessageSize: 10))
        try await LWSTransport(framing: framing).withConnection(to: request) { connection in
            let error = await #expect(throws: TransportError.self) {
                try await connection.send(.binary(Array(repeating: 1, count: 11)))
            }
            #expect(error?.code == .messageTooBig)
            try await connection.send(.binary(Array(repeating: 1, count: 10)))
            var iterator = connection.inbound.makeAsyncIterator()
            #expect(try await nextMessage(&iterator) == .binary(Array(repeating: 1, count: 10)))
        }
    }

    @Test(arguments: LWSTransport.Framing.allCases) func closeCannotBeSent(framing: LWSTransport.Framing) async throws {
        let server = try await TestServer.shared()
        try await LWSTransport(framing: framing).withConnection(to: WebSocketRequest(url: server.url("/echo"))) {
            connection in
            let error = await #expect(throws: TransportError.self) {
                try await connection.send(.close(code: .normalClosure, reason: ""))
            }
            #expect(error?.code == .invalidRequest)
        }
    }
}

@Suite struct LWSBackpressureTests {
    @Test(arguments: LWSTransport.Framing.allCases) func fullInboundBufferPausesReadingWithoutLoss(
        framing: LWSTransport.Framing
    ) async throws {
        let server = try await TestServer.shared()
        let request = WebSocketRequest(url: server.url("/flood/300"), limits: WebSocketLimits(inboundBufferCount: 4))
        let received = try await LWSTransport(framing: framing).withConnection(to: request) { connection in
            let session = try #require(connection as? LWSConnection).session
            var events = session.events.makeAsyncIterator()
            #expect(await events.next() == .readingPaused)
            var iterator = connection.inbound.makeAsyncIterator()
            var texts: [String] = []
            for _ in 0..<300 { texts.append(try #require(try await nextMessage(&iterator).string)) }
            return texts
        }
        #expect(received == (0..<300).map(String.init))
    }

    @Test(arguments: LWSTransport.Framing.allCases) func sendSuspendsWhileTheQueueIsFull(framing: LWSTransport.Framing)
        async throws
    {
        let server = try await TestServer.shared()
        let id = uniqueID()
        let limit = 64 << 10
        let count = 256
        let request = WebSocketRequest(
            url: server.url("/stall?id=\(id)"),
            limits: WebSocketLimits(outboundBufferSize: limit)
        )
        let chunk = [UInt8](repeating: 0x42, count: limit)
        try await LWSTransport(framing: framing).withConnection(to: request) { connection in
            let session = try #require(connection as? LWSConnection).session
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for _ in 0..<count { try await connection.send(.binary(chunk)) }
                }
                var events = session.events.makeAsyncIterator()
                // The server reads nothing: the socket fills up, then the queue, then send waits.
                #expect(await events.next() == .sendSuspended)
                #expect(session.queuedOutboundBytes <= limit)
                try await LWSTransport(framing: framing).withConnection(
                    to: WebSocketRequest(url: server.url("/resume?id=\(id)"))
                ) {
                    _ in
                }
                try await group.waitForAll()
            }
        }
        let record = try await fetchRecord(server, id: id)
        #expect(record.messages == count)
        #expect(record.bytes == count * limit)
        #expect(record.close_code == 1000)
    }
}

@Suite struct LWSConnectFailureTests {
    @Test(arguments: LWSTransport.Framing.allCases) func handshakeRejectedWithStatus(framing: LWSTransport.Framing)
        async throws
    {
        let server = try await TestServer.shared()
        let error = await #expect(throws: TransportError.self) {
            try await LWSTransport(framing: framing).withConnection(
                to: WebSocketRequest(url: server.url("/reject/403"))
            ) { _ in }
        }
        #expect(error?.code == .handshakeRejected(status: 403))
    }

    @Test(arguments: LWSTransport.Framing.allCases) func handshakeTimeout(framing: LWSTransport.Framing) async throws {
        let server = try await TestServer.shared()
        let request = WebSocketRequest(
            url: server.url("/hang"),
            timeouts: WebSocketTimeouts(handshake: .milliseconds(300))
        )
        let start = ContinuousClock.now
        let error = await #expect(throws: TransportError.self) {
            try await LWSTransport(framing: framing).withConnection(to: request) { _ in }
        }
        #expect(error?.code == .handshakeTimeout)
        // At least the configured 300 ms. No upper bound: in a parallel run on a loaded machine this
        // task can wait seconds for a thread (CI once took 4 s, a colleague's run 27 s).
        let elapsed = ContinuousClock.now - start
        #expect(elapsed >= .milliseconds(300), "\(elapsed)")
    }

    @Test(arguments: LWSTransport.Framing.allCases) func refusedConnection(framing: LWSTransport.Framing) async throws {
        let port = try unusedPort()
        let error = await #expect(throws: TransportError.self) {
            try await LWSTransport(framing: framing).withConnection(
                to: WebSocketRequest(url: URL(string: "ws://127.0.0.1:\(port)/")!)
            ) {
                _ in
            }
        }
        #expect(error?.code == .connectFailed)
    }

    @Test(arguments: LWSTransport.Framing.allCases) func cancellingTheTaskAbortsTheAttempt(
        framing: LWSTransport.Framing
    ) async throws {
        let server = try await TestServer.shared()
        let request = WebSocketRequest(url: server.url("/hang"), timeouts: WebSocketTimeouts(handshake: .seconds(60)))
        let attempt = Task { try await LWSTransport(framing: framing).withConnection(to: request) { _ in } }
        attempt.cancel()
        let result = await attempt.result
        #expect(throws: TransportError(.cancelled, "the connection attempt was cancelled")) { try result.get() }
    }

    @Test(arguments: ["http://127.0.0.1/", "ftp://x/"])
    func unsupportedScheme(url: String) async throws {
        let error = await #expect(throws: TransportError.self) {
            try await LWSTransport().withConnection(to: WebSocketRequest(url: URL(string: url)!)) { _ in }
        }
        #expect(error?.code == .unsupportedScheme)
    }

    @Test(arguments: LWSTransport.Framing.allCases) func invalidHeaderIsRejectedBeforeConnecting(
        framing: LWSTransport.Framing
    ) async throws {
        let request = WebSocketRequest(url: URL(string: "ws://127.0.0.1:1/")!, headers: [HTTPHeader("X-A", "a\r\nb")])
        let error = await #expect(throws: TransportError.self) {
            try await LWSTransport(framing: framing).withConnection(to: request) { _ in }
        }
        #expect(error?.code == .invalidRequest)
    }
}

/// A loopback port with nothing listening: bound, then released.
func unusedPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
            bind(fd, raw, length) == 0 && getsockname(fd, raw, &length) == 0
        }
    }
    try #require(bound)
    return Int(UInt16(bigEndian: address.sin_port))
}
