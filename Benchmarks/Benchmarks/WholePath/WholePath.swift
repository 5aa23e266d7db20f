// Suite 5 of the benchmarks (issue 16): the whole path. A `ClustaarWebChatService` sending
// `interlocutor_reply` pushes with `sendReply` to the in-process ClustaarSandbox (one process,
// loopback), beside the floor (the same transport alone, Phoenix v2 frames written by hand) and
// the anchor (a Python `websockets` client doing the same, run as a subprocess), in one run.
//
// Rules of this file:
// - Every client has the same conversation: join `interlocutor:bench-interlocutor`, then
//   `interlocutor_reply` pushes of the text "hello". The sandbox answers each with a
//   `phx_reply`, the echo (`interlocutor_reply`) and a `bot_reply`; every client reads all three.
// - One fresh connection per benchmark iteration (5 iterations); connecting, joining and 100
//   warm-up pushes are outside the measured region (`startMeasurement`), so the tool's malloc
//   count is that of the measured pushes alone, whole process: the sandbox's share (385 mallocs
//   per push) is in every row. The Python rows time themselves and have no malloc count.
// - Round trips and rates are this file's own custom metrics (read their p50: the median of the
//   five iterations).
import Benchmark
import Foundation

let awaitedCount = 1000
let inFlightCount = 4000
let inFlightWindow = 64
let firstReplySessions = 10

let acksPerSecond = BenchmarkMetric.custom("acks/s", polarity: .prefersLarger, useScalingFactor: false)
let rttP50 = BenchmarkMetric.custom("RTT p50 (ns)", polarity: .prefersSmaller, useScalingFactor: false)
let rttP99 = BenchmarkMetric.custom("RTT p99 (ns)", polarity: .prefersSmaller, useScalingFactor: false)
let firstReplyP50 = BenchmarkMetric.custom(
    "first bot reply p50 (ns)", polarity: .prefersSmaller, useScalingFactor: false)

/// Five iterations, each a fresh connection; only the metrics given.
func wholePathConfiguration(_ metrics: [BenchmarkMetric]) -> Benchmark.Configuration {
    Benchmark.Configuration(metrics: metrics, warmupIterations: 0, maxDuration: .seconds(120), maxIterations: 5)
}

/// The tool's malloc count and wall clock of the measured region. Not for the Python client:
/// counting mallocs while the benchmark process spawns the script crashes it.
func processMetrics(_ client: WholePathClient) -> [BenchmarkMetric] {
    client == .python ? [] : [.mallocCountTotal, .wallClock]
}

extension MeasuredRegion {
    init(_ benchmark: Benchmark) {
        // The tool's start and stop only record counters and the clock; any thread may call them.
        nonisolated(unsafe) let benchmark = benchmark
        self.init(start: { benchmark.startMeasurement() }, stop: { benchmark.stopMeasurement() })
    }
}

let benchmarks: @Sendable () -> Void = {
    runWholePathProfileIfAsked()
    for client in WholePathClient.allCases {
        Benchmark(
            "whole-awaited/\(client.rawValue) x\(awaitedCount)",
            configuration: wholePathConfiguration([acksPerSecond, rttP50, rttP99] + processMetrics(client))
        ) { benchmark in
            do {
                let port = try await SandboxOnce.running().port
                let samples = try await client.awaited(
                    port: port, warmup: 100, count: awaitedCount, region: MeasuredRegion(benchmark))
                let total = samples.reduce(0, +)
                benchmark.measurement(acksPerSecond, total > 0 ? Int(Double(samples.count) * 1e9 / Double(total)) : 0)
                benchmark.measurement(rttP50, percentile(samples, 0.50))
                benchmark.measurement(rttP99, percentile(samples, 0.99))
            } catch {
                benchmark.error("\(client.rawValue) awaited pushes failed: \(error)")
            }
        }
        if client == .sdkSubscribed { continue }  // one row: awaited pushes with a subscriber
        Benchmark(
            "whole-inflight/\(client.rawValue) x\(inFlightCount) window \(inFlightWindow)",
            configuration: wholePathConfiguration([acksPerSecond] + processMetrics(client))
        ) { benchmark in
            do {
                let port = try await SandboxOnce.running().port
                let seconds = try await client.inFlight(
                    port: port, count: inFlightCount, window: inFlightWindow, region: MeasuredRegion(benchmark))
                benchmark.measurement(acksPerSecond, seconds > 0 ? Int(Double(inFlightCount) / seconds) : 0)
            } catch {
                benchmark.error("\(client.rawValue) pushes in flight failed: \(error)")
            }
        }
        Benchmark(
            "whole-first-reply/\(client.rawValue) x\(firstReplySessions)",
            configuration: wholePathConfiguration([firstReplyP50])
        ) { benchmark in
            do {
                let port = try await SandboxOnce.running().port
                let samples = try await client.firstBotReply(port: port, count: firstReplySessions)
                benchmark.measurement(firstReplyP50, percentile(samples, 0.50))
            } catch {
                benchmark.error("\(client.rawValue) first bot reply failed: \(error)")
            }
        }
    }
}
