/// The payload of `phx_join` on `interlocutor:<id>`. The wire keys mix `bot_id` and
/// `socketToken`: both spellings are the protocol's.
public struct JoinParams: Sendable, Hashable, Codable {
    /// The bot's id (`bot_id` on the wire).
    public var botID: String
    /// The per-interlocutor socket token.
    public var socketToken: String
    /// The page URL the chat runs on; the key is left out when nil.
    public var origin: String?
    /// Whether the end user is logged in; the key is left out when nil.
    public var isLogged: Bool?

    /// Join params; `origin` and `isLogged` are left out of the payload when nil.
    public init(botID: String, socketToken: String, origin: String? = nil, isLogged: Bool? = nil) {
        self.botID = botID
        self.socketToken = socketToken
        self.origin = origin
        self.isLogged = isLogged
    }

    private enum CodingKeys: String, CodingKey {
        case botID = "bot_id"
        case socketToken, origin, isLogged
    }
}

extension JoinParams {
    /// The params as compact JSON written by hand (every channel writes them once): the bytes
    /// `JSONEncoder` writes with sorted keys and unescaped slashes.
    var handWrittenJSON: [UInt8] {
        let strings = botID.utf8.count + socketToken.utf8.count + (origin?.utf8.count ?? 0)
        var writer = JSONTextWriter(capacity: strings + 64)
        // Keys in sorted order, as JSONEncoder's `.sortedKeys`; nil values are left out.
        writer.raw(#"{"bot_id":"#)
        writer.string(botID)
        if let isLogged { writer.raw(isLogged ? #","isLogged":true"# : #","isLogged":false"#) }
        if let origin {
            writer.raw(#","origin":"#)
            writer.string(origin)
        }
        writer.raw(#","socketToken":"#)
        writer.string(socketToken)
        writer.raw("}")
        return writer.bytes
    }
}

/// What a successful join tells: whether a human agent holds the conversation.
public struct JoinStatus: Sendable, Hashable, Codable {
    /// True when a human agent currently holds the conversation; false when the join response
    /// is empty, `null` or has no `control`.
    public var control: Bool

    /// A join status.
    public init(control: Bool) { self.control = control }

    private enum CodingKeys: String, CodingKey {
        case control
    }

    /// Decodes the join reply's `response`: `{"control": bool}`, `{}` or `null`.
    public init(from decoder: any Decoder) throws {
        if try decoder.singleValueContainer().decodeNil() {
            control = false
            return
        }
        let container = try decoder.container(keyedBy: CodingKeys.self)
        control = try container.decodeIfPresent(Bool.self, forKey: .control) ?? false
    }
}

extension JoinStatus {
    /// The status of a join reply of one of the usual shapes, read without `JSONDecoder`:
    /// `null`, `{}`, or one `control` key (spelled without escapes) whose value is `true`,
    /// `false` or `null`, with JSON whitespace anywhere between tokens. Nil for anything else,
    /// which the caller decodes through `JSONDecoder` (and its errors).
    init?(plainJSON bytes: ArraySlice<UInt8>) {
        var reader = PlainJSONReader(bytes: bytes)
        if reader.skip("null") {
            guard reader.isAtEnd else { return nil }
            self.init(control: false)
            return
        }
        guard reader.skip("{") else { return nil }
        if reader.skip("}") {
            guard reader.isAtEnd else { return nil }
            self.init(control: false)
            return
        }
        guard reader.skip("\"control\""), reader.skip(":") else { return nil }
        let control: Bool
        if reader.skip("true") {
            control = true
        } else if reader.skip("false") || reader.skip("null") {
            control = false
        } else {
            return nil
        }
        guard reader.skip("}"), reader.isAtEnd else { return nil }
        self.init(control: control)
    }
}

/// Reads fixed tokens from JSON text, skipping the JSON whitespace before each.
private struct PlainJSONReader {
    let bytes: ArraySlice<UInt8>
    var offset: Int

    init(bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        offset = bytes.startIndex
    }

    /// Whether only whitespace is left.
    var isAtEnd: Bool {
        mutating get {
            skipWhitespace()
            return offset == bytes.endIndex
        }
    }

    /// Moves past `token` when it comes next (after whitespace); stays put otherwise.
    mutating func skip(_ token: StaticString) -> Bool {
        skipWhitespace()
        let count = token.utf8CodeUnitCount
        guard bytes.endIndex - offset >= count else { return false }
        let matches = token.withUTF8Buffer { expected in
            expected.indices.allSatisfy { bytes[offset + $0] == expected[$0] }
        }
        if matches { offset += count }
        return matches
    }

    private mutating func skipWhitespace() {
        while offset < bytes.endIndex, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[offset]) { offset += 1 }
    }
}

/// How the server answered a join.
public enum JoinOutcome: Sendable, Hashable {
    /// Status `ok`.
    case joined(JoinStatus)
    /// Any other status; the response is kept raw (its shape is not documented).
    case rejected(status: String, response: JSONValue)

    /// The outcome of a `phx_reply` to the join, from its status and the bytes of its response.
    public static func decode(status: String, response: ArraySlice<UInt8>) throws(ClustaarDecodingError) -> JoinOutcome
    {
        if status == "ok" {
            return .joined(try ClustaarJSON.decode(JoinStatus.self, from: response))
        }
        return .rejected(status: status, response: try ClustaarJSON.decode(JSONValue.self, from: response))
    }
}

/// A whole join reply payload, `{"status": …, "response": …}`, as a v1/v2 JSON frame carries it.
public struct JoinReply: Sendable, Hashable, Codable {
    /// The join's status and response.
    public var outcome: JoinOutcome

    /// A join reply with `outcome`.
    public init(outcome: JoinOutcome) { self.outcome = outcome }

    private enum CodingKeys: String, CodingKey {
        case status, response
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let status = try container.decode(String.self, forKey: .status)
        if status == "ok" {
            // A missing response counts as `null`: control is false.
            let status = try container.decodeIfPresent(JoinStatus.self, forKey: .response)
            outcome = .joined(status ?? JoinStatus(control: false))
        } else {
            let response = try container.decodeIfPresent(JSONValue.self, forKey: .response)
            outcome = .rejected(status: status, response: response ?? .null)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch outcome {
        case .joined(let status):
            try container.encode("ok", forKey: .status)
            try container.encode(status, forKey: .response)
        case .rejected(let status, let response):
            try container.encode(status, forKey: .status)
            try container.encode(response, forKey: .response)
        }
    }
}
