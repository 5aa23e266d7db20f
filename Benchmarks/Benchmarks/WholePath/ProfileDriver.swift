// One client of suite 5 outside the benchmark tool, for `perf`, `strace -c` or
// `valgrind --tool=callgrind`:
//   WHOLEPATH_PROFILE=sdk-posix WHOLEPATH_PROFILE_COUNT=5000 .build/x86_64-unknown-linux-gnu/release/WholePath
// WHOLEPATH_PROFILE_MODE: awaited (the default), inflight (64 in flight) or connect (sessions to
// the first bot reply). Run it with COUNT=0 too: the difference divided by COUNT is the cost of
// one acknowledged push (client, sandbox and kernel), without the set-up.
import Dispatch
import Foundation
import Synchronization

/// Runs what `WHOLEPATH_PROFILE` asks for, prints its figures and exits; returns at once when the
/// variable is not set (the normal benchmark run).
func runWholePathProfileIfAsked() {
    let environment = ProcessInfo.processInfo.environment
    guard let name = environment["WHOLEPATH_PROFILE"] else { return }
    guard let client = WholePathClient(rawValue: name) else {
        print("WHOLEPATH_PROFILE must be one of \(WholePathClient.allCases.map(\.rawValue))")
        exit(2)
    }
    let count = environment["WHOLEPATH_PROFILE_COUNT"].flatMap { Int($0) } ?? 5000
    let mode = environment["WHOLEPATH_PROFILE_MODE"] ?? "awaited"
    let outcome = Mutex<String>("")
    let finished = DispatchSemaphore(value: 0)
    // The main thread waits; the clients run on the task pool.
    Task.detached {
        do {
            let port = try await SandboxOnce.running().port
            switch mode {
            case "inflight":
                let seconds = try await client.inFlight(
                    port: port, count: count, window: inFlightWindow, region: MeasuredRegion())
                let rate = seconds > 0 ? Int(Double(count) / seconds) : 0
                outcome.withLock { $0 = "\(name) inflight \(count): \(rate) acks/s" }
            case "connect":
                let samples = try await client.firstBotReply(port: port, count: count)
                outcome.withLock { $0 = "\(name) connect \(count): first bot reply p50 \(percentile(samples, 0.5)) ns" }
            default:
                let samples = try await client.awaited(port: port, warmup: 0, count: count, region: MeasuredRegion())
                let total = samples.reduce(0, +)
                let rate = total > 0 ? Int(Double(count) * 1e9 / Double(total)) : 0
                let (p50, p99) = (percentile(samples, 0.5), percentile(samples, 0.99))
                outcome.withLock { $0 = "\(name) awaited \(count): \(rate) acks/s, p50 \(p50) ns, p99 \(p99) ns" }
            }
        } catch {
            outcome.withLock { $0 = "\(name) failed: \(error)" }
        }
        finished.signal()
    }
    finished.wait()
    print(outcome.withLock { $0 })
    exit(0)
}
