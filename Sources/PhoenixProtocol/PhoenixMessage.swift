// PhoenixProtocol: the Phoenix Channels client protocol, sans I/O.
//
// This module holds the message model, the wire serializers (JSON v1; JSON v2, whose binary
// frames carry binary payloads), the socket/channel state machine and the presence sync model.
// Rules:
// - No sockets, threads, clocks or tasks. Time and transport events are inputs; what to do is
//   returned as actions for the caller to run.
// - Untrusted bytes never trap: every decoding failure is a typed `PhoenixCodingError`.
// - Payloads are carried as the bytes they arrived in (a slice of the frame, never re-encoded),
//   so the layer above decodes them straight into its models.

/// One Phoenix Channels message: `[join_ref, ref, topic, event, payload]`.
///
/// A reply (`phx_reply`) is modelled as `kind == .reply(status:)` with the reply's `response`
/// as `payload`, whatever the wire format: JSON frames carry `{"status":..,"response":..}`,
/// binary frames carry the status in the header and the response as the payload bytes.
public struct PhoenixMessage: Sendable, Hashable {
    /// The ref of the join this message belongs to; nil for messages outside a join.
    public var joinRef: String?
    /// The ref that matches a reply to its push; nil for server pushes and broadcasts.
    public var ref: String?
    public var topic: String
    public var kind: Kind
    public var payload: PhoenixPayload

    /// A message's kind: an event by name, or a reply with its status.
    public enum Kind: Sendable, Hashable {
        /// Any event other than `phx_reply` (`phx_join`, `heartbeat`, `bot_reply`...).
        case event(String)
        /// `phx_reply` with its status (`"ok"`, `"error"`...).
        case reply(status: String)
    }

    /// An event message.
    public init(joinRef: String?, ref: String?, topic: String, event: String, payload: PhoenixPayload) {
        self.joinRef = joinRef
        self.ref = ref
        self.topic = topic
        self.kind = .event(event)
        self.payload = payload
    }

    /// A reply (`phx_reply`) with its status and response.
    public static func reply(
        joinRef: String?,
        ref: String?,
        topic: String,
        status: String,
        response: PhoenixPayload
    ) -> PhoenixMessage {
        var message = PhoenixMessage(joinRef: joinRef, ref: ref, topic: topic, event: "", payload: response)
        message.kind = .reply(status: status)
        return message
    }

    /// The event name on the wire: `phx_reply` for replies.
    public var event: String {
        switch kind {
        case .event(let name): name
        case .reply: PhoenixEvent.reply
        }
    }
}

/// A message payload, as the bytes that carry it.
public enum PhoenixPayload: Sendable, Hashable {
    /// The UTF-8 text of one JSON value, exactly as it appeared in the frame (for outbound
    /// messages: exactly as it will be written; it must be valid JSON).
    case json(ArraySlice<UInt8>)
    /// Raw bytes from (or for) a binary frame. Only the v2 serializer carries these.
    case binary(ArraySlice<UInt8>)

    /// The JSON `{}`.
    public static let emptyObject = PhoenixPayload.json(ArraySlice("{}".utf8))

    /// A JSON payload from its text.
    public static func json(_ text: String) -> PhoenixPayload { .json(ArraySlice(text.utf8)) }

    /// The payload's bytes, whichever the kind.
    public var bytes: ArraySlice<UInt8> {
        switch self {
        case .json(let bytes), .binary(let bytes): bytes
        }
    }
}

/// Event names Phoenix reserves.
public enum PhoenixEvent {
    public static let join = "phx_join"
    public static let leave = "phx_leave"
    public static let reply = "phx_reply"
    public static let close = "phx_close"
    public static let error = "phx_error"
    public static let heartbeat = "heartbeat"
    /// The topic of heartbeats.
    public static let heartbeatTopic = "phoenix"
}
