/// When and how often a dropped socket reconnects. A value: the machine reads it, never mutates it.
///
/// The delay before attempt `n` (1-based) is `delays[n - 1]`, or the last delay for every later
/// attempt, spread by `jitter`. The machine draws the jitter from a generator seeded with
/// `jitterSeed`, so a given policy gives the same schedule in every run (tests rely on it); give
/// each client its own seed to spread a fleet's reconnects.
public struct PhoenixReconnectPolicy: Sendable, Hashable {
    /// Which closes lead to a reconnect. A close the user asked for (`disconnect`) never does.
    public enum CloseCodeRule: Sendable, Hashable {
        /// Every close the user did not ask for, 1000 included (proxies close idle sockets with 1000).
        case all
        /// Every close except these codes.
        case allExcept(Set<UInt16>)
        /// Only these codes. A transport failure without a close frame counts as 1006.
        case only(Set<UInt16>)
    }

    /// The reference client's schedule: 10, 50, 100, 150, 200, 250, 500, 1000, 2000 ms, then 5 s.
    public static let referenceDelays: [Duration] = [10, 50, 100, 150, 200, 250, 500, 1000, 2000, 5000]
        .map { Duration.milliseconds($0) }

    /// Delays before attempts 1, 2, ...; the last one repeats. An empty list means no wait.
    public var delays: [Duration]
    /// Spread of each delay as a fraction (0.2 = up to 20 % shorter or longer). 0 = exact delays.
    public var jitter: Double
    /// Seed of the machine's jitter generator.
    public var jitterSeed: UInt64
    /// Attempts after which the machine gives up (`reconnectAbandoned`); nil = never.
    public var maxAttempts: Int?
    /// Which close codes reconnect.
    public var closeCodes: CloseCodeRule
    /// Whether a failure the transport calls permanent (a certificate that fails verification)
    /// is retried like any other. Default false: retrying cannot help, so the machine stops and
    /// the failure reaches the caller. True retries everything, as the reference client does.
    public var retriesPermanentFailures: Bool

    /// A policy; every parameter defaults to the value of `default`.
    public init(
        delays: [Duration] = PhoenixReconnectPolicy.referenceDelays,
        jitter: Double = 0,
        jitterSeed: UInt64 = 0x5EED,
        maxAttempts: Int? = nil,
        closeCodes: CloseCodeRule = .all,
        retriesPermanentFailures: Bool = false
    ) {
        self.delays = delays
        self.jitter = jitter
        self.jitterSeed = jitterSeed
        self.maxAttempts = maxAttempts
        self.closeCodes = closeCodes
        self.retriesPermanentFailures = retriesPermanentFailures
    }

    /// The reference schedule, no jitter, unlimited attempts, every close reconnects, permanent
    /// failures do not.
    public static let `default` = PhoenixReconnectPolicy()

    /// A policy that never reconnects.
    public static let never = PhoenixReconnectPolicy(maxAttempts: 0)

    /// Whether a close with `code` (nil: the transport failed without a close frame) reconnects.
    public func reconnects(afterCloseCode code: UInt16?) -> Bool {
        let code = code ?? 1006
        switch closeCodes {
        case .all: return true
        case .allExcept(let excluded): return !excluded.contains(code)
        case .only(let included): return included.contains(code)
        }
    }

    /// The delay before attempt `attempt` (1-based) without jitter.
    public func baseDelay(forAttempt attempt: Int) -> Duration {
        guard let last = delays.last else { return .zero }
        let index = attempt - 1
        return index >= 0 && index < delays.count ? delays[index] : last
    }

    /// The delay with jitter applied, `unit` being a random number in [0, 1).
    func delay(forAttempt attempt: Int, unit: Double) -> Duration {
        let base = baseDelay(forAttempt: attempt)
        guard jitter > 0 else { return base }
        let spread = min(max(jitter, 0), 1) * (unit * 2 - 1)
        let jittered = base * (1 + spread)
        return jittered < .zero ? .zero : jittered
    }
}

/// A small, fast, seeded generator (SplitMix64): the machine's reconnect jitter (no global
/// randomness in a sans-I/O machine), and the property tests' cases, replayable from their seed.
public struct SplitMix64: RandomNumberGenerator, Sendable, Hashable {
    private var state: UInt64

    /// A generator whose sequence is fixed by `seed`.
    public init(seed: UInt64) { state = seed }

    /// The next number of the sequence.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number in [0, 1).
    mutating func nextUnit() -> Double {
        Double(next() >> 11) / Double(UInt64(1) << 53)
    }
}
