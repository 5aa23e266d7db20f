// Suite 4 of the benchmarks (issue 8): loopback end to end. TransportPOSIX, TransportLWS and a
// swift-nio NIOWebSocket client against the same in-process swift-nio echo server; memory and
// threads per idle connection; memory and routing cost of 10,000 joined channels on one socket.
// The same rows over TLS (issue 13) are in TLSRows.swift.
//
// Rules of this file:
// - Every client does the same work: binary messages of the same payload, one connection each,
//   driven from one async task (the way an app drives them), against the one server.
// - Round-trip percentiles are recorded here, one sample per message, and reported as custom
//   metrics ("RTT p50 (ns)", "RTT p99 (ns)"): the tool's own percentiles are per iteration.
//   Each benchmark iteration is one fresh connection (5 of them); read the metrics' p50.
// - Memory per idle connection is the process's RSS growth (/proc/self/status) while N
//   connections sit open, divided by N; the server runs in this process too, so its share is
//   measured alone ("idle/server-only": upgraded raw sockets) and is part of every other row.
import Benchmark
import Foundation
import TransportLWS
import TransportPOSIX

/// A client of the echo rows: its name in the rows, and a connection of it to a port.
protocol EchoClient: Sendable, CustomStringConvertible {
    var rawValue: String { get }
    func withLink<Result: Sendable>(port: Int, _ body: (any EchoLink) async throws -> Result) async throws -> Result
}

extension EchoClient {
    var description: String { rawValue }
}

/// The echo rows of `clients` (round trips, then the pipelined rate, at every size) against the
/// echo server whose port `port` gives: the plain rows and the TLS rows are the same rows.
func registerEchoBenchmarks<Client: EchoClient>(_ clients: [Client], port: @escaping @Sendable () throws -> Int) {
    for size in echoPayloadSizes {
        let payload = echoPayload(size)
        let roundTrips = size < 1024 ? 5000 : 2000
        let pipelined = size < 1024 ? 20_000 : 5000
        for client in clients {
            Benchmark(
                "echo-rtt/\(client.rawValue) \(sizeLabel(size)) x\(roundTrips)",
                configuration: loopbackConfiguration([rttP50, rttP99])
            ) { benchmark in
                do {
                    let samples = try await client.withLink(port: try port()) { link in
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
                    let rate = try await client.withLink(port: try port()) { link in
                        try await measureThroughput(link, payload: payload, count: pipelined, window: pipelineWindow)
                    }
                    benchmark.measurement(messagesPerSecond, Int(rate))
                } catch {
                    benchmark.error("\(client) pipelined echo failed: \(error)")
                }
            }
        }
    }
}

/// The clients of suite 4.
enum EchoClientKind: String, CaseIterable, EchoClient {
    case posix
    case lws
    /// TransportLWS with `.experimentalRawSocket`: lws' socket and poll loop, this package's frames.
    case lwsRaw = "lws-raw"
    case nio

    /// Runs `body` with a new connection of this client to `port`.
    func withLink<Result: Sendable>(port: Int, _ body: (any EchoLink) async throws -> Result) async throws -> Result {
        switch self {
        case .posix: try await TransportEchoLink.with(POSIXTransport(), port: port) { try await body($0) }
        case .lws: try await TransportEchoLink.with(LWSTransport(), port: port) { try await body($0) }
        case .lwsRaw:
            try await TransportEchoLink.with(LWSTransport(framing: .experimentalRawSocket), port: port) {
                try await body($0)
            }
        case .nio: try await NIOEchoLink.with(port: port) { try await body($0) }
        }
    }
}

let echoPayloadSizes = [64, 16 << 10]
let idleConnectionCount = 200
let pipelineWindow = 64

let rttP50 = BenchmarkMetric.custom("RTT p50 (ns)", polarity: .prefersSmaller, useScalingFactor: false)
let rttP99 = BenchmarkMetric.custom("RTT p99 (ns)", polarity: .prefersSmaller, useScalingFactor: false)
let messagesPerSecond = BenchmarkMetric.custom("messages/s", polarity: .prefersLarger, useScalingFactor: false)
let rssPerConnection = BenchmarkMetric.custom(
    "RSS per connection (B)", polarity: .prefersSmaller, useScalingFactor: false)
let threadsPer100Connections = BenchmarkMetric.custom(
    "threads per 100 connections", polarity: .prefersSmaller, useScalingFactor: false)

/// "64 B", "16 KiB".
func sizeLabel(_ size: Int) -> String { size < 1024 ? "\(size) B" : "\(size >> 10) KiB" }

/// A deterministic payload.
func echoPayload(_ size: Int) -> [UInt8] { (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) } }

/// One connection per iteration, five iterations; only the metrics this file records.
func loopbackConfiguration(_ metrics: [BenchmarkMetric], iterations: Int = 5) -> Benchmark.Configuration {
    Benchmark.Configuration(
        metrics: metrics,
        warmupIterations: 0,
        maxDuration: .seconds(120),
        maxIterations: iterations
    )
}

let benchmarks: @Sendable () -> Void = {
    runProfileDriverIfAsked()
    runTLSReportIfAsked()
    runTLSHandshakeProfileIfAsked()
    runTLSIdleProfileIfAsked()
    registerEchoBenchmarks(EchoClientKind.allCases) { try EchoServer.running().port }
    registerIdleConnectionBenchmarks()
    registerTLSBenchmarks()
    registerChannelBenchmarks()
}

// MARK: Round trips and throughput

/// Per-message round trips (one message in flight), in nanoseconds, after `warmup` unmeasured ones.
func measureRoundTrips(_ link: any EchoLink, payload: [UInt8], warmup: Int, count: Int) async throws -> [Int] {
    let clock = ContinuousClock()
    var samples: [Int] = []
    samples.reserveCapacity(count)
    for index in 0..<(warmup + count) {
        let start = clock.now
        try await link.send(payload)
        let received = try await link.receive()
        let elapsed = start.duration(to: clock.now)
        guard received == payload.count else {
            throw EchoFailure(description: "echo of \(received) bytes for \(payload.count)")
        }
        if index >= warmup { samples.append(nanoseconds(elapsed)) }
    }
    return samples
}

/// Messages per second with `window` messages in flight, `count` messages in all (after a
/// short unmeasured warm-up).
func measureThroughput(_ link: any EchoLink, payload: [UInt8], count: Int, window: Int) async throws -> Double {
    _ = try await measureRoundTrips(link, payload: payload, warmup: 100, count: 0)
    let clock = ContinuousClock()
    let start = clock.now
    var sent = 0
    var received = 0
    while sent < min(window, count) {
        try await link.send(payload)
        sent += 1
    }
    while received < count {
        let size = try await link.receive()
        guard size == payload.count else {
            throw EchoFailure(description: "echo of \(size) bytes for \(payload.count)")
        }
        received += 1
        if sent < count {
            try await link.send(payload)
            sent += 1
        }
    }
    let seconds = Double(nanoseconds(start.duration(to: clock.now))) / 1e9
    return seconds > 0 ? Double(count) / seconds : 0
}

func nanoseconds(_ duration: Duration) -> Int {
    let (seconds, attoseconds) = duration.components
    return Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000)
}

/// The `fraction` percentile of `samples` (nearest rank); 0 for no samples.
func percentile(_ samples: [Int], _ fraction: Double) -> Int {
    guard !samples.isEmpty else { return 0 }
    let sorted = samples.sorted()
    let rank = Int((fraction * Double(sorted.count)).rounded(.up)) - 1
    return sorted[min(max(rank, 0), sorted.count - 1)]
}
