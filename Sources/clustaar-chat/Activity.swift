import Foundation

/// Counts the replies shown and when anything last happened, so that scripts can wait for "the
/// answer to what I said" and for "nothing more is coming".
actor Activity {
    private(set) var replies = 0
    private var lastEvent = ContinuousClock.now
    private var waiters: [(count: Int, continuation: CheckedContinuation<Bool, Never>)] = []

    func touched() { lastEvent = .now }

    func replyShown() {
        replies += 1
        lastEvent = .now
        let ready = waiters.filter { $0.count <= replies }
        waiters.removeAll { $0.count <= replies }
        for waiter in ready { waiter.continuation.resume(returning: true) }
    }

    /// Waits until `count` replies were shown, or `timeout` passed (then false).
    func waitForReplies(_ count: Int, timeout: Duration) async -> Bool {
        if replies >= count { return true }
        let timer = Task {
            try? await Task.sleep(for: timeout)
            self.expire(count)
        }
        defer { timer.cancel() }
        return await withCheckedContinuation { waiters.append((count, $0)) }
    }

    private func expire(_ count: Int) {
        let expired = waiters.filter { $0.count == count }
        waiters.removeAll { $0.count == count }
        for waiter in expired { waiter.continuation.resume(returning: false) }
    }

    /// Returns once nothing happened for `idle`.
    func waitUntilIdle(_ idle: Duration) async {
        while true {
            let quietFor = ContinuousClock.now - lastEvent
            if quietFor >= idle { return }
            try? await Task.sleep(for: idle - quietFor)
        }
    }
}
