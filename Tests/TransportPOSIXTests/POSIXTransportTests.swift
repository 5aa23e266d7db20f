import Foundation
import Glibc
import Testing
import TransportCore

@testable import TransportPOSIX

/// What only the POSIX transport promises, beyond the conformance suite.
@Suite struct POSIXTransportTests {
    @Test func wssFailsBeforeAnyIOAndPointsToTransportLWS() async {
        do {
            try await POSIXTransport().withConnection(to: WebSocketRequest(url: URL(string: "wss://127.0.0.1:1/")!)) {
                _ in
            }
            Issue.record("wss:// connected")
        } catch let error as TransportError {
            #expect(error.code == .unsupportedScheme)
            #expect(error.reason.contains("TransportLWS"))
        } catch {
            Issue.record("unexpected \(error)")
        }
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
        let server = try LoopbackServer.shared.get()
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
