import PhoenixProtocol

/// Adapts any `Clock` to the state machine's `PhoenixInstant`s: instants are durations since
/// the clock's reading when the socket was made.
struct TimeSource: Sendable {
    let now: @Sendable () -> PhoenixInstant
    let sleep: @Sendable (PhoenixInstant) async throws -> Void

    init<C: Clock>(_ clock: C) where C.Duration == Duration {
        let origin = clock.now
        now = { PhoenixInstant(offset: origin.duration(to: clock.now)) }
        sleep = { deadline in try await clock.sleep(until: origin.advanced(by: deadline.offset), tolerance: nil) }
    }
}
