/// A WebSocket frame as the serializers see it: text (UTF-8 bytes) or binary.
public enum PhoenixFrame: Sendable, Hashable {
    /// A text frame's bytes (UTF-8).
    case text([UInt8])
    /// A binary frame's bytes.
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
    /// The client: its binary frames are pushes carrying a `ref`.
    case client
    /// The server: its binary frames are replies and broadcasts.
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
    /// Phoenix's `vsn=1.0.0`: a JSON object per text frame; no binary payloads.
    case jsonV1
    /// Phoenix's `vsn=2.0.0` (the default of phoenix.js and of this package): a JSON array per
    /// text frame, and a binary frame for a binary payload.
    case jsonV2

    /// The `vsn` URL parameter that selects this format on the server.
    public var vsn: String {
        switch self {
        case .jsonV1: "1.0.0"
        case .jsonV2: "2.0.0"
        }
    }
}
