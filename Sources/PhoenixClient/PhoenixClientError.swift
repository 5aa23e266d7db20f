import PhoenixProtocol
import TransportCore

/// Why a socket or channel call failed. Each call documents the cases it throws; a case whose
/// cause can differ carries it, and every description is one line in plain words.
public enum PhoenixClientError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The transport could not connect (see the transport error).
    case transport(TransportError)
    /// The socket is not open and will not open by itself (the reconnect policy gave up while
    /// `connect()` waited).
    case notConnected
    /// The endpoint or configuration is unusable.
    case invalidConfiguration(String)
    /// The topic cannot be joined (`phoenix` is the socket's own).
    case reservedTopic(String)
    /// This channel object is joined (or joining) already, or, with
    /// `PhoenixSocket.Configuration.DuplicateJoins.refuse`, another object holds the topic.
    case alreadyJoined(topic: String)
    /// The server refused the join; `response` is its reply (e.g. `{"reason":"unauthorized"}`).
    case joinRejected(status: String, response: PhoenixPayload)
    /// The server did not answer the join within the join timeout. The channel was left.
    case joinTimedOut
    /// The params provider failed before the join; the text is its error.
    case joinParamsUnavailable(String)
    /// The channel is not joined (never joined, left, closed, replaced, or its join failed).
    case notJoined
    /// The server answered the push with a non-ok status; `response` is its reply.
    case replyRejected(status: String, response: PhoenixPayload)
    /// No reply within the push timeout. The server may still have handled it.
    case replyTimedOut
    /// The push was sent, and its reply can no longer come: the server may or may not have
    /// handled it. It is never re-sent.
    case outcomeUnknown(PhoenixOutcomeUnknownCause)
    /// The call was given up before it could complete; the cause says why.
    case cancelled(PhoenixCancellationCause)
    /// Too many pushes are waiting for the channel to (re)join; this one was never sent.
    case bufferFull(limit: Int)
    /// The payload cannot be written (an `Encodable` that failed, or a binary payload with the
    /// JSON v1 serializer); nothing was sent.
    case unencodable(String)
    /// A reply or message could not be read as the requested type.
    case undecodable(String)
    /// The push's (or join's) frame is `size` bytes, over the connection's limit of `limit` bytes
    /// (`WebSocketLimits.maxMessageSize`): nothing was sent, and the connection goes on. Send
    /// less, or raise the limit if the server accepts larger frames.
    case tooLarge(size: Int, limit: Int)

    /// One line for people, with the server's own reply as JSON text (cut after 200 bytes):
    /// `the server rejected the push (status error): {"reason":"bad request"}`.
    public var description: String {
        switch self {
        case .transport(let error): "\(error)"
        case .notConnected: "not connected, and the reconnect attempts gave up"
        case .invalidConfiguration(let what): "invalid configuration: \(what)"
        case .reservedTopic(let topic): "invalid configuration: the topic \(topic) is reserved for the socket"
        case .alreadyJoined(let topic): "\(topic) is already joined"
        case .joinRejected(let status, let response):
            "the server rejected the join (status \(status)): \(response.logText())"
        case .joinTimedOut: "no answer to the join within the join timeout; the channel was left"
        case .joinParamsUnavailable(let why): "the join params provider failed: \(why)"
        case .notJoined: "the channel is not joined"
        case .replyRejected(let status, let response):
            "the server rejected the push (status \(status)): \(response.logText())"
        case .replyTimedOut: "no reply within the push timeout; the server may still have handled the push"
        case .outcomeUnknown(let cause): "no reply, outcome unknown: \(cause)"
        case .cancelled(let cause): "cancelled: \(cause)"
        case .bufferFull(let limit): "not sent: \(limit) pushes are already waiting for the channel to join"
        case .unencodable(let why): "cannot encode: \(why)"
        case .undecodable(let why): "cannot read the payload: \(why)"
        case .tooLarge(let size, let limit):
            "not sent: the message is \(size) bytes, over the connection's limit of \(limit) bytes (maxMessageSize)"
        }
    }
}

/// Why a push's reply can no longer come. The connection causes come from the state machine's
/// `PhoenixConnectionLoss`.
public enum PhoenixOutcomeUnknownCause: Sendable, Hashable, CustomStringConvertible {
    /// The connection ended: closed with `code` (nil: dropped without a close frame, e.g. a reset
    /// or a failed read) and `reason` (the close frame's reason or the transport's text).
    case connectionLost(code: CloseCode?, reason: String)
    /// The server stopped answering heartbeats: the socket closed the connection (and reconnects).
    case heartbeatTimedOut
    /// The channel crashed on the server (`phx_error`) while the socket stayed open.
    case channelCrashed

    /// The cause in words: `the connection closed with code 1011 (internal server error):
    /// "boom"`, `the server's channel crashed`.
    public var description: String {
        switch self {
        case .connectionLost(let code?, let reason):
            "the connection closed with code \(code)" + (reason.isEmpty ? "" : ": \"\(reason)\"")
        case .connectionLost(nil, let reason): "the connection dropped" + (reason.isEmpty ? "" : " (\(reason))")
        case .heartbeatTimedOut: "the server stopped answering heartbeats"
        case .channelCrashed: "the server's channel crashed"
        }
    }
}

/// Why a call was given up.
public enum PhoenixCancellationCause: Sendable, Hashable, CustomStringConvertible {
    /// The channel was left.
    case left
    /// The socket was disconnected by the app.
    case disconnected
    /// The server closed the channel (`phx_close`).
    case closedByServer
    /// Another channel object joined the same topic and replaced this one.
    case replaced
    /// The calling task was cancelled.
    case taskCancelled
    /// The join was refused for good; the push was never sent.
    case joinFailed

    public var description: String {
        switch self {
        case .left: "the channel was left"
        case .disconnected: "the socket was disconnected"
        case .closedByServer: "the server closed the channel"
        case .replaced: "another join of the same topic replaced the channel"
        case .taskCancelled: "the task was cancelled"
        case .joinFailed: "the channel's join failed"
        }
    }
}
