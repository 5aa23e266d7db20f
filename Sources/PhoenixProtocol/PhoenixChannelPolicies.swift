/// What the machine does when the server rejects a join (an error reply to `phx_join`, e.g.
/// `{"reason":"unauthorized"}`).
///
/// The default reports the failure and stops: the channel is removed and its buffered pushes
/// are cancelled. A policy may retry a bounded number of times; with
/// `PhoenixChannelOptions.refreshesParams` the SDK is asked for fresh params (a new token)
/// before each retry. There is no unbounded retry: a rejection is data, not a network glitch.
public struct PhoenixJoinErrorPolicy: Sendable, Hashable {
    /// Rejections retried before giving up; 0 = report and stop.
    public var maxRetries: Int
    /// Delays before retries 1, 2, ...; the last one repeats.
    public var delays: [Duration]

    /// A policy that retries a rejected join `maxRetries` times (negative counts as 0), waiting
    /// `delays[n - 1]` before retry `n` (the last delay repeats).
    public init(maxRetries: Int, delays: [Duration] = [.seconds(1)]) {
        self.maxRetries = max(0, maxRetries)
        self.delays = delays
    }

    /// Report the rejection and stop (the default).
    public static let stop = PhoenixJoinErrorPolicy(maxRetries: 0)

    /// Retry up to `times` times, waiting `delay` before each.
    public static func retry(times: Int, after delay: Duration) -> PhoenixJoinErrorPolicy {
        PhoenixJoinErrorPolicy(maxRetries: times, delays: [delay])
    }

    func delay(forRetry retry: Int) -> Duration {
        guard let last = delays.last else { return .zero }
        let index = retry - 1
        return index >= 0 && index < delays.count ? delays[index] : last
    }
}

/// How one channel behaves. Defaults come from `PhoenixSocketConfiguration`.
public struct PhoenixChannelOptions: Sendable, Hashable {
    /// How long a join (including the wait for refreshed params) may take before it times out
    /// and is retried on the rejoin schedule. Also bounds a leave.
    public var joinTimeout: Duration
    /// Pushes held while the channel is not joined; one more is cancelled at once with
    /// `.bufferFull`.
    public var pushBufferLimit: Int
    /// Before every rejoin (not the first join, whose params are given to `join`), emit
    /// `requestJoinParams(topic:)` and wait for `joinParamsProvided(topic:params:now:)`.
    public var refreshesParams: Bool
    /// What a rejected join does.
    public var joinErrorPolicy: PhoenixJoinErrorPolicy

    /// Options with the given values; every one has the socket configuration's default.
    public init(
        joinTimeout: Duration = .seconds(10),
        pushBufferLimit: Int = 100,
        refreshesParams: Bool = false,
        joinErrorPolicy: PhoenixJoinErrorPolicy = .stop
    ) {
        self.joinTimeout = joinTimeout
        self.pushBufferLimit = max(0, pushBufferLimit)
        self.refreshesParams = refreshesParams
        self.joinErrorPolicy = joinErrorPolicy
    }
}
