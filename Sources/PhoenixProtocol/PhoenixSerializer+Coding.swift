extension PhoenixSerializer {
    /// Encodes `message` as one WebSocket frame, as `sender` would send it.
    ///
    /// The payload's bytes are written as they are: a `.json` payload must hold valid JSON text.
    /// - Throws: `PhoenixCodingError.unencodable` for a binary payload in v1 or a message the v2
    ///   binary frame cannot express; `.fieldTooLong` for a binary header field over 255 bytes.
    public func encode(_ message: PhoenixMessage, from sender: PhoenixPeer = .client) throws(PhoenixCodingError)
        -> PhoenixFrame
    {
        switch self {
        case .jsonV1:
            if case .binary = message.payload { throw .unencodable("v1 has no binary frames") }
            return .text(JSONV1Format.encode(message))
        case .jsonV2:
            if case .binary = message.payload { return .binary(try BinaryV2Format.encode(message, from: sender)) }
            return .text(JSONV2Format.encode(message))
        }
    }

    /// Decodes one WebSocket frame sent by `sender`. The payload is a slice of the frame's bytes.
    ///
    /// - Throws: `PhoenixCodingError` saying what was wrong; never traps, whatever the bytes.
    public func decode(_ frame: PhoenixFrame, from sender: PhoenixPeer = .server) throws(PhoenixCodingError)
        -> PhoenixMessage
    {
        var noNames: PhoenixNameCache?
        return try decode(frame, from: sender, names: &noNames)
    }

    /// `decode(_:from:)`, taking v2 text frames' topic and event from `names` when it has them.
    func decode(
        _ frame: PhoenixFrame,
        from sender: PhoenixPeer = .server,
        names: inout PhoenixNameCache?
    ) throws(PhoenixCodingError) -> PhoenixMessage {
        switch (self, frame) {
        case (.jsonV1, .text(let bytes)): return try JSONV1Format.decode(bytes)
        case (.jsonV1, .binary): throw .unencodable("v1 has no binary frames")
        case (.jsonV2, .text(let bytes)): return try JSONV2Format.decode(bytes, names: &names)
        case (.jsonV2, .binary(let bytes)): return try BinaryV2Format.decode(bytes, from: sender)
        }
    }
}

/// Shared by the JSON formats: a `phx_reply` payload `{"status": .., "response": ..}` split into
/// its status and the response's bytes.
enum ReplyPayload {
    static func split(_ bytes: [UInt8], payload range: Range<Int>) throws(PhoenixCodingError)
        -> (status: String, response: PhoenixPayload)
    {
        try bytes.withUnsafeBufferPointer { buffer throws(PhoenixCodingError) in
            var scanner = JSONScanner(UnsafeBufferPointer(rebasing: buffer[..<range.upperBound]))
            scanner.index = range.lowerBound
            guard scanner.consume(UInt8(ascii: "{")) else { throw .wrongType(field: .payload, expected: "an object") }
            var status: String?
            var response: Range<Int>?
            if !scanner.consume(UInt8(ascii: "}")) {
                repeat {
                    let key = try scanner.readKey()
                    try scanner.expect(UInt8(ascii: ":"), "':' after an object key")
                    if scanner.bytesEqual(key, "status") {
                        status = try scanner.readString(.status)
                    } else if scanner.bytesEqual(key, "response") {
                        response = try scanner.skipValue()
                    } else {
                        _ = try scanner.skipValue()
                    }
                } while scanner.consume(UInt8(ascii: ","))
                try scanner.expect(UInt8(ascii: "}"), "',' or '}'")
            }
            guard let status else { throw .missingField(.status) }
            guard let response else { return (status, .emptyObject) }
            return (status, .json(bytes[response]))
        }
    }

    /// The message of a decoded JSON envelope: a `phx_reply` payload is split into its parts.
    static func message(
        joinRef: String?,
        ref: String?,
        topic: String,
        event: String,
        payload: Range<Int>,
        in bytes: [UInt8]
    ) throws(PhoenixCodingError) -> PhoenixMessage {
        guard event == PhoenixEvent.reply else {
            return PhoenixMessage(
                joinRef: joinRef, ref: ref, topic: topic, event: event, payload: .json(bytes[payload]))
        }
        let (status, response) = try split(bytes, payload: payload)
        return .reply(joinRef: joinRef, ref: ref, topic: topic, status: status, response: response)
    }

    static func append(status: String, response: PhoenixPayload, to output: inout [UInt8]) {
        output.appendASCII("{\"response\":")
        output.append(contentsOf: response.bytes)
        output.appendASCII(",\"status\":")
        output.appendJSONString(status)
        output.append(UInt8(ascii: "}"))
    }
}

