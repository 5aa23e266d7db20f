import ClustaarModels
import Foundation
import PhoenixProtocol  // SplitMix64, the seeded generator
import Testing

/// Issue 16: `ClustaarJSON.encode` writes an `InterlocutorReply` by hand. Its bytes must be those
/// `JSONEncoder` writes with the options `encode` has always used (sorted keys, slashes not
/// escaped), for every fixture and for random strings of any Unicode scalars.
@Suite struct InterlocutorReplyEncodingTests {
    /// What `ClustaarJSON.encode` wrote before the hand-written path: the reference.
    static func foundationBytes(_ reply: InterlocutorReply) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(reply))
    }

    /// Quote, backslash, slash, DEL, a combining mark, the line and paragraph separators, BOMs.
    static let specialScalars: [UInt32] = [0x22, 0x5C, 0x2F, 0x7F, 0x301, 0x2028, 0x2029, 0xFEFF, 0xFFFE]

    static let outboundFixtures = [
        "interlocutor_reply_text.json", "interlocutor_reply_custom_event.json", "interlocutor_reply_url_loaded.json",
        "interlocutor_reply_go_to.json", "interlocutor_reply_coordinates.json",
    ]

    @Test(arguments: outboundFixtures) func theFixturesEncodeAsJSONEncoderDoes(_ name: String) throws {
        let reply = try ClustaarJSON.decode(InterlocutorReply.self, from: Fixtures.bytes(name))
        let bytes = try ClustaarJSON.encode(reply)
        let reference = try Self.foundationBytes(reply)
        #expect(String(decoding: bytes, as: UTF8.self) == String(decoding: reference, as: UTF8.self))
        #expect(try ClustaarJSON.decode(InterlocutorReply.self, from: ArraySlice(bytes)) == reply)
    }

    @Test func exactBytesOfATextReply() throws {
        let reply = InterlocutorReply(
            token: "t/ok\"en", body: .text("a\u{0}\u{1F}\u{7F}\\/\n\r\t\u{8}\u{C}é😀"), channel: "web")
        let expected =
            #"{"body":{"message":"a\u0000\u001f\#u{7F}\\/\n\r\t\b\fé😀","type":"text"},"#
            + #""params":{"channel":"web","debug":0,"display":true},"token":"t/ok\"en"}"#
        #expect(String(decoding: try ClustaarJSON.encode(reply), as: UTF8.self) == expected)
        #expect(try ClustaarJSON.encode(reply) == Self.foundationBytes(reply))
    }

    /// 2,000 replies of the hand-written kinds, every string random: ASCII (controls, quotes,
    /// backslashes, slashes, DEL), two-, three- and four-byte UTF-8, combining marks.
    @Test func randomRepliesEncodeAsJSONEncoderDoes() throws {
        var generator = SplitMix64(seed: 0x16A)
        func scalar() -> Unicode.Scalar {
            let value: UInt32
            switch Int.random(in: 0..<10, using: &generator) {
            case 0..<4: value = UInt32.random(in: 0..<0x80, using: &generator)
            case 4: value = UInt32.random(in: 0..<0x20, using: &generator)
            case 5: value = Self.specialScalars[Int.random(in: 0..<Self.specialScalars.count, using: &generator)]
            case 6: value = UInt32.random(in: 0x80..<0x800, using: &generator)
            case 7: value = UInt32.random(in: 0x800..<0xD800, using: &generator)
            case 8: value = UInt32.random(in: 0xE000..<0x10000, using: &generator)
            default: value = UInt32.random(in: 0x10000...0x10FFFF, using: &generator)
            }
            return Unicode.Scalar(value) ?? "?"
        }
        func string() -> String {
            var text = String.UnicodeScalarView()
            for _ in 0..<Int.random(in: 0...24, using: &generator) { text.append(scalar()) }
            return String(text)
        }
        for round in 0..<2000 {
            let body: InterlocutorReplyBody =
                switch round % 3 {
                case 0: .text(string())
                case 1: .customEvent(name: string())
                default: .urlLoaded(url: string())
                }
            let reply = InterlocutorReply(
                token: string(),
                params: InterlocutorReplyParams(
                    debug: Bool.random(using: &generator), display: Bool.random(using: &generator),
                    channel: Bool.random(using: &generator) ? string() : nil),
                body: body)
            let bytes = try ClustaarJSON.encode(reply)
            let reference = try Self.foundationBytes(reply)
            guard bytes == reference else {
                Issue.record(
                    "round \(round): \(String(decoding: bytes, as: UTF8.self)) != \(String(decoding: reference, as: UTF8.self))"
                )
                return
            }
        }
    }

    /// The join params are written by hand too: 2,000 random ones (every optional present or
    /// not, the same random strings) give `JSONEncoder`'s bytes.
    @Test func randomJoinParamsEncodeAsJSONEncoderDoes() throws {
        var generator = SplitMix64(seed: 0x16D)
        func string() -> String {
            var text = String.UnicodeScalarView()
            for _ in 0..<Int.random(in: 0...24, using: &generator) {
                let value: UInt32 =
                    switch Int.random(in: 0..<4, using: &generator) {
                    case 0: UInt32.random(in: 0..<0x80, using: &generator)
                    case 1: Self.specialScalars[Int.random(in: 0..<Self.specialScalars.count, using: &generator)]
                    case 2: UInt32.random(in: 0x80..<0xD800, using: &generator)
                    default: UInt32.random(in: 0x10000...0x10FFFF, using: &generator)
                    }
                text.append(Unicode.Scalar(value) ?? "?")
            }
            return String(text)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        for round in 0..<2000 {
            let params = JoinParams(
                botID: string(), socketToken: string(),
                origin: Bool.random(using: &generator) ? string() : nil,
                isLogged: Bool.random(using: &generator) ? Bool.random(using: &generator) : nil)
            let bytes = try ClustaarJSON.encode(params)
            let reference = Array(try encoder.encode(params))
            guard bytes == reference else {
                Issue.record(
                    "round \(round): \(String(decoding: bytes, as: UTF8.self)) != \(String(decoding: reference, as: UTF8.self))"
                )
                return
            }
        }
        let exact = JoinParams(botID: "b/1", socketToken: "t\"k", origin: "https://x.test/", isLogged: false)
        #expect(
            String(decoding: try ClustaarJSON.encode(exact), as: UTF8.self)
                == #"{"bot_id":"b/1","isLogged":false,"origin":"https://x.test/","socketToken":"t\"k"}"#)
    }
}
