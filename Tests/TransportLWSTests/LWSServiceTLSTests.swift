import ClustaarSDK
import Foundation
import Testing
import TransportCore
import TransportLWS

/// The service over LWSTransport against a TLS server whose CA it does not trust: the
/// verification failure is permanent, so `connect()` throws it and nothing reconnects.
@Suite struct LWSServiceTLSTests {
    @Test func anUntrustedCertificateFailsConnectWithoutReconnecting() async throws {
        let server = try await TLSServers.server(for: "valid")
        // Optional, so that the test can end it: its deinit ends `connectionStates`.
        var service: ClustaarWebChatService? = try ClustaarWebChatService(
            environment: server.url("/socket", scheme: "wss", host: "localhost"), transport: LWSTransport())
        var states = try #require(service?.connectionStates).makeAsyncIterator()
        let error = await #expect(throws: ClustaarError.self) { try await service?.connect() }
        guard case .transport(let transportError) = error else {
            Issue.record("expected a transport error, got \(String(describing: error))")
            return
        }
        #expect(transportError.code == .tls)
        #expect(transportError.isPermanent)
        #expect(transportError.reason.contains("local issuer"))
        service = nil
        var seen: [ConnectionState] = []
        while let state = await states.next() { seen.append(state) }
        #expect(seen == [.connecting, .error(transportError), .closed(code: nil, reason: transportError.reason)])
    }

    @Test func theSameServerWithItsCAConnects() async throws {
        let certificates = try await TestCertificates.shared()
        let server = try await TLSServers.server(for: "valid")
        var configuration = ClustaarWebChatService.Configuration()
        configuration.tls = TLSOptions(caFilePath: certificates.caFile)
        configuration.timeouts = WebSocketTimeouts(handshake: .seconds(5))
        let service = try ClustaarWebChatService(
            environment: server.url("/socket", scheme: "wss", host: "localhost"), transport: LWSTransport(),
            configuration: configuration)
        // The TLS handshake passes; the echo server is no Phoenix server, but the upgrade succeeds.
        try await service.connect()
        #expect(await service.isConnected)
        await service.disconnect()
    }
}
