// Round trips of one client outside the benchmark tool, for `valgrind --tool=callgrind`:
//   LOOPBACK_PROFILE=posix LOOPBACK_PROFILE_COUNT=2000 valgrind --tool=callgrind .build/release/Loopback
// Run it with COUNT=0 too: the difference divided by COUNT is the cost of one round trip
// (client, server and kernel entry), without the set-up.
import Dispatch
import Foundation
import Synchronization

/// Runs the round trips `LOOPBACK_PROFILE` asks for, prints their p50, and exits; returns at
/// once when the variable is not set (the normal benchmark run).
func runProfileDriverIfAsked() {
    let environment = ProcessInfo.processInfo.environment
    guard let name = environment["LOOPBACK_PROFILE"] else { return }
    guard let client = EchoClientKind(rawValue: name) else {
        print("LOOPBACK_PROFILE must be one of \(EchoClientKind.allCases.map(\.rawValue))")
        exit(2)
    }
    let count = environment["LOOPBACK_PROFILE_COUNT"].flatMap { Int($0) } ?? 2000
    let size = environment["LOOPBACK_PROFILE_SIZE"].flatMap { Int($0) } ?? 64
    let outcome = Mutex<String>("")
    let finished = DispatchSemaphore(value: 0)
    // The main thread waits; the round trips run on the task pool.
    Task.detached {
        do {
            let port = try EchoServer.running().port
            let samples = try await client.withLink(port: port) { link in
                try await measureRoundTrips(link, payload: echoPayload(size), warmup: 0, count: count)
            }
            outcome.withLock { $0 = "\(client) \(count) round trips of \(size) B, p50 \(percentile(samples, 0.5)) ns" }
        } catch {
            outcome.withLock { $0 = "\(client) failed: \(error)" }
        }
        finished.signal()
    }
    finished.wait()
    print(outcome.withLock { $0 })
    exit(0)
}
