import TransportCore

/// The proxy's counters behind a lock: the event loop updates them, tests read and await them.
final class FaultProxyRecorder: Sendable {
    private struct Waiter {
        var condition: @Sendable (FaultProxy.Statistics) -> Bool
        var continuation: CheckedContinuation<FaultProxy.Statistics, Never>
    }

    private struct State {
        var statistics = FaultProxy.Statistics()
        var port = 0
        var waiters: [Int: Waiter] = [:]
        var nextWaiter = 0
        var finished = false
    }

    private let state = Locked(State())

    var statistics: FaultProxy.Statistics { state.withLock { $0.statistics } }

    var port: Int {
        get { state.withLock { $0.port } }
        set { state.withLock { $0.port = newValue } }
    }

    /// Changes the counters, then resumes the waiters whose condition now holds. Conditions run
    /// outside the lock, so they may read the proxy.
    func update(_ change: (inout FaultProxy.Statistics) -> Void) {
        let (snapshot, waiters) = state.withLock { state -> (FaultProxy.Statistics, [Int: Waiter]) in
            change(&state.statistics)
            let excess = state.statistics.frames.count - FaultProxy.Statistics.maxFrames
            if excess > 0 { state.statistics.frames.removeFirst(excess) }
            return (state.statistics, state.waiters)
        }
        let satisfied = waiters.filter { $0.value.condition(snapshot) }.map(\.key)
        guard !satisfied.isEmpty else { return }
        let ready = state.withLock { state in satisfied.compactMap { state.waiters.removeValue(forKey: $0) } }
        for waiter in ready { waiter.continuation.resume(returning: snapshot) }
    }

    func waitUntil(_ condition: @escaping @Sendable (FaultProxy.Statistics) -> Bool) async -> FaultProxy.Statistics {
        let id = state.withLock { state -> Int in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                // Registered first, then checked: an update in between finds the waiter.
                let current = state.withLock { state -> FaultProxy.Statistics? in
                    if state.finished || Task.isCancelled { return state.statistics }
                    state.waiters[id] = Waiter(condition: condition, continuation: continuation)
                    return nil
                }
                if let current {
                    continuation.resume(returning: current)
                    return
                }
                let snapshot = statistics
                guard condition(snapshot) else { return }
                if let waiter = state.withLock({ $0.waiters.removeValue(forKey: id) }) {
                    waiter.continuation.resume(returning: snapshot)
                }
            }
        } onCancel: {
            let waiter = state.withLock { state -> (Waiter, FaultProxy.Statistics)? in
                state.waiters.removeValue(forKey: id).map { ($0, state.statistics) }
            }
            if let (waiter, snapshot) = waiter { waiter.continuation.resume(returning: snapshot) }
        }
    }

    /// The proxy shut down: every waiter returns now, later ones at once.
    func finish() {
        let waiters = state.withLock { state -> ([Waiter], FaultProxy.Statistics) in
            state.finished = true
            defer { state.waiters = [:] }
            return (Array(state.waiters.values), state.statistics)
        }
        for waiter in waiters.0 { waiter.continuation.resume(returning: waiters.1) }
    }
}
