import Foundation
import Glibc
import Testing
import TransportCore
import WebSocketProtocol

@testable import TransportPOSIX

/// What only the POSIX transport promises, beyond the conformance suite.
@Suite struct POSIXTransportTests {
    @Test func wssToAClosedPortIsAConnectFailure() async {
        await #expect {
            try await POSIXTransport().withConnection(to: WebSocketRequest(url: URL(string: "wss://127.0.0.1:1/")!)) {
                _ in
            }
        } throws: { ($0 as? TransportError)?.code == .connectFailed }
    }

    @Test func anUnresolvableHostIsAResolveFailure() async {
        await #expect {
            try await POSIXTransport().withConnection(
                to: WebSocketRequest(url: URL(string: "ws://no-such-host.invalid/")!)
            ) { _ in }
        } throws: { ($0 as? TransportError)?.code == .resolveFailed }
    }

    @Test func invalidLimitsAreRefused() async {
        let request = WebSocketRequest(url: URL(string: "ws://127.0.0.1:1/")!, limits: WebSocketLimits(maxFrameSize: 0))
        await #expect {
            try await POSIXTransport().withConnection(to: request) { _ in }
        } throws: { ($0 as? TransportError)?.code == .invalidRequest }
    }

    @Test func aCancelledConnectAttemptEndsWithCancelled() async throws {
        let server = try await LoopbackServer.shared.value
        let request = WebSocketRequest(
            url: URL(string: "ws://127.0.0.1:\(server.ports.raw)/never-answer")!,
            timeouts: WebSocketTimeouts(handshake: .seconds(30)))
        let attempt = Task { try await POSIXTransport().withConnection(to: request) { _ in } }
        attempt.cancel()
        await #expect {
            try await attempt.value
        } throws: { ($0 as? TransportError)?.code == .cancelled }
    }

    @Test func aConnectThatNeverCompletesTimesOut() async throws {
        // A listener with a full backlog that never accepts: Linux drops further SYNs, so our
        // connect stays in progress until the connect timeout.
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(listener >= 0)
        var descriptors = [listener]
        defer { descriptors.forEach { _ = close($0) } }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let listening = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, length) == 0 && listen(listener, 0) == 0 && getsockname(listener, $0, &length) == 0
            }
        }
        try #require(listening)
        for _ in 0..<3 {
            let filler = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            descriptors.append(filler)
            _ = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(filler, $0, length) }
            }
        }
        let port = UInt16(bigEndian: address.sin_port)
        let request = WebSocketRequest(
            url: URL(string: "ws://127.0.0.1:\(port)/")!, timeouts: WebSocketTimeouts(connect: .milliseconds(300)))
        let start = ContinuousClock.now
        await #expect {
            try await POSIXTransport().withConnection(to: request) { _ in }
        } throws: { ($0 as? TransportError)?.code == .connectTimeout }
        #expect(ContinuousClock.now - start >= .milliseconds(300))
    }
}

/// Outbound backpressure, on a connection core whose I/O thread is not started: nothing drains
/// the queue, so the limit alone decides what `send` does.
@Suite struct BackpressureTests {
    static func core(limit: Int) throws -> ConnectionCore {
        let request = WebSocketRequest(
            url: URL(string: "ws://127.0.0.1:1/")!, limits: WebSocketLimits(outboundBufferSize: limit))
        let handshake = try HTTPUpgradeHandshake(
            target: HTTPUpgradeHandshake.Target(url: request.url), subprotocols: [], headers: [])
        return try ConnectionCore(request: request, handshake: handshake)
    }

    @Test func sendSuspendsOnceTheQueuedBytesExceedTheLimitAndCloseReleasesIt() async throws {
        let core = try Self.core(limit: 1000)
        defer { core.wakeup.close() }
        // 600-byte payloads are 608-byte frames (2 + 2 length + 4 mask).
        try await core.send(.binary([UInt8](repeating: 1, count: 600)))
        try await core.send(.binary([UInt8](repeating: 2, count: 600)))  // 608 <= 1000: still queued at once
        #expect(core.shared.withLock { $0.queuedBytes } == 1216)
        let third = Task { try await core.send(.binary([UInt8](repeating: 3, count: 600))) }
        // Await the state the send must reach: parked as a waiter (yielding, never sleeping).
        while core.shared.withLock({ $0.sendWaiters.count }) == 0 { await Task.yield() }
        #expect(core.shared.withLock { $0.pendingFrames.count } == 2)
        #expect(core.shared.withLock { $0.queuedBytes } == 1216)
        core.close(code: .normalClosure, reason: "")
        await #expect(throws: TransportError(.closed, "the connection closed before the message was queued")) {
            try await third.value
        }
        await #expect(throws: TransportError.self) { try await core.send(.text("after close")) }
    }

    @Test func aMessageOverMaxMessageSizeIsRefusedBeforeQueueing() async throws {
        let core = try Self.core(limit: 1000)
        defer { core.wakeup.close() }
        await #expect {
            try await core.send(.binary([UInt8](repeating: 0, count: (16 << 20) + 1)))
        } throws: { ($0 as? TransportError)?.code == .messageTooBig }
        #expect(core.shared.withLock { $0.queuedBytes } == 0)
    }
}
