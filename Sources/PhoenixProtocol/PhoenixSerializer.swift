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

/// Who sent a frame. The binary v2 format differs by direction (a client push carries a `ref`,
/// a server push does not), so encoding and decoding take the sender.
public enum PhoenixPeer: Sendable, Hashable {
    case client
    case server
}

/// The three Phoenix wire formats, behind one interface.
///
/// - `jsonV1` (`vsn=1.0.0`): a JSON object per text frame; no binary payloads.
/// - `jsonV2` (`vsn=2.0.0`): a JSON array per text frame; a message whose payload is `.binary`
///   goes in a binary frame (as phoenix.js does).
/// - `binaryV2` (`vsn=2.0.0`): every message in a binary frame, a JSON payload carried as its
///   bytes. Decoding accepts text frames too.
public enum PhoenixSerializer: Sendable, Hashable, CaseIterable {
    case jsonV1
    case jsonV2
    case binaryV2

    /// The `vsn` URL parameter that selects this format on the server.
    public var vsn: String {
        switch self {
        case .jsonV1: "1.0.0"
        case .jsonV2, .binaryV2: "2.0.0"
        }
    }
}
