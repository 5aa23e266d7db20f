/// A WebSocket frame as the serializers see it: text (UTF-8 bytes) or binary.
public enum PhoenixFrame: Sendable, Hashable {
    case text([UInt8])
    case binary([UInt8])

    /// The frame's bytes, whichever the kind.
    public var bytes: [UInt8] {
        switch self {
        case .text(let bytes), .binary(let bytes): bytes
        }
    }
}

/// Who sent a frame. The v2 binary frame layout differs by direction (a client push carries a
/// `ref`, a server push does not), so encoding and decoding take the sender.
public enum PhoenixPeer: Sendable, Hashable {
    case client
    case server
}

/// The two Phoenix wire formats, behind one interface.
///
/// - `jsonV1` (`vsn=1.0.0`): a JSON object per text frame; no binary payloads.
/// - `jsonV2` (`vsn=2.0.0`): a JSON array per text frame; a message whose payload is `.binary`
///   goes in a binary frame, and a binary frame from the server decodes to a `.binary` payload
///   (as phoenix.js and Phoenix's own `V2.JSONSerializer` do). A JSON payload never travels in
///   a binary frame: a Phoenix server hands a binary frame's payload to the channel as raw
///   bytes, never as a map.
public enum PhoenixSerializer: Sendable, Hashable, CaseIterable {
    case jsonV1
    case jsonV2

    /// The `vsn` URL parameter that selects this format on the server.
    public var vsn: String {
        switch self {
        case .jsonV1: "1.0.0"
        case .jsonV2: "2.0.0"
        }
    }
}
