import Foundation
import PhoenixProtocol

/// One WebSocket connection of the sandbox, without I/O: a `SandboxSession` behind a Phoenix
/// serializer in the server role, plus the idle timeout.
///
/// Frames in, frames (or a close) out. Frames are read as Phoenix's serializers read them: with
/// `vsn=2.0.0`, a text frame holds a JSON message and a binary frame a push whose payload is raw
/// bytes (`{:binary, data}` on a real server), never JSON. It also applies what the recorded
/// server does on the wire: v1 messages from the server carry no `join_ref`.
public struct SandboxConnection: Sendable {
    /// What the caller must do, in order.
    public enum Output: Sendable, Hashable {
        /// Send this frame.
        case send(PhoenixFrame)
        /// Send a close frame with this code and reason, then close the socket.
        case close(code: UInt16, reason: String)
        /// Hand this request to the server's shared `SandboxRooms`, then give what it delivers
        /// to this connection to `deliver(_:)`, in order, before the outputs that follow.
        case room(SandboxSession.RoomRequest)
    }

    /// The wire format chosen by the URL's `vsn`.
    public let serializer: PhoenixSerializer
    /// The Phoenix logic behind the frames.
    public private(set) var session: SandboxSession
    /// When the socket is closed for idleness, unless a frame comes first.
    public private(set) var idleDeadline: Date
    /// True once a close was asked for: later input is ignored.
    public private(set) var isClosing = false

    /// A new connection, just upgraded at `now`.
    /// `control` is the server's shared control state (a connection alone gets its own).
    public init(
        serializer: PhoenixSerializer,
        configuration: SandboxConfiguration = SandboxConfiguration(),
        control: SandboxControl = SandboxControl(),
        now: Date
    ) {
        self.serializer = serializer
        self.session = SandboxSession(configuration: configuration, control: control)
        self.idleDeadline = now.addingTimeInterval(configuration.idleTimeout.timeInterval)
    }

    /// Any frame from the client (data, ping, pong) keeps the socket alive.
    public mutating func activity(at now: Date) {
        idleDeadline = now.addingTimeInterval(session.configuration.idleTimeout.timeInterval)
    }

    /// Handles one text or binary frame from the client.
    public mutating func frameReceived(
        _ frame: PhoenixFrame,
        at now: Date,
        behavior: SandboxBehavior = SandboxBehavior()
    ) -> [Output] {
        guard !isClosing else { return [] }
        activity(at: now)
        let message: PhoenixMessage
        do {
            message = try serializer.decode(frame, from: .client)
        } catch .invalidUTF8 {
            // RFC 6455 §7.4.1: 1007 is for data inconsistent with its type, such as bad UTF-8.
            return closing(code: 1007, reason: "invalid UTF-8")
        } catch {
            return closing(code: 1003, reason: "undecodable frame: \(error)")
        }
        var outputs: [Output] = []
        for action in session.received(message, at: now, behavior: behavior) {
            switch action {
            case .send(let message):
                do {
                    outputs.append(.send(try serializer.encode(wireForm(of: message), from: .server)))
                } catch PhoenixCodingError.unencodable where serializer == .jsonV1 {
                    // v1 cannot carry a binary push: the channel crashes, the socket stays up (as recorded).
                    if let crash = session.channelCrashed(topic: message.topic),
                        let frame = try? serializer.encode(wireForm(of: crash), from: .server)
                    {
                        outputs.append(.send(frame))
                    }
                } catch {
                    outputs += closing(code: 1011, reason: "cannot encode an answer: \(error)")
                    return outputs
                }
            case .close(let code, let reason):
                outputs += closing(code: code, reason: reason)
                return outputs
            case .room(let request):
                outputs.append(.room(request))
            }
        }
        return outputs
    }

    /// A message `SandboxRooms` delivers to this connection (presence, broadcasts): the frame
    /// to send, or nothing if the socket is closing or the room is no longer joined here.
    public func deliver(_ message: PhoenixMessage) -> PhoenixFrame? {
        guard !isClosing, session.isJoined(message.topic) else { return nil }
        return try? serializer.encode(wireForm(of: message), from: .server)
    }

    /// The frame of the `control` push an agent's take or release sends to this connection's
    /// channel of `interlocutorID`; nil if it is not joined here or the socket is closing.
    public func controlPush(interlocutorID: String, taken: Bool, at now: Date) -> PhoenixFrame? {
        guard !isClosing, let message = session.controlPush(interlocutorID: interlocutorID, taken: taken, at: now)
        else { return nil }
        return try? serializer.encode(wireForm(of: message), from: .server)
    }

    /// Call when `idleDeadline` may have passed: closes with 1002 (Bandit's code) if it has.
    public mutating func timerFired(at now: Date) -> [Output] {
        guard !isClosing, now >= idleDeadline else { return [] }
        return closing(code: 1002, reason: "")
    }

    /// The code to close with when the server stops: 1012 (service restart) while channels are
    /// joined, 1000 otherwise, as a Phoenix server shutting down does.
    public var shutdownCloseCode: UInt16 { session.joinedTopics.isEmpty ? 1000 : 1012 }

    /// Marks the connection closing (e.g. the server closes every socket).
    public mutating func closeRequested() { isClosing = true }

    private mutating func closing(code: UInt16, reason: String) -> [Output] {
        isClosing = true
        return [.close(code: code, reason: Self.closeReason(reason))]
    }

    /// A close reason is at most 123 bytes of UTF-8 (RFC 6455 §5.5): cut on a character boundary.
    static func closeReason(_ reason: String) -> String {
        var trimmed = ""
        for character in reason {
            guard trimmed.utf8.count + character.utf8.count <= 123 else { break }
            trimmed.append(character)
        }
        return trimmed
    }

    private func wireForm(of message: PhoenixMessage) -> PhoenixMessage {
        var message = message
        if serializer == .jsonV1 { message.joinRef = nil }
        return message
    }
}

extension Duration {
    /// The duration in seconds, as Foundation counts them.
    var timeInterval: TimeInterval {
        let (seconds, attoseconds) = components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }
}
