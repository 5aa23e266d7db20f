import ClustaarModels
import PhoenixClient
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
    /// The message (or the join) is `size` bytes once encoded, over the connection's limit of
    /// `limit` bytes (`WebSocketLimits.maxMessageSize`): nothing was sent, and the connection
    /// goes on. Send less, or raise the limit if the server accepts larger messages.
    case tooLarge(size: Int, limit: Int)

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
        /// "boom"`, `the server's channel crashed`. The connection and crash causes read as
        /// PhoenixClient's `PhoenixOutcomeUnknownCause` (one text for both layers).
        public var description: String {
            switch self {
            case .connectionLost(let code, let reason):
                PhoenixOutcomeUnknownCause.connectionLost(code: code, reason: reason).description
            case .heartbeatTimedOut: PhoenixOutcomeUnknownCause.heartbeatTimedOut.description
            case .channelCrashed: PhoenixOutcomeUnknownCause.channelCrashed.description
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
        case .tooLarge(let size, let limit):
            "not sent: the message is \(size) bytes, over the connection's limit of \(limit) bytes (maxMessageSize)"
        }
    }

    /// A server response for one line: its JSON text, cut after 200 characters.
    static func shortJSON(_ value: JSONValue) -> String {
        let text = value.description
        guard text.count > 200 else { return text }
        return "\(text.prefix(200))… (\(text.utf8.count) bytes)"
    }
}

extension ClustaarError {
    /// A failed `connect()`.
    static func connecting(_ error: PhoenixClientError) -> ClustaarError { general(error) }

    /// A failed `join()`.
    static func joining(_ error: PhoenixClientError) -> ClustaarError { general(error) }

    /// A failed `sendReply`: a push whose join failed for good was never sent (not joined).
    static func pushing(_ error: PhoenixClientError) -> ClustaarError { general(error) }

    private static func general(_ error: PhoenixClientError) -> ClustaarError {
        switch error {
        case .transport(let transportError): .transport(transportError)
        case .notConnected: .notConnected
        case .invalidConfiguration(let what): .invalidConfiguration(what)
        case .reservedTopic(let topic): .invalidConfiguration("the topic \(topic) is reserved for the socket")
        case .alreadyJoined(let topic): .alreadyJoined(topic: topic)
        case .joinRejected(_, let response): .joinRejected(reason: json(response))
        case .joinTimedOut: .joinTimedOut
        case .joinParamsUnavailable(let why): .invalidConfiguration("the join params provider failed: \(why)")
        case .notJoined: .notJoined
        case .replyRejected(let status, let response): .replyRejected(status: status, response: json(response))
        case .replyTimedOut: .replyTimedOut
        case .outcomeUnknown(let cause): .outcomeUnknown(Interruption(cause))
        case .cancelled(.joinFailed): .notJoined
        case .cancelled(let cause): .cancelled(Interruption(cause))
        case .bufferFull(let limit): .bufferFull(limit: limit)
        case .unencodable, .undecodable: .encoding(error.description)
        case .tooLarge(let size, let limit): .tooLarge(size: size, limit: limit)
        }
    }

    /// A server response as JSON (null when it is not JSON).
    static func json(_ payload: PhoenixPayload) -> JSONValue {
        // The usual acknowledgement of a push, `{}`, without a decoder (8 allocations).
        if case .json(let bytes) = payload, bytes.count == 2, bytes.first == UInt8(ascii: "{"),
            bytes.last == UInt8(ascii: "}")
        {
            return .object(JSONObject())
        }
        return (try? ClustaarJSON.decode(JSONValue.self, from: payload.bytes)) ?? .null
    }
}

extension ClustaarError.Interruption {
    init(_ cause: PhoenixOutcomeUnknownCause) {
        switch cause {
        case .connectionLost(let code, let reason): self = .connectionLost(code: code, reason: reason)
        case .heartbeatTimedOut: self = .heartbeatTimedOut
        case .channelCrashed: self = .channelCrashed
        }
    }

    /// `.joinFailed` is no interruption (the push was never sent): `general` maps it to
    /// `.notJoined` first. The service refuses duplicate joins, so `.replaced` cannot happen; it
    /// reads as a leave.
    init(_ cause: PhoenixCancellationCause) {
        switch cause {
        case .left, .replaced, .joinFailed: self = .left
        case .disconnected: self = .disconnected
        case .closedByServer: self = .channelClosedByServer
        case .taskCancelled: self = .taskCancelled
        }
    }
}
