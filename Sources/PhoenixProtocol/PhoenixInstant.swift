/// A point in time as the state machine sees it: a duration since an origin the caller picks.
///
/// The machine never reads a clock: its caller converts its clock's readings (a real
/// monotonic clock, or a test's manual clock) into `PhoenixInstant`s and passes them in.
public struct PhoenixInstant: InstantProtocol, Sendable, Hashable, CustomStringConvertible {
    /// Time since the origin.
    public var offset: Duration

    public init(offset: Duration) { self.offset = offset }

    /// The origin itself.
    public static let zero = PhoenixInstant(offset: .zero)

    public func advanced(by duration: Duration) -> PhoenixInstant {
        PhoenixInstant(offset: offset + duration)
    }

    public func duration(to other: PhoenixInstant) -> Duration { other.offset - offset }

    public static func < (lhs: PhoenixInstant, rhs: PhoenixInstant) -> Bool { lhs.offset < rhs.offset }

    public var description: String { "t+\(offset)" }
}
