import ClustaarTestSupport
import PhoenixProtocol
import Testing

/// The byte-level test vectors of PHOENIX-PROTOCOL.md, and exact JSON shapes.
@Suite struct SerializerVectorTests {
    @Test func binaryClientPushEncodesTheDocumentedBytes() throws {
        let message = PhoenixMessage(joinRef: "0", ref: "1", topic: "t", event: "e", payload: .binary([0x01]))
        // JSON v2 sends a binary payload in a binary frame, as phoenix.js does.
        let frame = try PhoenixSerializer.jsonV2.encode(message)
        #expect(frame == .binary([UInt8](hex: "00 01 01 01 01 30 31 74 65 01")!))
    }

    @Test func binaryServerPushDecodes() throws {
        let bytes = [UInt8](hex: "00 03 03 0a 31 32 33 74 6f 70 73 6f 6d 65 2d 65 76 65 6e 74 01 01")!
        let message = try PhoenixSerializer.jsonV2.decode(.binary(bytes))
        #expect(
            message
                == PhoenixMessage(
                    joinRef: "123", ref: nil, topic: "top", event: "some-event", payload: .binary([1, 1])))
    }

    @Test func binaryReplyDecodes() throws {
        let bytes = [UInt8](hex: "01 03 02 03 02 31 30 30 31 32 74 6f 70 6f 6b 01 01")!
        let message = try PhoenixSerializer.jsonV2.decode(.binary(bytes))
        #expect(message == .reply(joinRef: "100", ref: "12", topic: "top", status: "ok", response: .binary([1, 1])))
        #expect(message.event == "phx_reply")
    }

    @Test func binaryBroadcastDecodes() throws {
        let bytes = [UInt8](hex: "02 03 0a 74 6f 70 73 6f 6d 65 2d 65 76 65 6e 74 01 01")!
        let message = try PhoenixSerializer.jsonV2.decode(.binary(bytes))
        #expect(
            message
                == PhoenixMessage(joinRef: nil, ref: nil, topic: "top", event: "some-event", payload: .binary([1, 1])))
    }

    @Test func serverSideBinaryEncodingMirrorsTheVectors() throws {
        let push = PhoenixMessage(
            joinRef: "123", ref: nil, topic: "top", event: "some-event", payload: .binary([1, 1]))
        #expect(
            try PhoenixSerializer.jsonV2.encode(push, from: .server)
                == .binary([UInt8](hex: "00 03 03 0a 31 32 33 74 6f 70 73 6f 6d 65 2d 65 76 65 6e 74 01 01")!))
        let reply = PhoenixMessage.reply(
            joinRef: "100", ref: "12", topic: "top", status: "ok", response: .binary([1, 1]))
        #expect(
            try PhoenixSerializer.jsonV2.encode(reply, from: .server)
                == .binary([UInt8](hex: "01 03 02 03 02 31 30 30 31 32 74 6f 70 6f 6b 01 01")!))
        let broadcast = PhoenixMessage(
            joinRef: nil, ref: nil, topic: "top", event: "some-event", payload: .binary([1, 1]))
        #expect(
            try PhoenixSerializer.jsonV2.encode(broadcast, from: .server)
                == .binary([UInt8](hex: "02 03 0a 74 6f 70 73 6f 6d 65 2d 65 76 65 6e 74 01 01")!))
    }

    @Test func jsonV2EncodesTheArrayForm() throws {
        let join = PhoenixMessage(
            joinRef: "1", ref: "1", topic: "interlocutor:42", event: "phx_join", payload: .json(#"{"bot_id":"b"}"#))
        #expect(
            try PhoenixSerializer.jsonV2.encode(join).bytes
                == Array(#"["1","1","interlocutor:42","phx_join",{"bot_id":"b"}]"#.utf8))
        let heartbeat = PhoenixMessage(
            joinRef: nil, ref: "7", topic: "phoenix", event: "heartbeat", payload: .emptyObject)
        #expect(
            try PhoenixSerializer.jsonV2.encode(heartbeat) == .text(Array(#"[null,"7","phoenix","heartbeat",{}]"#.utf8))
        )
    }

    @Test func jsonV1EncodesTheObjectFormAndOmitsAMissingJoinRef() throws {
        let heartbeat = PhoenixMessage(
            joinRef: nil, ref: "2", topic: "phoenix", event: "heartbeat", payload: .emptyObject)
        #expect(
            try PhoenixSerializer.jsonV1.encode(heartbeat)
                == .text(Array(#"{"topic":"phoenix","event":"heartbeat","payload":{},"ref":"2"}"#.utf8)))
        let leave = PhoenixMessage(joinRef: "1", ref: "4", topic: "t", event: "phx_leave", payload: .emptyObject)
        #expect(
            try PhoenixSerializer.jsonV1.encode(leave)
                == .text(Array(#"{"topic":"t","event":"phx_leave","payload":{},"ref":"4","join_ref":"1"}"#.utf8)))
    }

    @Test func jsonRepliesSplitStatusAndResponse() throws {
        let v2 = Array(#"["1","1","interlocutor:6a","phx_reply",{"response":{"control":false},"status":"ok"}]"#.utf8)
        let message = try PhoenixSerializer.jsonV2.decode(.text(v2))
        #expect(message.kind == .reply(status: "ok"))
        #expect(message.payload == .json(#"{"control":false}"#))
        #expect(message.joinRef == "1" && message.ref == "1" && message.topic == "interlocutor:6a")

        let v1 = Array(
            #"{"event":"phx_reply","payload":{"status":"error","response":{"reason":"unmatched topic"}},"ref":"3","topic":"x"}"#
                .utf8)
        let error = try PhoenixSerializer.jsonV1.decode(.text(v1))
        #expect(
            error
                == .reply(
                    joinRef: nil, ref: "3", topic: "x", status: "error",
                    response: .json(#"{"reason":"unmatched topic"}"#)))

        // A reply with no response gets `{}`, as phoenix.js reads it.
        let bare = try PhoenixSerializer.jsonV2.decode(
            .text(Array(#"[null,"9","phoenix","phx_reply",{"status":"ok"}]"#.utf8)))
        #expect(bare.payload == .emptyObject)
    }

    @Test func repliesEncodeWithResponseAndStatus() throws {
        let reply = PhoenixMessage.reply(joinRef: "1", ref: "2", topic: "t", status: "ok", response: .json(#"{"a":1}"#))
        #expect(
            try PhoenixSerializer.jsonV2.encode(reply, from: .server)
                == .text(Array(#"["1","2","t","phx_reply",{"response":{"a":1},"status":"ok"}]"#.utf8)))
    }

    @Test func thePayloadIsASliceOfTheFrameNotACopy() throws {
        let frame = Array(#"[null,null,"t","bot_reply",{"fulfillment":{"actions":[]}}]"#.utf8)
        let message = try PhoenixSerializer.jsonV2.decode(.text(frame))
        guard case .json(let payload) = message.payload else {
            Issue.record("expected a JSON payload")
            return
        }
        #expect(payload.startIndex == 27)
        #expect(payload.endIndex == frame.count - 1)
        let frameBase = frame.withUnsafeBufferPointer { $0.baseAddress }
        let payloadBase = payload.withUnsafeBufferPointer { $0.baseAddress }
        #expect(payloadBase == frameBase.map { $0 + 27 })
    }

    @Test func escapedNamesAreUnescaped() throws {
        let frame = Array(#"["a\"b",null,"t\u00e9\ud83d\ude00\n","e\\v",[1,2]]"#.utf8)
        let message = try PhoenixSerializer.jsonV2.decode(.text(frame))
        #expect(message.joinRef == "a\"b")
        #expect(message.topic == "té😀\n")
        #expect(message.event == "e\\v")
        #expect(message.payload == .json("[1,2]"))
        // And they go back out escaped.
        let reencoded = try PhoenixSerializer.jsonV2.decode(PhoenixSerializer.jsonV2.encode(message))
        #expect(reencoded == message)
    }

    @Test func vsnSelectsTheServerFormat() {
        #expect(PhoenixSerializer.jsonV1.vsn == "1.0.0")
        #expect(PhoenixSerializer.jsonV2.vsn == "2.0.0")
        #expect(PhoenixSerializer.allCases == [.jsonV1, .jsonV2])
    }
}
