import ClustaarSandbox
import Foundation
import PhoenixProtocol
import Testing
import TransportCore
import TransportPOSIX

@testable import ClustaarTestSupport

/// The proxy's own controls, driven with a bare WebSocket connection (TransportPOSIX) to the
/// sandbox through it, and its frame observer on its own.
@Suite(.timeLimit(.minutes(1))) struct FaultProxyTests {
    struct Link {
        let sandbox: ClustaarSandboxServer
        let proxy: FaultProxy

        init() async throws {
            sandbox = try await ClustaarSandboxServer.start(host: "127.0.0.1", port: 0)
            proxy = try await FaultProxy.start(upstreamPort: sandbox.port)
        }

        /// A short close timeout: a black-holed close is never answered.
        var request: WebSocketRequest {
            let socket = proxy.url(for: sandbox.url).absoluteString
            return WebSocketRequest(
                url: URL(string: socket + "/websocket?vsn=2.0.0")!,
                timeouts: WebSocketTimeouts(close: .milliseconds(200)))
        }

        func tearDown() async {
            await proxy.shutdown()
            await sandbox.shutdown()
        }
    }

    static func heartbeat(_ ref: Int) -> WebSocketMessage {
        .text(#"[null,"\#(ref)","phoenix","heartbeat",{}]"#)
    }

    static func reply(_ ref: Int) -> WebSocketMessage {
        .text(#"[null,"\#(ref)","phoenix","phx_reply",{"response":{},"status":"ok"}]"#)
    }

    @Test func relaysBothWaysAndCountsBytesAndFrames() async throws {
        let link = try await Link()
        let answer = try await POSIXTransport().withConnection(to: link.request) { connection in
            try await connection.send(Self.heartbeat(1))
            var inbound = connection.inbound.makeAsyncIterator()
            return try await inbound.next()
        }
        #expect(answer == Self.reply(1))
        let statistics = await link.proxy.waitUntil { $0.openConnections == 0 }
        #expect(statistics.connectionsAccepted == 1)
        #expect(statistics.bytesFromClients == statistics.bytesToServer)
        #expect(statistics.bytesFromServer == statistics.bytesToClients)
        #expect(statistics.bytesSwallowed == 0)
        // The heartbeat, our close; the reply, the server's close: payloads unmasked.
        #expect(statistics.clientFrames.first?.text == #"[null,"1","phoenix","heartbeat",{}]"#)
        #expect(statistics.clientFrames.map(\.opcode) == [1, 8])
        #expect(statistics.frames.filter { $0.direction == .serverToClient }.map(\.opcode) == [1, 8])
        await link.tearDown()
    }

    @Test func stopRefusesConnectionsAndStartListensAgainOnTheSamePort() async throws {
        let link = try await Link()
        let port = link.proxy.port
        await link.proxy.stop()
        await #expect(throws: TransportError.self) {
            try await POSIXTransport().withConnection(to: link.request) { _ in }
        }
        #expect(link.proxy.statistics.connectionsAccepted == 0)

        try await link.proxy.start()
        #expect(link.proxy.port == port)
        let answer = try await POSIXTransport().withConnection(to: link.request) { connection in
            try await connection.send(Self.heartbeat(7))
            var inbound = connection.inbound.makeAsyncIterator()
            return try await inbound.next()
        }
        #expect(answer == Self.reply(7))
        await link.tearDown()
        await #expect(throws: FaultProxy.ProxyError.self) { try await link.proxy.start() }
    }

    @Test func stopClosesOpenConnections() async throws {
        let link = try await Link()
        try await POSIXTransport().withConnection(to: link.request) { connection in
            await link.proxy.waitUntil { $0.openConnections == 1 }
            await link.proxy.stop()
            var inbound = connection.inbound.makeAsyncIterator()
            // No close frame: the stream just ends, as a dropped TCP connection.
            await #expect(throws: TransportError.self) { try await inbound.next() }
        }
        #expect(link.proxy.statistics.openConnections == 0)
        await link.tearDown()
    }

    @Test func pauseHoldsBytesAndResumeRelaysThemInOrder() async throws {
        let link = try await Link()
        let answers = try await POSIXTransport().withConnection(to: link.request) { connection in
            let before = await link.proxy.waitUntil { $0.openConnections == 1 }
            await link.proxy.pause()
            for ref in 1...3 { try await connection.send(Self.heartbeat(ref)) }
            let held = await link.proxy.waitUntil { $0.clientFrames.count == 3 }
            #expect(held.bytesToServer == before.bytesToServer)  // the upgrade request only
            #expect(link.sandbox.statistics.messagesReceived == 0)
            await link.proxy.resume()
            var inbound = connection.inbound.makeAsyncIterator()
            var answers: [WebSocketMessage?] = []
            for _ in 1...3 { answers.append(try await inbound.next()) }
            return answers
        }
        #expect(answers == [Self.reply(1), Self.reply(2), Self.reply(3)])
        #expect(link.sandbox.statistics.messagesReceived == 3)
        await link.tearDown()
    }

    @Test func aLongDelayHoldsBytesUntilItIsShortened() async throws {
        let link = try await Link()
        let answer = try await POSIXTransport().withConnection(to: link.request) { connection in
            await link.proxy.setDelay(.seconds(3600), for: [.serverToClient])
            let before = link.proxy.statistics
            try await connection.send(Self.heartbeat(1))
            let held = await link.proxy.waitUntil { $0.bytesFromServer > before.bytesFromServer }
            #expect(held.bytesToClients == before.bytesToClients)
            await link.proxy.setDelay(.zero)
            var inbound = connection.inbound.makeAsyncIterator()
            return try await inbound.next()
        }
        #expect(answer == Self.reply(1))
        await link.tearDown()
    }

    @Test func cutNextServerChunkDeliversHalfAFrameThenCloses() async throws {
        let link = try await Link()
        let before = try await POSIXTransport().withConnection(to: link.request) { connection in
            await link.proxy.cutNextServerChunk()
            let before = link.proxy.statistics
            try await connection.send(Self.heartbeat(1))
            var inbound = connection.inbound.makeAsyncIterator()
            // Half a frame, then the end of the stream: no message, an error.
            await #expect(throws: TransportError.self) { try await inbound.next() }
            return before
        }
        let statistics = await link.proxy.waitUntil { $0.openConnections == 0 }
        #expect(statistics.connectionsCut == 1)
        let replyLength = Self.reply(1).byteCount + 2  // a server frame: 2 header bytes
        #expect(statistics.bytesFromServer - before.bytesFromServer == replyLength)
        #expect(statistics.bytesToClients - before.bytesToClients == replyLength / 2)
        await link.tearDown()
    }

    @Test func blackHoleSwallowsEverythingAndClosesNothing() async throws {
        let link = try await Link()
        try await POSIXTransport().withConnection(to: link.request) { connection in
            let before = await link.proxy.waitUntil { $0.openConnections == 1 }
            await link.proxy.blackHole()
            try await connection.send(Self.heartbeat(1))
            let swallowed = await link.proxy.waitUntil { $0.clientFrames.count == 1 }
            #expect(swallowed.clientFrames.first?.swallowed == true)
            #expect(swallowed.bytesToServer == before.bytesToServer)
            #expect(swallowed.bytesSwallowed == swallowed.bytesFromClients - before.bytesFromClients)
            #expect(swallowed.openConnections == 1)
            #expect(link.sandbox.statistics.messagesReceived == 0)
        }
        // Our close went into the hole; when the client let go, the proxy closed upstream too.
        await link.proxy.waitUntil { $0.openConnections == 0 }
        await link.proxy.heal()
        try await POSIXTransport().withConnection(to: link.request) { connection in
            try await connection.send(Self.heartbeat(2))
            var inbound = connection.inbound.makeAsyncIterator()
            #expect(try await inbound.next() == Self.reply(2))
        }
        await link.tearDown()
    }

    @Test func dropConnectionsWithResetOrFin() async throws {
        let link = try await Link()
        for reset in [false, true] {
            try await POSIXTransport().withConnection(to: link.request) { connection in
                await link.proxy.waitUntil { $0.openConnections == 1 }
                await link.proxy.dropConnections(reset: reset)
                var inbound = connection.inbound.makeAsyncIterator()
                await #expect(throws: TransportError.self) { try await inbound.next() }
            }
        }
        #expect(link.proxy.statistics.connectionsAccepted == 2)
        await link.tearDown()
    }

    @Test func shutdownLeavesNoSocketOnItsPort() async throws {
        let link = try await Link()
        let port = link.proxy.port
        try await POSIXTransport().withConnection(to: link.request) { connection in
            await link.proxy.waitUntil { $0.openConnections == 1 }
            #expect(Fault.Descriptors.now(ports: [port]).socketsOnPorts == 3)  // listener, both ends
            await link.proxy.shutdown()
            var inbound = connection.inbound.makeAsyncIterator()
            await #expect(throws: TransportError.self) { try await inbound.next() }
        }
        #expect(Fault.Descriptors.now(ports: [port]).socketsOnPorts == 0)
        #expect(link.proxy.statistics.openConnections == 0)
        await link.sandbox.shutdown()
    }

    // MARK: The frame observer

    /// An upgrade response head, a masked text frame, a 126-length binary frame, a ping.
    static let wire: [UInt8] = {
        var bytes = Array("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n".utf8)
        let text = Array("hello".utf8)
        let mask: [UInt8] = [0x37, 0xFA, 0x21, 0x3D]
        bytes += [0x81, 0x80 | UInt8(text.count)] + mask + text.enumerated().map { $1 ^ mask[$0 % 4] }
        bytes += [0x82, 126, 0x01, 0x00] + (0..<256).map { UInt8($0) }
        bytes += [0x89, 0x00]
        return bytes
    }()

    static let wireFrames: [FaultProxyFrameObserver.Frame] = [
        .init(opcode: 1, isFinal: true, payloadLength: 5, payload: Array("hello".utf8)),
        .init(opcode: 2, isFinal: true, payloadLength: 256, payload: (0..<256).map { UInt8($0) }),
        .init(opcode: 9, isFinal: true, payloadLength: 0, payload: []),
    ]

    @Test func observerReadsFramesSplitAnywhere() {
        for split in 0...Self.wire.count {
            var observer = FaultProxyFrameObserver()
            let frames = observer.consume(Self.wire[..<split]) + observer.consume(Self.wire[split...])
            #expect(frames == Self.wireFrames, "split at \(split)")
        }
        var byteByByte = FaultProxyFrameObserver()
        #expect(Self.wire.flatMap { byteByByte.consume([$0]) } == Self.wireFrames)
    }

    @Test func observerGivesUpOnHugeFramesAndNeverTraps() {
        var huge = FaultProxyFrameObserver()
        let head = Array("HTTP/1.1 101 OK\r\n\r\n".utf8)
        #expect(huge.consume(head + [0x82, 127, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]).isEmpty)
        #expect(huge.hasGivenUp)
        #expect(huge.consume(Self.wire).isEmpty)

        var generator = SplitMix64(seed: 9)
        for _ in 0..<200 {
            var observer = FaultProxyFrameObserver()
            _ = observer.consume(head)
            for _ in 0..<20 {
                let count = Int(generator.next() % 64)
                _ = observer.consume((0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next()) })
            }
        }
        var noHead = FaultProxyFrameObserver()
        #expect(noHead.consume([UInt8](repeating: 0x41, count: FaultProxyFrameObserver.maxHeadLength + 1)).isEmpty)
        #expect(noHead.hasGivenUp)
    }
}