/// `vsn=2.0.0` text frames: `[join_ref, ref, topic, event, payload]`.
enum JSONV2Format {
    static func encode(_ message: PhoenixMessage) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(message.payload.bytes.count + message.topic.utf8.count + 48)
        output.append(UInt8(ascii: "["))
        output.appendJSONStringOrNull(message.joinRef)
        output.append(UInt8(ascii: ","))
        output.appendJSONStringOrNull(message.ref)
        output.append(UInt8(ascii: ","))
        output.appendJSONString(message.topic)
        output.append(UInt8(ascii: ","))
        switch message.kind {
        case .event(let event):
            output.appendJSONString(event)
            output.append(UInt8(ascii: ","))
            output.append(contentsOf: message.payload.bytes)
        case .reply(let status):
            output.appendJSONString(PhoenixEvent.reply)
            output.append(UInt8(ascii: ","))
            ReplyPayload.append(status: status, response: message.payload, to: &output)
        }
        output.append(UInt8(ascii: "]"))
        return output
    }

    static func decode(_ bytes: [UInt8], names: inout PhoenixNameCache?) throws(PhoenixCodingError) -> PhoenixMessage {
        guard !bytes.isEmpty else { throw .emptyFrame }
        let (joinRef, ref, topic, event, payload) = try bytes.withUnsafeBufferPointer {
            buffer throws(PhoenixCodingError) in
            var scanner = JSONScanner(buffer)
            guard scanner.consume(UInt8(ascii: "[")) else {
                if scanner.peek() == UInt8(ascii: "{") {
                    throw .wrongShape("a JSON object; v2 messages are arrays (is the server speaking v1?)")
                }
                throw scanner.error("'[' opening a v2 message")
            }
            let joinRef = try scanner.readOptionalString(.joinRef)
            try Self.separator(&scanner, found: 1)
            let ref = try scanner.readOptionalString(.ref)
            try Self.separator(&scanner, found: 2)
            let topic = try scanner.readString(.topic, names: &names)
            try Self.separator(&scanner, found: 3)
            let event = try scanner.readString(.event, names: &names)
            try Self.separator(&scanner, found: 4)
            let payload = try scanner.skipValue()
            if scanner.consume(UInt8(ascii: ",")) {
                throw .wrongShape("an array of more than 5 elements")
            }
            try scanner.expect(UInt8(ascii: "]"), "']' closing a v2 message")
            try scanner.expectEnd()
            return (joinRef, ref, topic, event, payload)
        }
        return try ReplyPayload.message(
            joinRef: joinRef, ref: ref, topic: topic, event: event, payload: payload, in: bytes)
    }

    private static func separator(_ scanner: inout JSONScanner, found: Int) throws(PhoenixCodingError) {
        if scanner.consume(UInt8(ascii: ",")) { return }
        if scanner.peek() == UInt8(ascii: "]") {
            throw .wrongShape("an array of \(found) element\(found == 1 ? "" : "s"); v2 messages have 5")
        }
        throw scanner.error("',' between message elements")
    }
}

/// `vsn=1.0.0` text frames: `{"topic","event","payload","ref","join_ref"}`.
enum JSONV1Format {
    static func encode(_ message: PhoenixMessage) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(message.payload.bytes.count + message.topic.utf8.count + 64)
        output.appendASCII("{\"topic\":")
        output.appendJSONString(message.topic)
        output.appendASCII(",\"event\":")
        output.appendJSONString(message.event)
        output.appendASCII(",\"payload\":")
        switch message.kind {
        case .event: output.append(contentsOf: message.payload.bytes)
        case .reply(let status): ReplyPayload.append(status: status, response: message.payload, to: &output)
        }
        output.appendASCII(",\"ref\":")
        output.appendJSONStringOrNull(message.ref)
        // The reference client leaves join_ref out when it has none (see the v1 transcripts).
        if let joinRef = message.joinRef {
            output.appendASCII(",\"join_ref\":")
            output.appendJSONString(joinRef)
        }
        output.append(UInt8(ascii: "}"))
        return output
    }

    static func decode(_ bytes: [UInt8]) throws(PhoenixCodingError) -> PhoenixMessage {
        guard !bytes.isEmpty else { throw .emptyFrame }
        let (joinRef, ref, topic, event, payload) = try bytes.withUnsafeBufferPointer {
            buffer throws(PhoenixCodingError) in
            var scanner = JSONScanner(buffer)
            guard scanner.consume(UInt8(ascii: "{")) else {
                if scanner.peek() == UInt8(ascii: "[") {
                    throw .wrongShape("a JSON array; v1 messages are objects (is the server speaking v2?)")
                }
                throw scanner.error("'{' opening a v1 message")
            }
            var joinRef: String?
            var ref: String?
            var topic: String?
            var event: String?
            var payload: Range<Int>?
            if !scanner.consume(UInt8(ascii: "}")) {
                repeat {
                    let key = try scanner.readKey()
                    try scanner.expect(UInt8(ascii: ":"), "':' after an object key")
                    if scanner.bytesEqual(key, "topic") {
                        topic = try scanner.readString(.topic)
                    } else if scanner.bytesEqual(key, "event") {
                        event = try scanner.readString(.event)
                    } else if scanner.bytesEqual(key, "payload") {
                        payload = try scanner.skipValue()
                    } else if scanner.bytesEqual(key, "ref") {
                        ref = try scanner.readOptionalString(.ref)
                    } else if scanner.bytesEqual(key, "join_ref") {
                        joinRef = try scanner.readOptionalString(.joinRef)
                    } else {
                        _ = try scanner.skipValue()  // unknown keys are ignored
                    }
                } while scanner.consume(UInt8(ascii: ","))
                try scanner.expect(UInt8(ascii: "}"), "',' or '}'")
            }
            try scanner.expectEnd()
            guard let topic else { throw .missingField(.topic) }
            guard let event else { throw .missingField(.event) }
            guard let payload else { throw .missingField(.payload) }
            return (joinRef, ref, topic, event, payload)
        }
        return try ReplyPayload.message(
            joinRef: joinRef, ref: ref, topic: topic, event: event, payload: payload, in: bytes)
    }
}
