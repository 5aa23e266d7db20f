import Foundation
import Synchronization
import Testing
import TransportCore

@Suite struct WebSocketInboundTests {
    @Test func deliversInOrderThenEnds() async throws {
        let (stream, producer) = WebSocketInbound.makeStream(bufferLimit: 8)
        #expect(producer.yield(.text("a")) == .enqueued)
        #expect(producer.yield(.binary([1, 2])) == .enqueued)
        #expect(producer.yield(.close(code: .goingAway, reason: "bye")) == .enqueued)
        producer.finish()
        #expect(producer.yield(.text("late")) == .terminated)
        var received: [WebSocketMessage] = []
        for try await message in stream { received.append(message) }
        #expect(received == [.text("a"), .binary([1, 2]), .close(code: .goingAway, reason: "bye")])
    }

    @Test func failureComesAfterTheBufferedMessages() async throws {
        let (stream, producer) = WebSocketInbound.makeStream(bufferLimit: 8)
        producer.yield(.text("kept"))
        producer.finish(throwing: TransportError(.connectionLost, "reset by peer"))
        var iterator = stream.makeAsyncIterator()
        #expect(try await iterator.next() == .text("kept"))
        await #expect(throws: TransportError(.connectionLost, "reset by peer")) { try await iterator.next() }
        // Once ended, it stays ended.
        #expect(try await iterator.next() == nil)
    }

    @Test func aWaitingConsumerIsResumedByTheProducer() async throws {
        let (stream, producer) = WebSocketInbound.makeStream(bufferLimit: 2)
        async let first: WebSocketMessage? = {
            var iterator = stream.makeAsyncIterator()
            return try await iterator.next()
        }()
        producer.yield(.text("hello"))
        #expect(try await first == .text("hello"))
    }

    @Test func aFullBufferAsksTheProducerToPauseAndCallsItBack() async throws {
        let (stream, producer) = WebSocketInbound.makeStream(bufferLimit: 2)
        let demandCalls = Atomic<Int>(0)
        producer.setDemandHandler { demandCalls.add(1, ordering: .relaxed) }
        #expect(producer.yield(.text("1")) == .enqueued)
        #expect(producer.yield(.text("2")) == .enqueuedBufferFull)
        // A producer that ignores the advice still loses nothing.
        #expect(producer.yield(.text("3")) == .enqueuedBufferFull)
        var iterator = stream.makeAsyncIterator()
        #expect(try await iterator.next() == .text("1"))
        #expect(demandCalls.load(ordering: .relaxed) == 0)  // still 2 buffered: full
        #expect(try await iterator.next() == .text("2"))
        #expect(demandCalls.load(ordering: .relaxed) == 1)
        #expect(try await iterator.next() == .text("3"))
        #expect(demandCalls.load(ordering: .relaxed) == 1)  // called once per full episode
    }

    @Test func cancellingAWaitingConsumerEndsTheStream() async {
        let (stream, producer) = WebSocketInbound.makeStream(bufferLimit: 2)
        let consumer = Task {
            var iterator = stream.makeAsyncIterator()
            return try await iterator.next()
        }
        consumer.cancel()
        await #expect(throws: TransportError.self) { try await consumer.value }
        // The producer learns that nobody listens any more.
        #expect(producer.yield(.text("x")) == .terminated)
        #expect(producer.isTerminated)
    }

    @Test func manyMessagesKeepTheirOrder() async throws {
        let (stream, producer) = WebSocketInbound.makeStream(bufferLimit: 1_000_000)
        for index in 0..<10_000 { producer.yield(.binary([UInt8(truncatingIfNeeded: index)])) }
        producer.finish()
        var index = 0
        for try await message in stream {
            #expect(message == .binary([UInt8(truncatingIfNeeded: index)]))
            index += 1
        }
        #expect(index == 10_000)
    }
}

@Suite struct TransportValueTests {
    @Test func closeCodesValidOnTheWire() {
        #expect(CloseCode.normalClosure.isValidOnWire)
        #expect(CloseCode.serviceRestart.isValidOnWire)
        #expect(CloseCode(4000).isValidOnWire)
        #expect(!CloseCode.noStatusReceived.isValidOnWire)
        #expect(!CloseCode.abnormalClosure.isValidOnWire)
        #expect(!CloseCode.tlsHandshake.isValidOnWire)
        #expect(!CloseCode(999).isValidOnWire)
        #expect(!CloseCode(1004).isValidOnWire)
        #expect(!CloseCode(2999).isValidOnWire)
        #expect(!CloseCode(5000).isValidOnWire)
    }

    @Test func textMessagesFromStrings() {
        let message = WebSocketMessage.text("héllo")
        #expect(message == .text([0x68, 0xC3, 0xA9, 0x6C, 0x6C, 0x6F]))
        #expect(message.string == "héllo")
        #expect(message.byteCount == 6)
        #expect(WebSocketMessage.binary([1]).string == nil)
        #expect(WebSocketMessage.close(code: .normalClosure, reason: "ok").byteCount == 4)
    }

    @Test func errorsDescribeThemselves() {
        let error = TransportError(.handshakeRejected(status: 403), "the server answered 403 Forbidden")
        #expect(
            error.description
                == "the server refused the WebSocket upgrade (HTTP 403): the server answered 403 Forbidden")
    }

    @Test func requestDefaults() throws {
        let request = WebSocketRequest(url: try #require(URL(string: "ws://localhost/socket/websocket")))
        #expect(request.limits.maxMessageSize == 16 * 1024 * 1024)
        #expect(request.limits.maxFrameSize == 16 * 1024 * 1024)
        #expect(request.timeouts.connect == .seconds(10))
        #expect(request.tls.insecureSkipVerification == false)
        #expect(request.tls.caFilePath == nil)
    }
}
