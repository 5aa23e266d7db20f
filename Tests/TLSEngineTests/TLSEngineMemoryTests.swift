import Foundation
import Testing
import TransportConformance

@testable import TLSEngine

#if canImport(COpenSSL)
    /// A deterministic generator (SplitMix64): a failure replays from its seed.
    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// A client and a server engine joined by two in-memory byte queues, delivered in chunks
    /// of random sizes.
    struct EnginePair {
        let client: TLSEngine
        let server: TLSEngine
        var toServer: [UInt8] = []
        var toClient: [UInt8] = []
        var generator: SeededGenerator
        /// Largest chunk delivered at once; 1 delivers byte by byte.
        var maxChunk: Int

        init(client: TLSEngine, server: TLSEngine, seed: UInt64, maxChunk: Int) {
            self.client = client
            self.server = server
            generator = SeededGenerator(state: seed)
            self.maxChunk = maxChunk
        }

        static func drain(_ engine: TLSEngine, into queue: inout [UInt8]) {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = buffer.withUnsafeMutableBytes { engine.takeCiphertext(into: $0) }
                if count == 0 { return }
                queue.append(contentsOf: buffer[..<count])
            }
        }

        /// Moves one random-size chunk each way (after collecting what both engines produced).
        mutating func deliver() {
            Self.drain(client, into: &toServer)
            Self.drain(server, into: &toClient)
            if !toServer.isEmpty {
                let count = Int.random(in: 1...min(maxChunk, toServer.count), using: &generator)
                toServer.withUnsafeBytes { server.receiveCiphertext(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
                toServer.removeFirst(count)
            }
            if !toClient.isEmpty {
                let count = Int.random(in: 1...min(maxChunk, toClient.count), using: &generator)
                toClient.withUnsafeBytes { client.receiveCiphertext(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
                toClient.removeFirst(count)
            }
        }

        var isIdle: Bool { toServer.isEmpty && toClient.isEmpty && client.pendingCiphertextCount == 0 }

        /// Runs both handshakes to completion; the client's error, if any, is thrown.
        mutating func handshake() throws {
            var steps = 0
            while true {
                let clientStatus = try client.handshake()
                let serverStatus = try server.handshake()
                if clientStatus == .complete && serverStatus == .complete && isIdle { return }
                deliver()
                steps += 1
                guard steps < 100_000 else { throw TLSError("the handshake did not converge") }
            }
        }

        static func readAll(_ engine: TLSEngine, into received: inout [UInt8]) throws -> Bool {
            var buffer = [UInt8](repeating: 0, count: 3000)
            while true {
                let result = try buffer.withUnsafeMutableBytes { try engine.readPlaintext(into: $0) }
                switch result {
                case .plaintext(let count): received.append(contentsOf: buffer[..<count])
                case .wantsRead, .wantsWrite: return false
                case .closed: return true
                }
            }
        }
    }

    @Suite("TLSEngine, client against server in memory", .timeLimit(.minutes(2)))
    struct TLSEngineMemoryTests {
        static func serverContext(_ name: String = "valid") async throws -> TLSContext {
            let certificates = try await TLSTestCertificates.shared()
            return try TLSContext(
                serverCertificateChainFile: certificates.path("\(name).pem"),
                privateKeyFile: certificates.path("\(name).key"))
        }

        static func pair(
            server name: String = "valid",
            client configuration: TLSClientConfiguration? = nil,
            host: String = "localhost",
            seed: UInt64 = 1,
            maxChunk: Int = 1 << 16
        ) async throws -> EnginePair {
            let certificates = try await TLSTestCertificates.shared()
            let clientContext = try TLSContext(
                client: configuration ?? TLSClientConfiguration(trust: .caFile(certificates.caFile)))
            return EnginePair(
                client: try TLSEngine(context: clientContext, serverName: host),
                server: try TLSEngine(context: try await serverContext(name), serverName: nil),
                seed: seed, maxChunk: maxChunk)
        }

        @Test(
            "random application data both ways, random chunking, record buffers released at random: every byte arrives in order",
            arguments: [(1 as UInt64, 1), (2, 7), (3, 300), (4, 5000), (5, 1 << 16)])
        func randomDataBothWays(seed: UInt64, maxChunk: Int) async throws {
            var pair = try await Self.pair(seed: seed, maxChunk: maxChunk)
            try pair.handshake()
            #expect(pair.client.protocolVersion == "TLSv1.3")
            var generator = SeededGenerator(state: seed &* 31)
            // Byte-by-byte delivery is slow in a debug build: less data there.
            let total = maxChunk == 1 ? 20_000 : 300_000
            let upstream = (0..<total).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let downstream = (0..<total).map { _ in UInt8.random(in: 0...255, using: &generator) }
            var sentUp = 0
            var sentDown = 0
            var receivedUp: [UInt8] = []
            var receivedDown: [UInt8] = []
            var turns = 0
            while receivedUp.count < total || receivedDown.count < total {
                sentUp += try Self.write(upstream, from: sentUp, to: pair.client, using: &generator)
                sentDown += try Self.write(downstream, from: sentDown, to: pair.server, using: &generator)
                pair.deliver()
                // Record buffers released at random points (half a record buffered or not)
                // must lose nothing: OpenSSL keeps a buffer that holds unread bytes.
                if Bool.random(using: &generator) { pair.client.releaseBuffers() }
                _ = try EnginePair.readAll(pair.server, into: &receivedUp)
                if Bool.random(using: &generator) { pair.server.releaseBuffers() }
                _ = try EnginePair.readAll(pair.client, into: &receivedDown)
                turns += 1
                try #require(turns < 10_000_000, "no progress")
            }
            #expect(receivedUp == upstream)
            #expect(receivedDown == downstream)
        }

        /// Writes a random-size slice of `data` from `offset`; returns how much the engine took.
        static func write(
            _ data: [UInt8], from offset: Int, to engine: TLSEngine, using generator: inout SeededGenerator
        ) throws -> Int {
            guard offset < data.count else { return 0 }
            let size = min(data.count - offset, Int.random(in: 1...40_000, using: &generator))
            let result = try data.withUnsafeBytes {
                try engine.writePlaintext(UnsafeRawBufferPointer(rebasing: $0[offset..<(offset + size)]))
            }
            if case .accepted(let count) = result { return count }
            return 0
        }

        @Test("close_notify: the peer reads .closed after the last byte")
        func closeNotify() async throws {
            var pair = try await Self.pair()
            try pair.handshake()
            _ = try [UInt8]("last words".utf8).withUnsafeBytes { try pair.server.writePlaintext($0) }
            pair.server.close()
            var received: [UInt8] = []
            var closed = false
            for _ in 0..<1000 where !closed {
                pair.deliver()
                closed = try EnginePair.readAll(pair.client, into: &received)
            }
            #expect(closed)
            #expect(pair.client.peerClosed)
            #expect(String(decoding: received, as: UTF8.self) == "last words")
        }

        @Test("a CA given as PEM bytes verifies the server")
        func caAsPEMBytes() async throws {
            let certificates = try await TLSTestCertificates.shared()
            let pem = try [UInt8](Data(contentsOf: URL(fileURLWithPath: certificates.caFile)))
            var pair = try await Self.pair(client: TLSClientConfiguration(trust: .caPEM(pem)), host: "127.0.0.1")
            try pair.handshake()
        }

        @Test("PEM bytes without a certificate are refused")
        func emptyPEM() {
            #expect(throws: TLSError("the CA PEM data holds no certificate")) {
                try TLSContext(client: TLSClientConfiguration(trust: .caPEM(Array("not a PEM".utf8))))
            }
        }

        @Test(
            "verification failures carry OpenSSL's reason",
            arguments: [
                ("wronghost", "localhost", "certificate verify failed: hostname mismatch"),
                ("valid", "10.1.2.3", "certificate verify failed: IP address mismatch"),
                ("expired", "localhost", "certificate verify failed: certificate has expired"),
                ("selfsigned", "localhost", "certificate verify failed: self-signed certificate"),
            ])
        func verificationFailure(server: String, host: String, reason: String) async throws {
            var pair = try await Self.pair(server: server, host: host)
            #expect(throws: TLSError(reason, isCertificateVerificationFailure: true)) {
                try pair.handshake()
            }
        }

        @Test("the system trust store does not know the test CA")
        func systemStoreRejectsTheTestCA() async throws {
            var pair = try await Self.pair(client: TLSClientConfiguration())
            let expected = TLSError(
                "certificate verify failed: unable to get local issuer certificate",
                isCertificateVerificationFailure: true)
            #expect(throws: expected) {
                try pair.handshake()
            }
        }

        @Test("insecure mode accepts any certificate", arguments: ["selfsigned", "expired", "wronghost"])
        func insecure(server: String) async throws {
            var pair = try await Self.pair(server: server, client: TLSClientConfiguration(verifiesPeer: false))
            try pair.handshake()
        }

        @Test("bytes that are not TLS are an error, not a crash")
        func garbage() async throws {
            let certificates = try await TLSTestCertificates.shared()
            let engine = try TLSEngine(
                context: try TLSContext(client: TLSClientConfiguration(trust: .caFile(certificates.caFile))),
                serverName: "localhost")
            #expect(try engine.handshake() == .wantsWrite)
            var hello = [UInt8](repeating: 0, count: 4096)
            #expect(hello.withUnsafeMutableBytes { engine.takeCiphertext(into: $0) } > 0)
            Array("HTTP/1.1 400 Bad Request\r\n\r\n".utf8).withUnsafeBytes { engine.receiveCiphertext($0) }
            #expect(throws: TLSError("wrong version number")) { try engine.handshake() }
        }
    }
#endif
