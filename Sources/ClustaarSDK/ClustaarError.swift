import PhoenixProtocol
import TransportCore

/// Why a service or channel call failed. Each call documents the cases it throws.
///
/// `description` is one line for people: what happened, with the server's own reason or close
/// code (`the server rejected the message (status error): {"reason":"bad request"}`).
public enum ClustaarError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The transport could not connect, or the connection broke (see the transport error).
    case transport(TransportError)
    /// The socket is not open (never connected, disconnected, or reconnecting when the call
    /// needed it open).
    case notConnected
    /// The server rejected the join; `reason` is its response (e.g. `{"reason":"unauthorized"}`).
    case joinRejected(reason: JSONValue)
    /// The server did not answer the join within the join timeout. The channel was left.
    case joinTimedOut
    /// A channel for this interlocutor is already joined through another channel object.
    case alreadyJoined(topic: String)
    /// The channel is not joined (never joined, left, or closed by the server).
    case notJoined
    /// The server answered the push with an error status; `response` is its response.
    case replyRejected(status: String, response: JSONValue)
    /// No acknowledgement within the push timeout. The server may still have handled it.
    case replyTimedOut
    /// The message was sent, then something ended the wait before its acknowledgement (`cause`:
    /// the connection was lost, the server's channel crashed): the server may or may not have
    /// handled it. It is never re-sent silently.
    case outcomeUnknown(Interruption)
    /// The call was given up before an answer; `cause` says why (the task was cancelled, the
    /// channel was left or closed by the server, the service disconnected). A message given up
    /// this way after it was written may still have reached the server.
    case cancelled(Interruption)
    /// Too many messages are waiting for the channel to (re)join.
    case bufferFull(limit: Int)
    /// A payload could not be encoded or decoded; the text says which and why.
    case encoding(String)
    /// The endpoint or configuration is unusable.
    case invalidConfiguration(String)

    /// What ended a call before its answer: the cause of `.outcomeUnknown` and `.cancelled`.
    public enum Interruption: Sendable, Hashable, CustomStringConvertible {
        /// The connection ended. `code` is the close frame's code, nil when there was none (a
        /// reset, a failed read); `reason` is the close frame's reason or the transport's text.
        case connectionLost(code: CloseCode?, reason: String)
        /// The server stopped answering heartbeats: the service closed the connection (and
        /// reconnects).
        case heartbeatTimedOut
        /// The channel's process crashed on the server (`phx_error`); the channel rejoins.
        case channelCrashed
        /// The server closed the channel (`phx_close`: kicked, or joined again elsewhere).
        case channelClosedByServer
        /// The channel was left.
        case left
        /// The service disconnected.
        case disconnected
        /// The calling task was cancelled.
        case taskCancelled

        /// The cause in words: `the connection closed with code 1011 (internal server error):
        /// "boom"`, `the server's channel crashed`.
        public var description: String {
            switch self {
            case .connectionLost(let code?, let reason):
                "the connection closed with code \(code)" + (reason.isEmpty ? "" : ": \"\(reason)\"")
            case .connectionLost(nil, let reason):
                "the connection dropped" + (reason.isEmpty ? "" : " (\(reason))")
            case .heartbeatTimedOut: "the server stopped answering heartbeats"
            case .channelCrashed: "the server's channel crashed"
            case .channelClosedByServer: "the server closed the channel"
            case .left: "the channel was left"
            case .disconnected: "the service disconnected"
            case .taskCancelled: "the task was cancelled"
            }
        }
    }

    public var description: String {
        switch self {
        case .transport(let error): "\(error)"
        case .notConnected: "not connected"
        case .joinRejected(let reason): "the server rejected the join: \(Self.shortJSON(reason))"
        case .joinTimedOut: "no answer to the join within the join timeout"
        case .alreadyJoined(let topic): "\(topic) is already joined through another channel object"
        case .notJoined: "the channel is not joined"
        case .replyRejected(let status, let response):
            "the server rejected the message (status \(status)): \(Self.shortJSON(response))"
        case .replyTimedOut: "no acknowledgement within the push timeout; the server may still have handled the message"
        case .outcomeUnknown(let cause): "no acknowledgement, outcome unknown: \(cause)"
        case .cancelled(let cause): "cancelled: \(cause)"
        case .bufferFull(let limit): "not sent: \(limit) messages are already waiting for the channel to join"
        case .encoding(let what): what
        case .invalidConfiguration(let what): "invalid configuration: \(what)"
        }
    }

    /// A server response for one line: its JSON text, cut after 200 characters.
    static func shortJSON(_ value: JSONValue) -> String {
        let text = value.description
        guard text.count > 200 else { return text }
        return "\(text.prefix(200))… (\(text.utf8.count) bytes)"
    }
}
