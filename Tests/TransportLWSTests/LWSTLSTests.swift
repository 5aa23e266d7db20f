import Foundation
import Testing
import TransportCore
import TransportLWS

@Suite struct LWSTLSTests {
    /// Connects over wss://, sends one message and returns its echo.
    func echo(certificate: String, host: String = "localhost", tls: TLSOptions) async throws -> WebSocketMessage {
        let server = try await TLSServers.server(for: certificate)
        let request = WebSocketRequest(url: server.url("/echo", scheme: "wss", host: host), tls: tls)
        return try await LWSTransport().withConnection(to: request) { connection in
            try await connection.send(.text("over TLS"))
            var iterator = connection.inbound.makeAsyncIterator()
            return try await nextMessage(&iterator)
        }
    }

    func tlsError(certificate: String, tls: TLSOptions) async throws -> TransportError? {
        let server = try await TLSServers.server(for: certificate)
        let request = WebSocketRequest(url: server.url("/echo", scheme: "wss", host: "localhost"), tls: tls)
        return await #expect(throws: TransportError.self) {
            try await LWSTransport().withConnection(to: request) { _ in }
        }
    }

    @Test(arguments: ["localhost", "127.0.0.1"])
    func validCertificateSignedByTheGivenCAConnects(host: String) async throws {
        let certificates = try await TestCertificates.shared()
        let echoed = try await echo(certificate: "valid", host: host, tls: TLSOptions(caFilePath: certificates.caFile))
        #expect(echoed == .text("over TLS"))
    }

    @Test func wrongHostNameIsRejected() async throws {
        let certificates = try await TestCertificates.shared()
        let error = try await tlsError(certificate: "wronghost", tls: TLSOptions(caFilePath: certificates.caFile))
        #expect(error?.code == .tls)
        #expect(error?.reason.contains("hostname mismatch") == true)
        #expect(error?.isPermanent == true)  // a verification failure: not retried
    }

    @Test func expiredCertificateIsRejected() async throws {
        let certificates = try await TestCertificates.shared()
        let error = try await tlsError(certificate: "expired", tls: TLSOptions(caFilePath: certificates.caFile))
        #expect(error?.code == .tls)
        #expect(error?.reason.contains("expired") == true)
        #expect(error?.isPermanent == true)  // a verification failure: not retried
    }

    @Test func selfSignedCertificateWithoutItsCAIsRejected() async throws {
        let error = try await tlsError(certificate: "selfsigned", tls: TLSOptions())
        #expect(error?.code == .tls)
        #expect(error?.reason.contains("self-signed") == true)
        #expect(error?.isPermanent == true)  // a verification failure: not retried
    }

    @Test func certificateFromAnUnknownCAIsRejected() async throws {
        let error = try await tlsError(certificate: "valid", tls: TLSOptions())
        #expect(error?.code == .tls)
        #expect(error?.reason.contains("local issuer") == true)
        #expect(error?.isPermanent == true)  // a verification failure: not retried
    }

    @Test(arguments: ["selfsigned", "expired", "wronghost"])
    func insecureModeAcceptsAnyCertificate(certificate: String) async throws {
        let echoed = try await echo(certificate: certificate, tls: TLSOptions(insecureSkipVerification: true))
        #expect(echoed == .text("over TLS"))
    }

    /// Each wss context re-runs lws' OpenSSL global init (see LWSTLSGate). The race it guards
    /// against is narrow: it failed one run of this suite, and this test does not reproduce it
    /// reliably without the gate; it checks that concurrent verified connections all succeed.
    @Test func concurrentVerifiedConnectionsAllSucceed() async throws {
        let certificates = try await TestCertificates.shared()
        let server = try await TLSServers.server(for: "valid")
        let request = WebSocketRequest(
            url: server.url("/echo", scheme: "wss", host: "localhost"),
            tls: TLSOptions(caFilePath: certificates.caFile)
        )
        try await withThrowingTaskGroup(of: WebSocketMessage.self) { group in
            for index in 0..<24 {
                group.addTask {
                    try await LWSTransport().withConnection(to: request) { connection in
                        try await connection.send(.text("\(index)"))
                        var iterator = connection.inbound.makeAsyncIterator()
                        return try await nextMessage(&iterator)
                    }
                }
            }
            var echoed: Set<String> = []
            for try await message in group { echoed.insert(message.string ?? "") }
            #expect(echoed == Set((0..<24).map(String.init)))
        }
    }

    @Test func plainClientOnATLSPortFails() async throws {
        let server = try await TLSServers.server(for: "valid")
        let request = WebSocketRequest(
            url: server.url("/echo", scheme: "ws"),
            timeouts: WebSocketTimeouts(handshake: .seconds(2))
        )
        await #expect(throws: TransportError.self) {
            try await LWSTransport().withConnection(to: request) { _ in }
        }
    }
}
