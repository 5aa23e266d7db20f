extension PhoenixPayload {
    /// The payload as one short line for a log: JSON as its text (`{"reason":"unauthorized"}`),
    /// binary as its size (`<binary, 4 bytes>`). Text longer than `limit` bytes is cut on a
    /// character boundary and ends with `… (N bytes)`; line breaks and other control bytes become
    /// spaces, so the line stays one line.
    ///
    /// Meant for what the server sent (error payloads, rejected replies). The client's own
    /// payloads carry tokens (join params, bot tokens): never log those.
    public func logText(limit: Int = 200) -> String {
        switch self {
        case .binary(let bytes):
            return "<binary, \(bytes.count) bytes>"
        case .json(let bytes):
            let limit = max(limit, 0)
            guard bytes.count > limit else { return Self.oneLine(bytes) }
            var end = bytes.startIndex + limit
            // Back up to the start of a UTF-8 sequence: never half a character.
            while end > bytes.startIndex, bytes[end] & 0b1100_0000 == 0b1000_0000 { end -= 1 }
            return Self.oneLine(bytes[..<end]) + "… (\(bytes.count) bytes)"
        }
    }

    private static func oneLine(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes.map { $0 < 0x20 || $0 == 0x7F ? 0x20 : $0 }, as: UTF8.self)
    }
}
