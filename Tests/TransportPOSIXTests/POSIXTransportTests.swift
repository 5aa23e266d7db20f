import Foundation
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
}
