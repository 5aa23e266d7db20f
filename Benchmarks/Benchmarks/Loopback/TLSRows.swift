// Suite 4's TLS rows (issue 13): TransportPOSIX through its OpenSSL engine, TransportLWS over
// wss://, and a swift-nio client with swift-nio-ssl, against one swift-nio + swift-nio-ssl echo
// server in this process. Same work as the ws:// rows, plus the TLS handshake time (connect to
// open: TCP, TLS, upgrade) and memory per idle wss:// connection.
import Benchmark
import Dispatch
import Foundation
import NIOSSL
import Synchronization
import TransportCore
import TransportLWS
import TransportPOSIX

/// A CA and a "localhost"/127.0.0.1 server certificate made with the system's `openssl`.
struct BenchCertificates: Sendable {
    let directory: URL
    var caFile: String { directory.appendingPathComponent("ca.pem").path }
    var serverCertificate: String { directory.appendingPathComponent("server.pem").path }
    var serverKey: String { directory.appendingPathComponent("server.key").path }

    private static let made = Mutex<BenchCertificates?>(nil)

    static func shared() throws -> BenchCertificates {
        try made.withLock { made in
            if let made { return made }
            let certificates = try make()
            made = certificates
            return certificates
        }
    }

    private static func make() throws -> BenchCertificates {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bench-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let certificates = BenchCertificates(directory: directory)
        let path = { (name: String) in directory.appendingPathComponent(name).path }
        let newKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try run(
            ["req", "-x509"] + newKey + [
                "-days", "2", "-subj", "/CN=bench CA", "-keyout", path("ca.key"), "-out", path("ca.pem"),
            ])
        try run(
            ["req"] + newKey + ["-subj", "/CN=localhost", "-keyout", path("server.key"), "-out", path("server.csr")])
        try "subjectAltName=DNS:localhost,IP:127.0.0.1\n".write(
            toFile: path("server.ext"), atomically: true, encoding: .utf8)
        try run([
            "x509", "-req", "-in", path("server.csr"), "-CA", path("ca.pem"), "-CAkey", path("ca.key"),
            "-CAcreateserial", "-days", "2", "-extfile", path("server.ext"), "-out", path("server.pem"),
        ])
        return certificates
    }

    private static func run(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        process.standardError = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw EchoFailure(description: "openssl \(arguments.joined(separator: " ")) failed")
        }
    }
}

/// The clients of the TLS rows.
enum TLSEchoClientKind: String, CaseIterable {
    case posix = "posix-tls"
    case lws = "lws-tls"
    case nio = "nio-tls"

    private static let nioContext = Mutex<NIOSSLContext?>(nil)

    /// The NIO client's context: the bench CA trusted, full verification.
    static func nioClientContext() throws -> NIOSSLContext {
        try nioContext.withLock { context in
            if let context { return context }
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.trustRoots = .file(try BenchCertificates.shared().caFile)
            let made = try NIOSSLContext(configuration: configuration)
            context = made
            return made
        }
    }

    /// Runs `body` with a new TLS connection of this client to `port`.
    func withLink<Result: Sendable>(port: Int, _ body: (any EchoLink) async throws -> Result) async throws -> Result {
        let options = TLSOptions(caFilePath: try BenchCertificates.shared().caFile)
        switch self {
        case .posix:
            return try await TransportEchoLink.with(POSIXTransport(), port: port, tls: options) { try await body($0) }
        case .lws:
            return try await TransportEchoLink.with(LWSTransport(), port: port, tls: options) { try await body($0) }
        case .nio:
            return try await NIOEchoLink.with(port: port, tls: try Self.nioClientContext()) { try await body($0) }
        }
    }
}

let handshakeP50 = BenchmarkMetric.custom("handshake p50 (ns)", polarity: .prefersSmaller, useScalingFactor: false)
let handshakeP99 = BenchmarkMetric.custom("handshake p99 (ns)", polarity: .prefersSmaller, useScalingFactor: false)

