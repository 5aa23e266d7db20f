import TransportCore

/// Which interlocutors' conversations a human agent holds, for every connection of a server.
///
/// The real service keeps this per interlocutor, not per socket: a client that reconnects (or a
/// second tab) joins and learns the same `control`. One value serves a whole server, survives
/// `restart()`, and is changed by the `take control`/`release control` commands or from outside
/// (`ClustaarSandboxServer.setControl(interlocutorID:taken:)`, as an agent would). Thread-safe.
public final class SandboxControl: Sendable {
    private let taken = Locked(Set<String>())

    /// No agent holds any conversation.
    public init() {}

    /// Whether an agent holds the conversation of `interlocutorID`.
    public func isTaken(interlocutorID: String) -> Bool { taken.withLock { $0.contains(interlocutorID) } }

    /// Records that an agent took (`true`) or released (`false`) the conversation; returns
    /// whether that changed anything.
    @discardableResult
    public func set(interlocutorID: String, taken value: Bool) -> Bool {
        taken.withLock { set in
            value ? set.insert(interlocutorID).inserted : set.remove(interlocutorID) != nil
        }
    }
}
