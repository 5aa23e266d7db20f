// ClustaarTestSupport: what our tests, and our users' tests, need to run the SDK without a
// network or wall-clock time: an in-memory transport whose server side the test plays, and a
// manual clock that only moves when the test says so.
import PhoenixProtocol
import TransportCore

/// A clock that moves only when told to. Its instants are `PhoenixInstant`s, so its `now` feeds
/// the Phoenix state machine directly, and code that sleeps on it wakes when the test advances it.
public final class ManualClock: Clock, Sendable {
    /// Its instants feed the Phoenix state machine directly.
    public typealias Instant = PhoenixInstant
    /// Durations are Swift's.
    public typealias Duration = Swift.Duration

    private struct Sleeper {
        let id: UInt64
        let deadline: PhoenixInstant
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now: PhoenixInstant
        var sleepers: [Sleeper] = []
        var nextID: UInt64 = 0
    }

    private let state: Locked<State>

    /// A clock that reads `now` until it is advanced.
    public init(now: PhoenixInstant = .zero) {
        state = Locked(State(now: now))
    }

    /// The clock's time: where the last `advance` left it.
    public var now: PhoenixInstant { state.withLock { $0.now } }

    /// One nanosecond.
    public var minimumResolution: Duration { .nanoseconds(1) }

    /// How many tasks are sleeping on this clock now.
    public var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    /// Suspends until the clock reaches `deadline` (at once if it already has). Throws
    /// `CancellationError` if the task is cancelled first.
    public func sleep(until deadline: PhoenixInstant, tolerance: Duration? = nil) async throws {
        let id = state.withLock { state -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resumeNow = state.withLock { state -> Result<Void, any Error>? in
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if deadline <= state.now { return .success(()) }
                    state.sleepers.append(Sleeper(id: id, deadline: deadline, continuation: continuation))
                    return nil
                }
                if let resumeNow { continuation.resume(with: resumeNow) }
            }
        } onCancel: {
            let sleeper = state.withLock { state -> Sleeper? in
                guard let index = state.sleepers.firstIndex(where: { $0.id == id }) else { return nil }
                return state.sleepers.remove(at: index)
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves the clock forward by `duration` and wakes every sleeper whose deadline has come,
    /// earliest first.
    public func advance(by duration: Duration) {
        advance(to: now.advanced(by: duration))
    }

    /// Moves the clock to `instant` (never backwards) and wakes every sleeper whose deadline has
    /// come, earliest first.
    public func advance(to instant: PhoenixInstant) {
        let due = state.withLock { state -> [Sleeper] in
            if instant > state.now { state.now = instant }
            let now = state.now
            let due = state.sleepers.filter { $0.deadline <= now }.sorted { $0.deadline < $1.deadline }
            state.sleepers.removeAll { $0.deadline <= now }
            return due
        }
        for sleeper in due { sleeper.continuation.resume() }
    }
}