func registerTLSBenchmarks() {
    for size in echoPayloadSizes {
        let payload = echoPayload(size)
        let roundTrips = size < 1024 ? 5000 : 2000
        let pipelined = size < 1024 ? 20_000 : 5000
        for client in TLSEchoClientKind.allCases {
            Benchmark(
                "echo-rtt/\(client.rawValue) \(sizeLabel(size)) x\(roundTrips)",
                configuration: loopbackConfiguration([rttP50, rttP99])
            ) { benchmark in
                do {
                    let port = try EchoServer.runningTLS().port
                    let samples = try await client.withLink(port: port) { link in
                        try await measureRoundTrips(link, payload: payload, warmup: 200, count: roundTrips)
                    }
                    benchmark.measurement(rttP50, percentile(samples, 0.50))
                    benchmark.measurement(rttP99, percentile(samples, 0.99))
                } catch {
                    benchmark.error("\(client) round trips failed: \(error)")
                }
            }
            Benchmark(
                "echo-throughput/\(client.rawValue) \(sizeLabel(size)) x\(pipelined) window \(pipelineWindow)",
                configuration: loopbackConfiguration([messagesPerSecond])
            ) { benchmark in
                do {
                    let port = try EchoServer.runningTLS().port
                    let rate = try await client.withLink(port: port) { link in
                        try await measureThroughput(link, payload: payload, count: pipelined, window: pipelineWindow)
                    }
                    benchmark.measurement(messagesPerSecond, Int(rate))
                } catch {
                    benchmark.error("\(client) pipelined echo failed: \(error)")
                }
            }
        }
    }
    let handshakes = 200
    for client in TLSEchoClientKind.allCases {
        Benchmark(
            "tls-handshake/\(client.rawValue) x\(handshakes)",
            configuration: loopbackConfiguration([handshakeP50, handshakeP99])
        ) { benchmark in
            do {
                let port = try EchoServer.runningTLS().port
                try await client.withLink(port: port) { _ in }  // contexts and libraries set up once
                var samples: [Int] = []
                let clock = ContinuousClock()
                for _ in 0..<handshakes {
                    let start = clock.now
                    let opened = try await client.withLink(port: port) { _ in clock.now }
                    samples.append(nanoseconds(start.duration(to: opened)))
                }
                benchmark.measurement(handshakeP50, percentile(samples, 0.50))
                benchmark.measurement(handshakeP99, percentile(samples, 0.99))
            } catch {
                benchmark.error("\(client) handshakes failed: \(error)")
            }
        }
        let count = idleConnectionCount
        Benchmark(
            "idle/\(client.rawValue) x\(count)",
            configuration: loopbackConfiguration([rssPerConnection, threadsPer100Connections], iterations: 1)
        ) { benchmark in
            do {
                let port = try EchoServer.runningTLS().port
                let (before, open) = try await statusWithIdleConnections(count: count) { whileOpen in
                    try await client.withLink(port: port) { _ in await whileOpen() }
                }
                benchmark.measurement(rssPerConnection, (open.residentBytes - before.residentBytes) / count)
                benchmark.measurement(threadsPer100Connections, (open.threads - before.threads) * 100 / count)
            } catch {
                benchmark.error("\(client) idle connections failed: \(error)")
            }
        }
    }
}

/// `LOOPBACK_TLS_REPORT=1 .build/release/Loopback`: every TLS row in one process, printed as
/// lines of text, outside the benchmark tool (the three clients interleaved per measurement,
/// so a machine's load changes hit all three alike).
func runTLSReportIfAsked() {
    guard ProcessInfo.processInfo.environment["LOOPBACK_TLS_REPORT"] != nil else { return }
    let finished = DispatchSemaphore(value: 0)
    Task.detached {
        do {
            let port = try EchoServer.runningTLS().port
            for client in TLSEchoClientKind.allCases { try await client.withLink(port: port) { _ in } }
            for size in echoPayloadSizes {
                let roundTrips = size < 1024 ? 5000 : 2000
                for client in TLSEchoClientKind.allCases {
                    let samples = try await client.withLink(port: port) { link in
                        try await measureRoundTrips(link, payload: echoPayload(size), warmup: 200, count: roundTrips)
                    }
                    print(
                        "rtt \(client.rawValue) \(sizeLabel(size)): p50 \(percentile(samples, 0.5) / 1000) us,"
                            + " p99 \(percentile(samples, 0.99) / 1000) us")
                }
                let pipelined = size < 1024 ? 20_000 : 5000
                for client in TLSEchoClientKind.allCases {
                    let rate = try await client.withLink(port: port) { link in
                        try await measureThroughput(
                            link, payload: echoPayload(size), count: pipelined, window: pipelineWindow)
                    }
                    print("pipelined \(client.rawValue) \(sizeLabel(size)): \(Int(rate)) msg/s")
                }
            }
            for client in TLSEchoClientKind.allCases {
                var samples: [Int] = []
                let clock = ContinuousClock()
                for _ in 0..<200 {
                    let start = clock.now
                    let opened = try await client.withLink(port: port) { _ in clock.now }
                    samples.append(nanoseconds(start.duration(to: opened)))
                }
                print(
                    "handshake \(client.rawValue): p50 \(percentile(samples, 0.5) / 1000) us,"
                        + " p99 \(percentile(samples, 0.99) / 1000) us")
            }
            for client in TLSEchoClientKind.allCases {
                let (before, open) = try await statusWithIdleConnections(count: idleConnectionCount) { whileOpen in
                    try await client.withLink(port: port) { _ in await whileOpen() }
                }
                print(
                    "idle \(client.rawValue) x\(idleConnectionCount): "
                        + "\((open.residentBytes - before.residentBytes) / idleConnectionCount) B RSS per connection, "
                        + "\(open.threads - before.threads) threads")
            }
        } catch {
            print("TLS report failed: \(error)")
        }
        finished.signal()
    }
    finished.wait()
    exit(0)
}
