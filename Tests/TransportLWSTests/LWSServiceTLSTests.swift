import ClustaarSDK
import Foundation
import Testing
import TransportConformance
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
        let certificates = try await TLSTestCertificates.shared()
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

/// `clustaar-chat --ca / --insecure` against the TLS test servers, over both transports. The servers refuse the upgrade
/// (`/reject/403`) once TLS is through, so the error tells how far the chat got: a certificate
/// error means TLS failed, a 403 means the certificate was accepted.
@Suite struct ChatTLSOptionTests {
    static var executable: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("clustaar-chat")
    }

    /// The chat's status and standard output, read on a thread of its own.
    static func chat(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return await withCheckedContinuation { continuation in
            Thread {
                let data = output.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                continuation.resume(returning: (process.terminationStatus, String(decoding: data, as: UTF8.self)))
            }.start()
        }
    }

    static func refusingURL(_ certificate: String) async throws -> String {
        try await TLSServers.server(for: certificate).url("/reject/403", scheme: "wss", host: "localhost")
            .absoluteString
    }

    // Both transports: the verification failure is permanent on each (LWS words it "certificate
    // verification failed: ...", POSIX "certificate verify failed: ..."; both end with OpenSSL's reason).
    @Test(arguments: ["lws", "posix"])
    func anUntrustedCertificateExitsWithTheReasonAndNeverReconnects(transport: String) async throws {
        let (status, output) = try await Self.chat(
            ["--url", try await Self.refusingURL("valid"), "--transport", transport, "--json"])
        #expect(status == 1)
        #expect(output.contains(#""event":"error""#))
        #expect(output.contains("certificate verif"))
        #expect(output.contains("unable to get local issuer certificate"))
        #expect(!output.contains("reconnecting"))
    }

    @Test(arguments: ["lws", "posix"])
    func caTrustsThePrivateCA(transport: String) async throws {
        let certificates = try await TLSTestCertificates.shared()
        let url = try await Self.refusingURL("valid")
        let (status, output) = try await Self.chat(
            ["--url", url, "--transport", transport, "--json", "--ca", certificates.caFile])
        #expect(status == 1)
        #expect(output.contains("403"))
        #expect(!output.contains("certificate verif"))
    }

    @Test(arguments: ["lws", "posix"])
    func insecureAcceptsASelfSignedCertificate(transport: String) async throws {
        let (status, output) = try await Self.chat(
            ["--url", try await Self.refusingURL("selfsigned"), "--transport", transport, "--json", "--insecure"])
        #expect(status == 1)
        #expect(output.contains("403"))
        #expect(!output.contains("certificate verif"))
    }

    @Test func anUnreadableCAFileIsAUsageError() async throws {
        let (status, output) = try await Self.chat(["--ca", "/nonexistent/ca.pem", "--json"])
        #expect(status == 64)  // ArgumentParser's EX_USAGE for a failed validate()
        #expect(output.isEmpty)
    }
}
