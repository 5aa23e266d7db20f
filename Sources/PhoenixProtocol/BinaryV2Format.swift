/// `vsn=2.0.0` binary frames, which carry binary payloads only (a JSON payload goes in a text
/// frame). Every header length is one byte; the payload runs to the end.
///
/// | kind | byte 0 | lengths | fields |
/// |---|---|---|---|
/// | client push | 0 | join_ref ref topic event | same order, then payload |
/// | server push | 0 | join_ref topic event | same order, then payload |
/// | reply | 1 | join_ref ref topic status | same order, then payload |
/// | broadcast | 2 | topic event | same order, then payload |
///
/// An absent join_ref or ref is written as an empty field, and an empty field reads back as nil.
enum BinaryV2Format {
    static let push: UInt8 = 0
    static let reply: UInt8 = 1
    static let broadcast: UInt8 = 2

    static func encode(_ message: PhoenixMessage, from sender: PhoenixPeer) throws(PhoenixCodingError) -> [UInt8] {
        let joinRef = message.joinRef ?? ""
        let ref = message.ref ?? ""
        let payload = message.payload.bytes
        switch (sender, message.kind) {
        case (.client, .event(let event)):
            return try frame(
                kind: push, [(.joinRef, joinRef), (.ref, ref), (.topic, message.topic), (.event, event)], payload)
        case (.client, .reply):
            throw .unencodable("binary v2 has no client reply")
        case (.server, .reply(let status)):
            return try frame(
                kind: reply, [(.joinRef, joinRef), (.ref, ref), (.topic, message.topic), (.status, status)], payload)
        case (.server, .event(let event)):
            guard message.ref == nil else { throw .unencodable("a binary v2 server push carries no ref") }
            if message.joinRef != nil {
                return try frame(kind: push, [(.joinRef, joinRef), (.topic, message.topic), (.event, event)], payload)
            }
            return try frame(kind: broadcast, [(.topic, message.topic), (.event, event)], payload)
        }
    }

    private static func frame(
        kind: UInt8,
        _ fields: [(PhoenixCodingError.Field, String)],
        _ payload: ArraySlice<UInt8>
    ) throws(PhoenixCodingError) -> [UInt8] {
        var headerCount = 1 + fields.count
        for (field, value) in fields {
            let length = value.utf8.count
            guard length <= 255 else { throw .fieldTooLong(field: field, length: length) }
            headerCount += length
        }
        var output: [UInt8] = []
        output.reserveCapacity(headerCount + payload.count)
        output.append(kind)
        for (_, value) in fields { output.append(UInt8(truncatingIfNeeded: value.utf8.count)) }
        for (_, value) in fields { output.append(contentsOf: value.utf8) }
        output.append(contentsOf: payload)
        return output
    }

    static func decode(_ bytes: [UInt8], from sender: PhoenixPeer) throws(PhoenixCodingError) -> PhoenixMessage {
        guard let kind = bytes.first else { throw .emptyFrame }
        var reader = HeaderReader(bytes: bytes)
        switch (kind, sender) {
        case (push, .client):
            let lengths = try reader.lengths([.joinRef, .ref, .topic, .event])
            let joinRef = try reader.optionalString(.joinRef, lengths[0])
            let ref = try reader.optionalString(.ref, lengths[1])
            let topic = try reader.string(.topic, lengths[2])
            let event = try reader.string(.event, lengths[3])
            return PhoenixMessage(
                joinRef: joinRef, ref: ref, topic: topic, event: event, payload: .binary(bytes[reader.offset...]))
        case (push, .server):
            let lengths = try reader.lengths([.joinRef, .topic, .event])
            let joinRef = try reader.optionalString(.joinRef, lengths[0])
            let topic = try reader.string(.topic, lengths[1])
            let event = try reader.string(.event, lengths[2])
            return PhoenixMessage(
                joinRef: joinRef, ref: nil, topic: topic, event: event, payload: .binary(bytes[reader.offset...]))
        case (reply, .server):
            let lengths = try reader.lengths([.joinRef, .ref, .topic, .status])
            let joinRef = try reader.optionalString(.joinRef, lengths[0])
            let ref = try reader.optionalString(.ref, lengths[1])
            let topic = try reader.string(.topic, lengths[2])
            let status = try reader.string(.status, lengths[3])
            return .reply(
                joinRef: joinRef, ref: ref, topic: topic, status: status, response: .binary(bytes[reader.offset...]))
        case (broadcast, .server):
            let lengths = try reader.lengths([.topic, .event])
            let topic = try reader.string(.topic, lengths[0])
            let event = try reader.string(.event, lengths[1])
            return PhoenixMessage(
                joinRef: nil, ref: nil, topic: topic, event: event, payload: .binary(bytes[reader.offset...]))
        case (reply, .client), (broadcast, .client):
            throw .wrongShape("binary kind \(kind) is sent by servers only")
        default:
            throw .unknownBinaryKind(kind)
        }
    }

    /// Reads the length bytes, then the fields they announce, checking every bound.
    private struct HeaderReader {
        let bytes: [UInt8]
        var offset = 1

        mutating func lengths(_ fields: [PhoenixCodingError.Field]) throws(PhoenixCodingError) -> [Int] {
            guard bytes.count >= 1 + fields.count else {
                let missing = fields[max(0, bytes.count - 1)]
                throw .lengthPastEnd(field: missing, length: 1, available: 0)
            }
            offset = 1 + fields.count
            return bytes[1..<offset].map(Int.init)
        }

        mutating func string(_ field: PhoenixCodingError.Field, _ length: Int) throws(PhoenixCodingError) -> String {
            let available = bytes.count - offset
            guard length <= available else { throw .lengthPastEnd(field: field, length: length, available: available) }
            let range = offset..<(offset + length)
            offset += length
            let string = bytes.withUnsafeBufferPointer { buffer in
                String(validating: UnsafeBufferPointer(rebasing: buffer[range]), as: UTF8.self)
            }
            guard let string else { throw .invalidUTF8(field: field) }
            return string
        }

        mutating func optionalString(_ field: PhoenixCodingError.Field, _ length: Int) throws(PhoenixCodingError)
            -> String?
        {
            let value = try string(field, length)
            return value.isEmpty ? nil : value
        }
    }
}
