import ClustaarTestSupport
import PhoenixProtocol
import Testing

/// Malformed frames give a typed error that says what was wrong.
@Suite struct SerializerErrorTests {
    static let jsonV2Cases: [(String, PhoenixCodingError)] = [
        ("", .emptyFrame),
        (#"["1","1","t","e""#, .invalidJSON(offset: 16, expected: "',' between message elements")),
        (#"["1","1","t","e",{"a":1}"#, .invalidJSON(offset: 24, expected: "']' closing a v2 message")),
        (#"["1","1","t","e",{"a":1]"#, .invalidJSON(offset: 23, expected: "',' or '}'")),
        (#"["1","1","t","e"]"#, .wrongShape("an array of 4 elements; v2 messages have 5")),
        (#"["1"]"#, .wrongShape("an array of 1 element; v2 messages have 5")),
        (#"["1","1","t","e",{},6]"#, .wrongShape("an array of more than 5 elements")),
        (#"[1,"1","t","e",{}]"#, .wrongType(field: .joinRef, expected: "a string or null")),
        (#"["1",true,"t","e",{}]"#, .wrongType(field: .ref, expected: "a string or null")),
        (#"["1","1",null,"e",{}]"#, .wrongType(field: .topic, expected: "a string")),
        (#"["1","1","t",{},{}]"#, .wrongType(field: .event, expected: "a string")),
        (#"{"topic":"t"}"#, .wrongShape("a JSON object; v2 messages are arrays (is the server speaking v1?)")),
        (#"["1","1","t","e",{}] x"#, .invalidJSON(offset: 21, expected: "the end of the frame")),
        (#"["1","1","t","e",tru]"#, .invalidJSON(offset: 17, expected: "true")),
        (#"["1","1","t","e",01]"#, .invalidJSON(offset: 18, expected: "']' closing a v2 message")),
        (#"["1","1","t","e",-]"#, .invalidJSON(offset: 18, expected: "a digit")),
        (#"["1","1","t","e","a\x"]"#, .invalidJSON(offset: 20, expected: "a valid escape after \\")),
        (#"["1","1","t","e","\u12"]"#, .invalidJSON(offset: 22, expected: "a hex digit")),
        (#"["1","1","t\ud800x","e",{}]"#, .invalidJSON(offset: 17, expected: "a low surrogate escape")),
        (#"["1","1","t","phx_reply",{"response":{}}]"#, .missingField(.status)),
        (#"["1","1","t","phx_reply",[]]"#, .wrongType(field: .payload, expected: "an object")),
        (#"["1","1","t","phx_reply",{"status":1}]"#, .wrongType(field: .status, expected: "a string")),
    ]

    @Test(arguments: jsonV2Cases.indices)
    func malformedJSONV2(index: Int) {
        let (text, expected) = Self.jsonV2Cases[index]
        #expect(throws: expected) { try PhoenixSerializer.jsonV2.decode(.text(Array(text.utf8))) }
    }

    @Test func invalidUTF8InAJSONName() {
        var frame = Array(#"["1","1","t?","e",{}]"#.utf8)
        frame[11] = 0xFF
        #expect(throws: PhoenixCodingError.invalidUTF8(field: .topic)) {
            try PhoenixSerializer.jsonV2.decode(.text(frame))
        }
    }

    @Test func controlCharacterInAString() {
        var frame = Array(#"["1","1","t?","e",{}]"#.utf8)
        frame[11] = 0x01
        #expect(throws: PhoenixCodingError.invalidJSON(offset: 11, expected: "no control character inside a string")) {
            try PhoenixSerializer.jsonV2.decode(.text(frame))
        }
    }

    @Test func deepNestingIsAnErrorNotAStackOverflow() {
        let deep = #"["1","1","t","e","# + String(repeating: "[", count: 100_000) + "]"
        #expect(throws: PhoenixCodingError.invalidJSON(offset: 17 + 1025, expected: "less nesting")) {
            try PhoenixSerializer.jsonV2.decode(.text(Array(deep.utf8)))
        }
    }

    /// The payload's containers are tracked past 64 levels (where the scanner's stack leaves its
    /// one word) with their kinds: objects and arrays alternate, and a wrong closing bracket deep
    /// down is found.
    @Test func objectsAndArraysNestedPast64LevelsKeepTheirKinds() throws {
        let levels = 150
        var payload = ""
        for level in 0..<levels { payload += level % 3 == 0 ? "[1," : #"{"k":"# }
        payload += "null"
        for level in (0..<levels).reversed() { payload += level % 3 == 0 ? "]" : "}" }
        let frame = #"[null,null,"t","e","# + payload + "]"
        let message = try PhoenixSerializer.jsonV2.decode(.text(Array(frame.utf8)))
        #expect(String(decoding: message.payload.bytes, as: UTF8.self) == payload)

        // The object at level 100 (0-based; 101 containers open) closed with `]`.
        var wrong = Array(frame.utf8)
        let closers = wrong.indices.filter { wrong[$0] == UInt8(ascii: "]") || wrong[$0] == UInt8(ascii: "}") }
        let index = closers[levels - 1 - 100]
        #expect(wrong[index] == UInt8(ascii: "}"))
        wrong[index] = UInt8(ascii: "]")
        #expect(throws: PhoenixCodingError.invalidJSON(offset: index, expected: "',' or '}'")) {
            try PhoenixSerializer.jsonV2.decode(.text(wrong))
        }
    }

    static let jsonV1Cases: [(String, PhoenixCodingError)] = [
        (#"{"event":"e","payload":{}}"#, .missingField(.topic)),
        (#"{"topic":"t","payload":{}}"#, .missingField(.event)),
        (#"{"topic":"t","event":"e"}"#, .missingField(.payload)),
        (#"{"topic":"t","event":"e","payload":{},"ref":5}"#, .wrongType(field: .ref, expected: "a string or null")),
        (#"["1","1","t","e",{}]"#, .wrongShape("a JSON array; v1 messages are objects (is the server speaking v2?)")),
        (#"{"topic":"t","event":"e","payload":{}"#, .invalidJSON(offset: 37, expected: "',' or '}'")),
        (#"{"topic" "t"}"#, .invalidJSON(offset: 9, expected: "':' after an object key")),
    ]

    @Test(arguments: jsonV1Cases.indices)
    func malformedJSONV1(index: Int) {
        let (text, expected) = Self.jsonV1Cases[index]
        #expect(throws: expected) { try PhoenixSerializer.jsonV1.decode(.text(Array(text.utf8))) }
    }

    @Test func v1IgnoresUnknownKeys() throws {
        let frame = Array(#"{"x":[1,{"y":null}],"topic":"t","event":"e","payload":{"k":"v"},"ref":null}"#.utf8)
        let message = try PhoenixSerializer.jsonV1.decode(.text(frame))
        #expect(
            message == PhoenixMessage(joinRef: nil, ref: nil, topic: "t", event: "e", payload: .json(#"{"k":"v"}"#)))
    }

    static let binaryCases: [(String, PhoenixPeer, PhoenixCodingError)] = [
        ("", .server, .emptyFrame),
        ("07 00 00", .server, .unknownBinaryKind(7)),
        ("00 01", .server, .lengthPastEnd(field: .topic, length: 1, available: 0)),
        ("00 03 01 01 31 32", .server, .lengthPastEnd(field: .joinRef, length: 3, available: 2)),
        ("00 00 05 01 74", .server, .lengthPastEnd(field: .topic, length: 5, available: 1)),
        ("01 00 00 01 05 74 6f 6b", .server, .lengthPastEnd(field: .status, length: 5, available: 2)),
        ("02 01 09 74 65", .server, .lengthPastEnd(field: .event, length: 9, available: 1)),
        ("02 01 01 ff 65", .server, .invalidUTF8(field: .topic)),
        ("02 01 01 74 c3", .server, .invalidUTF8(field: .event)),
        ("01 00 00 01 01 74 6f", .client, .wrongShape("binary kind 1 is sent by servers only")),
        ("00 00 00 01", .client, .lengthPastEnd(field: .event, length: 1, available: 0)),
    ]

    @Test(arguments: binaryCases.indices)
    func malformedBinary(index: Int) throws {
        let (hex, sender, expected) = Self.binaryCases[index]
        let bytes = try #require([UInt8](hex: hex))
        #expect(throws: expected) { try PhoenixSerializer.jsonV2.decode(.binary(bytes), from: sender) }
    }

    @Test func binaryV1IsRefused() {
        #expect(throws: PhoenixCodingError.unencodable("v1 has no binary frames")) {
            try PhoenixSerializer.jsonV1.decode(.binary([0, 0, 0, 0]))
        }
        let message = PhoenixMessage(joinRef: nil, ref: "1", topic: "t", event: "e", payload: .binary([1]))
        #expect(throws: PhoenixCodingError.unencodable("v1 has no binary frames")) {
            try PhoenixSerializer.jsonV1.encode(message)
        }
    }

    @Test func fieldsOver255BytesCannotBeEncoded() throws {
        let long = String(repeating: "x", count: 256)
        // Only a binary payload goes in a binary frame, whose header fields are 255 bytes at most.
        let message = PhoenixMessage(joinRef: "1", ref: "2", topic: long, event: "e", payload: .binary([1]))
        #expect(throws: PhoenixCodingError.fieldTooLong(field: .topic, length: 256)) {
            try PhoenixSerializer.jsonV2.encode(message)
        }
        var event = message
        event.topic = "t"
        event.kind = .event(String(repeating: "é", count: 128))
        #expect(throws: PhoenixCodingError.fieldTooLong(field: .event, length: 256)) {
            try PhoenixSerializer.jsonV2.encode(event)
        }
        // 255 is the largest that fits.
        var fits = message
        fits.topic = String(repeating: "x", count: 255)
        #expect(throws: Never.self) { try PhoenixSerializer.jsonV2.encode(fits) }
        // A JSON payload goes in a text frame, where a long topic is no problem.
        var json = message
        json.payload = .emptyObject
        #expect(try PhoenixSerializer.jsonV2.encode(json).bytes.count > 256)
    }

    @Test func messagesTheBinaryFormatCannotCarry() {
        let clientReply = PhoenixMessage.reply(joinRef: "1", ref: "1", topic: "t", status: "ok", response: .binary([1]))
        #expect(throws: PhoenixCodingError.unencodable("binary v2 has no client reply")) {
            try PhoenixSerializer.jsonV2.encode(clientReply, from: .client)
        }
        let serverPushWithRef = PhoenixMessage(joinRef: "1", ref: "2", topic: "t", event: "e", payload: .binary([1]))
        #expect(throws: PhoenixCodingError.unencodable("a binary v2 server push carries no ref")) {
            try PhoenixSerializer.jsonV2.encode(serverPushWithRef, from: .server)
        }
    }

    @Test func errorsDescribeThemselves() {
        #expect(
            PhoenixCodingError.lengthPastEnd(field: .topic, length: 5, available: 1).description
                == "topic length 5 runs past the end of the frame (1 byte left)")
        #expect(
            PhoenixCodingError.invalidJSON(offset: 3, expected: "a value").description
                == "invalid JSON at byte 3: expected a value")
    }
}
