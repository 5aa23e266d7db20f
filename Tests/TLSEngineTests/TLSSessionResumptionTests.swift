import Foundation
import Testing
import TransportConformance

@testable import TLSEngine

#if canImport(COpenSSL)
    /// Session resumption in memory: a client context against one ticket-issuing server
    /// context (OpenSSL's server issues TLS 1.3 tickets by default: two after a full
    /// handshake, one after a resumed one).
    @Suite("TLSEngine session resumption, client against server in memory", .timeLimit(.minutes(2)))
    struct TLSSessionResumptionTests {
        static func clientContext(
            _ configuration: TLSClientConfiguration? = nil, sessionsPerKey: Int = 4, maximumKeys: Int = 32
        ) async throws -> TLSContext {
            let certificates = try await TLSTestCertificates.shared()
            return try TLSContext(
                client: configuration ?? TLSClientConfiguration(trust: .caFile(certificates.caFile)),
                sessionsPerKey: sessionsPerKey, maximumKeys: maximumKeys)
        }

        /// One connection: the handshake, then the client reads what the server sent after it
        /// (its session tickets). Returns the client engine.
        @discardableResult
        static func connect(
            _ client: TLSContext, to server: TLSContext, host: String = "localhost", port: Int? = 443
        ) throws -> TLSEngine {
            var pair = EnginePair(
                client: try TLSEngine(context: client, serverName: host, port: port),
                server: try TLSEngine(context: server, serverName: nil), seed: 7, maxChunk: 1 << 16)
            try pair.handshake()
            try Self.readTickets(&pair)
            return pair.client
        }

        /// Delivers what the server wrote after its handshake (the tickets) and has the client
        /// read it.
        static func readTickets(_ pair: inout EnginePair) throws {
            var received: [UInt8] = []
            repeat {
                pair.deliver()
                _ = try EnginePair.readAll(pair.client, into: &received)
            } while !pair.toClient.isEmpty || pair.server.pendingCiphertextCount > 0
            #expect(received.isEmpty)
        }

        static let localhost = TLSSessionKey(serverName: "localhost", port: 443)

        @Test("the first connection is a full handshake, the next ones resume; each ticket is used once")
        func reconnectResumes() async throws {
            let client = try await Self.clientContext()
            let server = try await TLSEngineMemoryTests.serverContext()
            let cache = try #require(client.sessionCache)
            let first = try Self.connect(client, to: server)
            #expect(!first.isSessionReused)
            #expect(first.protocolVersion == "TLSv1.3")
            #expect(cache.count(for: Self.localhost) == 2)
            for _ in 0..<3 {
                let again = try Self.connect(client, to: server)
                #expect(again.isSessionReused)
                // One ticket taken, the resumed handshake's new ticket kept.
                #expect(cache.count(for: Self.localhost) == 2)
            }
            #expect(cache.totalCount == 2)
        }

        @Test("a TLS 1.2 session (a ticket the server does not renew) is kept and resumed again and again")
        func tls12() async throws {
            let client = try await Self.clientContext()
            let server = try await TLSEngineMemoryTests.serverContext()
            try server.limitToTLS12()
            let cache = try #require(client.sessionCache)
            let first = try Self.connect(client, to: server)
            #expect(first.protocolVersion == "TLSv1.2")
            #expect(!first.isSessionReused)
            #expect(cache.count(for: Self.localhost) == 1)
            for _ in 0..<3 {
                let again = try Self.connect(client, to: server)
                #expect(again.protocolVersion == "TLSv1.2")
                #expect(again.isSessionReused)
                #expect(cache.count(for: Self.localhost) == 1)
            }
        }

        @Test("a session is not offered for another host name, another port or other options")
        func notOfferedElsewhere() async throws {
            let certificates = try await TLSTestCertificates.shared()
            let client = try await Self.clientContext()
            let server = try await TLSEngineMemoryTests.serverContext()
            let cache = try #require(client.sessionCache)
            try Self.connect(client, to: server)
            #expect(cache.count(for: Self.localhost) == 2)
            // The valid certificate names 127.0.0.1 too: verified, but not resumed.
            #expect(!(try Self.connect(client, to: server, host: "127.0.0.1").isSessionReused))
            #expect(!(try Self.connect(client, to: server, port: 8443).isSessionReused))
            #expect(cache.count(for: Self.localhost) == 2)
            #expect(cache.count(for: TLSSessionKey(serverName: "127.0.0.1", port: 443)) == 2)
            #expect(cache.count(for: TLSSessionKey(serverName: "localhost", port: 8443)) == 2)
            // Other options are another context: its cache is empty.
            let pem = try [UInt8](Data(contentsOf: URL(fileURLWithPath: certificates.caFile)))
            let other = try await Self.clientContext(TLSClientConfiguration(trust: .caPEM(pem)))
            #expect(!(try Self.connect(other, to: server).isSessionReused))
            let insecure = try await Self.clientContext(TLSClientConfiguration(verifiesPeer: false))
            #expect(!(try Self.connect(insecure, to: server).isSessionReused))
            #expect(try Self.connect(insecure, to: server).isSessionReused)  // kept under its own options
            // An engine without a port neither offers nor keeps sessions.
            #expect(!(try Self.connect(client, to: server, port: nil).isSessionReused))
            #expect(cache.totalCount == 6)
        }

        @Test(
            "a failed verification keeps nothing, and a kept session does not skip verification at a server that cannot resume it",
            arguments: [
                ("wronghost", "certificate verify failed: hostname mismatch"),
                ("expired", "certificate verify failed: certificate has expired"),
                ("selfsigned", "certificate verify failed: self-signed certificate"),
            ])
        func verificationFailure(server name: String, reason: String) async throws {
            let client = try await Self.clientContext()
            let cache = try #require(client.sessionCache)
            let bad = try await TLSEngineMemoryTests.serverContext(name)
            #expect(throws: TLSError(reason, isCertificateVerificationFailure: true)) {
                try Self.connect(client, to: bad)
            }
            #expect(cache.totalCount == 0)
            // A good connection to the same name and port, then the same key at a server with
            // the bad certificate (another ticket key): the session is offered, not accepted,
            // and the full handshake fails as before.
            try Self.connect(client, to: try await TLSEngineMemoryTests.serverContext())
            #expect(cache.count(for: Self.localhost) == 2)
            #expect(throws: TLSError(reason, isCertificateVerificationFailure: true)) {
                try Self.connect(client, to: bad)
            }
            #expect(cache.count(for: Self.localhost) == 1)  // the offered ticket was used up
        }

        @Test("a context without resumption keeps and offers nothing")
        func turnedOff() async throws {
            let certificates = try await TLSTestCertificates.shared()
            let client = try TLSContext(
                client: TLSClientConfiguration(trust: .caFile(certificates.caFile), resumesSessions: false))
            let server = try await TLSEngineMemoryTests.serverContext()
            #expect(client.sessionCache == nil)
            #expect(!(try Self.connect(client, to: server).isSessionReused))
            #expect(!(try Self.connect(client, to: server).isSessionReused))
        }

        @Test("the cache is bounded: a few sessions per server, the least recently used server dropped")
        func bounded() async throws {
            let client = try await Self.clientContext(sessionsPerKey: 3, maximumKeys: 2)
            let server = try await TLSEngineMemoryTests.serverContext()
            let cache = try #require(client.sessionCache)
            // Two connections made before either handshake: neither offers a session, both
            // are full handshakes, four tickets arrive; three are kept.
            var pairs = try (0..<2).map { seed in
                EnginePair(
                    client: try TLSEngine(context: client, serverName: "localhost", port: 1),
                    server: try TLSEngine(context: server, serverName: nil), seed: UInt64(seed), maxChunk: 1 << 16)
            }
            for index in pairs.indices {
                try pairs[index].handshake()
                try Self.readTickets(&pairs[index])
                #expect(!pairs[index].client.isSessionReused)
            }
            #expect(cache.count(for: TLSSessionKey(serverName: "localhost", port: 1)) == 3)
            try Self.connect(client, to: server, port: 2)
            try Self.connect(client, to: server, port: 3)
            #expect(cache.count(for: TLSSessionKey(serverName: "localhost", port: 2)) == 2)
            #expect(cache.count(for: TLSSessionKey(serverName: "localhost", port: 3)) == 2)
            // Port 1 was the least recently used of three servers: dropped.
            #expect(cache.count(for: TLSSessionKey(serverName: "localhost", port: 1)) == 0)
            #expect(cache.totalCount == 4)
            #expect(!(try Self.connect(client, to: server, port: 1).isSessionReused))
        }

        @Test("an expired session is dropped, not offered")
        func expiry() async throws {
            let client = try await Self.clientContext()
            let server = try await TLSEngineMemoryTests.serverContext()
            let cache = try #require(client.sessionCache)
            try Self.connect(client, to: server)
            #expect(cache.count(for: Self.localhost) == 2)
            // Two days from now: past OpenSSL's 7,200 s session lifetime and the tickets' hint.
            #expect(cache.take(for: Self.localhost, now: Int(time(nil)) + 2 * 86_400) == nil)
            #expect(cache.count(for: Self.localhost) == 0)
        }
    }
#endif
