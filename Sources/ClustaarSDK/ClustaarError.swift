import ClustaarModels
import PhoenixClient
import PhoenixProtocol

/// Why a service or channel call failed. Each call documents the cases it throws.
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
    /// The connection dropped after the message was sent and before its acknowledgement: the
    /// server may or may not have handled it. It is never re-sent silently.
    case outcomeUnknown
    /// The call was given up: the task was cancelled, the channel was left or closed, or the
    /// service disconnected; `reason` says which.
    case cancelled(reason: String)
    /// Too many messages are waiting for the channel to (re)join.
    case bufferFull(limit: Int)
    /// A payload could not be encoded or decoded.
    case encoding(String)
    /// The endpoint or configuration is unusable.
    case invalidConfiguration(String)

    public var description: String {
        switch self {
        case .transport(let error): "transport: \(error)"
        case .notConnected: "not connected"
        case .joinRejected(let reason): "join rejected: \(reason)"
        case .joinTimedOut: "join timed out"
        case .alreadyJoined(let topic): "\(topic) is already joined"
        case .notJoined: "the channel is not joined"
        case .replyRejected(let status, let response): "reply rejected (\(status)): \(response)"
        case .replyTimedOut: "no acknowledgement within the push timeout"
        case .outcomeUnknown: "the connection dropped before the acknowledgement; outcome unknown"
        case .cancelled(let reason): "cancelled: \(reason)"
        case .bufferFull(let limit): "more than \(limit) messages are waiting for the channel"
        case .encoding(let what): "encoding: \(what)"
        case .invalidConfiguration(let what): "invalid configuration: \(what)"
        }
    }
}

extension ClustaarError {
    /// A failed `connect()`.
    static func connecting(_ error: PhoenixClientError) -> ClustaarError {
        switch error {
        case .cancelled(.disconnected): .cancelled(reason: "disconnected")
        default: general(error)
        }
    }

    /// A failed `join()`: cancellations say what ended the channel.
    static func joining(_ error: PhoenixClientError) -> ClustaarError {
        switch error {
        case .joinParamsUnavailable(let why): .invalidConfiguration("the join params provider failed: \(why)")
        case .cancelled(.left): .cancelled(reason: "left")
        case .cancelled(.closedByServer): .cancelled(reason: "closed by the server")
        case .cancelled(.disconnected): .cancelled(reason: "disconnected")
        default: general(error)
        }
    }

    /// A failed `sendReply`.
    static func pushing(_ error: PhoenixClientError) -> ClustaarError {
        switch error {
        case .cancelled(.left): .cancelled(reason: "the channel was left")
        case .cancelled(.closedByServer): .cancelled(reason: "the server closed the channel")
        case .cancelled(.disconnected): .cancelled(reason: "the service disconnected")
        case .cancelled(.joinFailed): .notJoined
        default: general(error)
        }
    }

    private static func general(_ error: PhoenixClientError) -> ClustaarError {
        switch error {
        case .transport(let transportError): .transport(transportError)
        case .notConnected: .notConnected
        case .invalidConfiguration(let what): .invalidConfiguration(what)
        case .reservedTopic(let topic): .invalidConfiguration("topic \(topic) is reserved")
        case .alreadyJoined(let topic): .alreadyJoined(topic: topic)
        case .joinRejected(_, let response): .joinRejected(reason: json(response))
        case .joinTimedOut: .joinTimedOut
        case .joinParamsUnavailable(let why): .invalidConfiguration("the join params provider failed: \(why)")
        case .notJoined: .notJoined
        case .replyRejected(let status, let response): .replyRejected(status: status, response: json(response))
        case .replyTimedOut: .replyTimedOut
        case .outcomeUnknown: .outcomeUnknown
        case .cancelled(let cause): .cancelled(reason: cause.description)
        case .bufferFull(let limit): .bufferFull(limit: limit)
        case .unencodable(let what): .encoding(what)
        case .undecodable(let what): .encoding(what)
        }
    }

    /// A server response as JSON (null when it is not JSON).
    static func json(_ payload: PhoenixPayload) -> JSONValue {
        (try? ClustaarJSON.decode(JSONValue.self, from: payload.bytes)) ?? .null
    }
}
