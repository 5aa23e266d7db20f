// Memory and threads per idle connection, each client in its own benchmark process.
import Benchmark
import Foundation
import Synchronization

/// The process's resident set and thread count, from /proc/self/status.
struct ProcessStatus {
    var residentBytes: Int
    var threads: Int

    static func current() throws -> ProcessStatus {
        let text = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        var resident: Int?
        var threads: Int?
        for line in text.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 2 else { continue }
            switch fields[0] {
            case "VmRSS:": resident = Int(fields[1]).map { $0 * 1024 }  // in kB
            case "Threads:": threads = Int(fields[1])
            default: break
            }
        }
        guard let resident, let threads else { throw EchoFailure(description: "no VmRSS/Threads in /proc/self/status") }
        return ProcessStatus(residentBytes: resident, threads: threads)
    }
}

/// Lets many tasks wait until one call opens it.
final class Gate: Sendable {
    private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func wait() async {
        await withCheckedContinuation { continuation in
            let resumeNow = state.withLock { state -> Bool in
                if state.open { return true }
                state.waiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    func open() {
        let waiters = state.withLock { state in
            state.open = true
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}

/// Runs blocking work on a `Thread` of its own, so that the task pool never blocks.
func onThread<Value: Sendable>(_ work: @escaping @Sendable () throws -> Value) async throws -> Value {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try work() }) }.start()
    }
}

/// Opens one connection and runs `whileOpen` while it is open.
typealias IdleOpener = @Sendable (_ whileOpen: @escaping @Sendable () async -> Void) async throws -> Void

/// Opens `count` connections of `client` and keeps them all open while the status is read;
/// returns the status before and with them open.
func statusWithIdleConnections(
    _ client: EchoClientKind, count: Int, port: Int
) async throws -> (before: ProcessStatus, open: ProcessStatus) {
    try await statusWithIdleConnections(count: count) { whileOpen in
        try await client.withLink(port: port) { _ in await whileOpen() }
    }
}

/// Opens `count` connections with `open` and keeps them all open while the status is read.
func statusWithIdleConnections(
    count: Int, open: @escaping IdleOpener
) async throws -> (before: ProcessStatus, open: ProcessStatus) {
    // One connection first, so lazy one-time set-up (event loops, libraries) is not counted.
    try await open {}
    let before = try ProcessStatus.current()
    let gate = Gate()
    let (opened, openedSink) = AsyncStream<Result<Void, any Error>>.makeStream()
    return try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<count {
            group.addTask {
                do {
                    try await open {
                        openedSink.yield(.success(()))
                        await gate.wait()
                    }
                } catch {
                    openedSink.yield(.failure(error))
                }
            }
        }
        var openCount = 0
        var failure: (any Error)?
        for await result in opened {
            if case .failure(let error) = result { failure = error }
            openCount += 1
            if openCount == count { break }
        }
        let status = try ProcessStatus.current()
        gate.open()
        try await group.waitForAll()
        if let failure { throw failure }
        return (before, status)
    }
}

func registerIdleConnectionBenchmarks() {
    let count = idleConnectionCount
    let metrics = [rssPerConnection, threadsPer100Connections]
    for client in EchoClientKind.allCases {
        Benchmark("idle/\(client.rawValue) x\(count)", configuration: loopbackConfiguration(metrics, iterations: 1)) {
            benchmark in
            do {
                let port = try EchoServer.running().port
                let (before, open) = try await statusWithIdleConnections(client, count: count, port: port)
                benchmark.measurement(rssPerConnection, (open.residentBytes - before.residentBytes) / count)
                benchmark.measurement(threadsPer100Connections, (open.threads - before.threads) * 100 / count)
            } catch {
                benchmark.error("\(client) idle connections failed: \(error)")
            }
        }
    }
    Benchmark("idle/server-only x\(count)", configuration: loopbackConfiguration(metrics, iterations: 1)) { benchmark in
        do {
            let port = try EchoServer.running().port
            RawIdleConnections.close(try await onThread { try RawIdleConnections.open(count: 1, port: port) })
            let before = try ProcessStatus.current()
            let descriptors = try await onThread { try RawIdleConnections.open(count: count, port: port) }
            let open = try ProcessStatus.current()
            RawIdleConnections.close(descriptors)
            benchmark.measurement(rssPerConnection, (open.residentBytes - before.residentBytes) / count)
            benchmark.measurement(threadsPer100Connections, (open.threads - before.threads) * 100 / count)
        } catch {
            benchmark.error("raw idle connections failed: \(error)")
        }
    }
}
