/// A point in time as the state machine sees it: a duration since an origin the caller picks.
///
/// The machine never reads a clock: its caller converts its clock's readings (a real
/// monotonic clock, or a test's manual clock) into `PhoenixInstant`s and passes them in.
public struct PhoenixInstant: InstantProtocol, Sendable, Hashable, CustomStringConvertible {
    /// Time since the origin.
    public var offset: Duration

    /// The instant `offset` after the origin.
    public init(offset: Duration) { self.offset = offset }

    /// The origin itself.
    public static let zero = PhoenixInstant(offset: .zero)

    /// The instant `duration` later (earlier when negative).
    public func advanced(by duration: Duration) -> PhoenixInstant {
        PhoenixInstant(offset: offset + duration)
    }

    /// The time from this instant to `other` (negative when `other` is earlier).
    public func duration(to other: PhoenixInstant) -> Duration { other.offset - offset }

    /// Whether `lhs` comes before `rhs`.
    public static func < (lhs: PhoenixInstant, rhs: PhoenixInstant) -> Bool { lhs.offset < rhs.offset }

    /// The offset from the origin, as `t+1.5 seconds`.
    public var description: String { "t+\(offset)" }
}
