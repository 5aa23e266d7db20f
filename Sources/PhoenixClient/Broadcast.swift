import Synchronization
import TransportCore

/// Fans values out to any number of `AsyncStream` subscribers. A subscriber sees what is sent
/// after it subscribed, in order, until it stops iterating or the broadcast finishes.
///
/// Buffers are unbounded: a chat event is never dropped for a slow consumer. (The volume is
/// bounded by what the server sends; a consumer that never reads should cancel its iteration.)
/// Shared with ClustaarSDK (package access), which fans its typed streams out the same way.
package final class Broadcast<Element: Sendable>: Sendable {
    private struct State {
        var subscribers: [UInt64: AsyncStream<Element>.Continuation] = [:]
        var taps: [@Sendable (Element) -> Void] = []
        var nextID: UInt64 = 0
        var finished = false
    }

    private let state = Locked(State())
    /// Subscribers plus taps, written under the lock whenever they change: `isObserved`, and a
    /// `send` nobody would see, read it without taking the lock (a generic lock costs metadata
    /// look-ups on every call; these run for every message of every channel).
    private let observers = Atomic<Int>(0)

    /// A new subscription. If the broadcast has finished, the stream ends at once.
    package init() {}

    package func subscribe() -> AsyncStream<Element> {
        let (stream, continuation) = AsyncStream<Element>.makeStream(bufferingPolicy: .unbounded)
        let id = state.withLock { state -> UInt64? in
            guard !state.finished else { return nil }
            state.nextID += 1
            state.subscribers[state.nextID] = continuation
            observers.store(state.subscribers.count + state.taps.count, ordering: .releasing)
            return state.nextID
        }
        guard let id else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            guard let self else { return }
            state.withLock { state in
                state.subscribers.removeValue(forKey: id)
                observers.store(state.subscribers.count + state.taps.count, ordering: .releasing)
            }
        }
        return stream
    }

    package var subscriberCount: Int { state.withLock { $0.subscribers.count } }

    /// Whether anything would see an element sent now (a subscriber or a tap): senders skip
    /// building elements nobody reads. One that subscribes later sees only later elements anyway.
    package var isObserved: Bool { observers.load(ordering: .acquiring) > 0 }

    /// Calls `body` with every element sent from now on, synchronously in `send` (on the
    /// sender's executor, before the streams see it), for as long as the broadcast lives. For
    /// package tools that must print in order with other synchronous observers; it must not block.
    package func tap(_ body: @escaping @Sendable (Element) -> Void) {
        state.withLock { state in
            state.taps.append(body)
            observers.store(state.subscribers.count + state.taps.count, ordering: .releasing)
        }
    }

    package func send(_ element: Element) {
        guard isObserved else { return }
        let (subscribers, taps) = state.withLock { state in
            // Nobody listening (the usual case for most streams): no copies.
            state.subscribers.isEmpty && state.taps.isEmpty ? ([], []) : (Array(state.subscribers.values), state.taps)
        }
        for tap in taps { tap(element) }
        for subscriber in subscribers { subscriber.yield(element) }
    }

    /// Ends every subscription; later subscriptions end at once.
    package func finish() {
        let subscribers = state.withLock { state -> [AsyncStream<Element>.Continuation] in
            state.finished = true
            state.taps = []
            observers.store(0, ordering: .releasing)
            defer { state.subscribers = [:] }
            return Array(state.subscribers.values)
        }
        for subscriber in subscribers { subscriber.finish() }
    }
}
