import Foundation
import Testing
import TransportCore

@testable import WebSocketProtocol

@Suite struct UTF8ValidatorTests {
    @Test(
        arguments: [
            ([], true), (Array("plain ascii text!".utf8), true), (Array("κόσμε 😀 €".utf8), true),
            ([0xC0, 0x80], false), ([0xC1, 0xBF], false),  // overlong 2-byte
            ([0xE0, 0x80, 0x80], false),  // overlong 3-byte
            ([0xED, 0xA0, 0x80], false),  // surrogate U+D800
            ([0xF0, 0x80, 0x80, 0x80], false),  // overlong 4-byte
            ([0xF4, 0x90, 0x80, 0x80], false),  // above U+10FFFF
            ([0xF5, 0x80, 0x80, 0x80], false), ([0xFF], false), ([0x80], false),
            ([0xEF, 0xBF, 0xBF], true), ([0xF4, 0x8F, 0xBF, 0xBF], true),
            ([0xE2, 0x82], false),  // truncated
        ] as [([UInt8], Bool)])
    func wholeTexts(bytes: [UInt8], valid: Bool) {
        #expect(UTF8Validator.isValid(bytes) == valid)
    }

    @Test func agreesWithTheStandardLibraryOnPseudoRandomInputSplitAnywhere() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 33
        }
        let alphabet: [UInt8] = [
            0x41, 0x7F, 0x80, 0xBF, 0xC2, 0xDF, 0xE0, 0xA0, 0xED, 0x9F, 0xF0, 0x90, 0xF4, 0x8F, 0xC0,
        ]
        for _ in 0..<3000 {
            let bytes = (0..<Int(next() % 12)).map { _ in alphabet[Int(next() % UInt64(alphabet.count))] }
            let expected = String(validating: bytes, as: UTF8.self) != nil
            let split = bytes.isEmpty ? 0 : Int(next() % UInt64(bytes.count))
            var validator = UTF8Validator()
            let valid =
                validator.validate(Array(bytes[..<split])) && validator.validate(Array(bytes[split...]))
                && validator.isComplete
            #expect(valid == expected, "\(bytes.map { String($0, radix: 16) }) split at \(split)")
        }
    }

    @Test func failsAtTheFirstInvalidPieceWithoutWaitingForTheEnd() {
        var validator = UTF8Validator()
        let firstPiece = validator.validate([0x68, 0x69, 0xCE])
        #expect(firstPiece)
        let secondPiece = validator.validate([0x41])  // a continuation byte was due
        #expect(!secondPiece)
    }
}

@Suite struct HandshakeTests {
    static let target = try! HTTPUpgradeHandshake.Target(
        url: URL(string: "ws://example.com:8080/socket/websocket?vsn=2.0.0")!)

    @Test func acceptValueOfTheRFCSample() {
        #expect(HTTPUpgradeHandshake.acceptValue(forKey: "dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }

    @Test func freshKeysAre16RandomBytes() {
        let key = HTTPUpgradeHandshake.makeKey()
        #expect(Data(base64Encoded: key)?.count == 16)
        #expect(key != HTTPUpgradeHandshake.makeKey())
    }

    @Test func requestBytes() throws {
        let handshake = try HTTPUpgradeHandshake(
            target: Self.target, key: "dGhlIHNhbXBsZSBub25jZQ==", subprotocols: ["chat.v2", "chat.v1"],
            headers: [HTTPHeader("X-Token", "abc")])
        let expected =
            "GET /socket/websocket?vsn=2.0.0 HTTP/1.1\r\nHost: example.com:8080\r\nUpgrade: websocket\r\n"
            + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
            + "Sec-WebSocket-Protocol: chat.v2, chat.v1\r\nX-Token: abc\r\n\r\n"
        #expect(String(decoding: handshake.requestBytes, as: UTF8.self) == expected)
    }

    @Test func targetsOfIPv6AndDefaultPortURLs() throws {
        let ipv6 = try HTTPUpgradeHandshake.Target(url: URL(string: "ws://[::1]:9001")!)
        #expect(ipv6.host == "::1")
        #expect(ipv6.hostHeader == "[::1]:9001")
        #expect(ipv6.requestTarget == "/")
        let plain = try HTTPUpgradeHandshake.Target(url: URL(string: "ws://localhost/chat")!)
        #expect(plain.port == 80)
        #expect(plain.hostHeader == "localhost")
    }

    @Test func wssDefaultsToPort443AndLeavesItOutOfTheHostHeader() throws {
        let secure = try HTTPUpgradeHandshake.Target(url: URL(string: "wss://example.com/socket?vsn=2")!)
        #expect(secure.usesTLS)
        #expect(secure.port == 443)
        #expect(secure.hostHeader == "example.com")
        #expect(secure.requestTarget == "/socket?vsn=2")
        let other = try HTTPUpgradeHandshake.Target(url: URL(string: "wss://[::1]:8443/")!)
        #expect(other.host == "::1")
        #expect(other.hostHeader == "[::1]:8443")
        #expect(
            try HTTPUpgradeHandshake.Target(url: URL(string: "ws://example.com:443/")!).hostHeader == "example.com:443")
    }

    @Test(arguments: [
        HTTPHeader("Bad Name", "x"), HTTPHeader("X-Injected", "a\r\nEvil: 1"), HTTPHeader("Sec-WebSocket-Key", "k"),
        HTTPHeader("host", "other"),
    ])
    func unsafeOrReservedHeadersAreRefused(header: HTTPHeader) {
        #expect(throws: TransportError.self) {
            try HTTPUpgradeHandshake(target: Self.target, subprotocols: [], headers: [header])
        }
    }

    static func response(_ text: String) throws -> HTTPResponseHead {
        var parser = HTTPResponseParser()
        let bytes = Array(text.utf8)
        let result = try bytes.withUnsafeBytes { try parser.append($0) }
        return try #require(result).0
    }

    static func handshake(subprotocols: [String] = []) throws -> HTTPUpgradeHandshake {
        try HTTPUpgradeHandshake(
            target: target, key: "dGhlIHNhbXBsZSBub25jZQ==", subprotocols: subprotocols, headers: [])
    }

    static let goodHead =
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"

    @Test func aGoodAnswerWithTheChosenSubprotocol() throws {
        let head = try Self.response(Self.goodHead + "Sec-WebSocket-Protocol: chat.v1\r\n\r\n")
        #expect(try Self.handshake(subprotocols: ["chat.v2", "chat.v1"]).validate(head) == "chat.v1")
    }

    @Test func theParserHandsBackTheBytesAfterTheHead() throws {
        var parser = HTTPResponseParser()
        let bytes = Array((Self.goodHead + "\r\n").utf8) + [0x81, 0x00]
        var result: (HTTPResponseHead, [UInt8])?
        for byte in bytes where result == nil {
            result = try [byte].withUnsafeBytes { try parser.append($0) }
        }
        // The frame bytes came after the head was complete, so they were not consumed yet.
        #expect(result?.1 == [])
        var whole = HTTPResponseParser()
        let all = try bytes.withUnsafeBytes { try whole.append($0) }
        #expect(all?.1 == [0x81, 0x00])
    }

    @Test(arguments: [
        ("HTTP/1.1 403 Forbidden\r\n\r\n", TransportError.Code.handshakeRejected(status: 403)),
        ("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n\r\n", .handshakeInvalid),
        (goodHead.replacingOccurrences(of: "xOo=", with: "xOp=") + "\r\n", .handshakeInvalid),
        (goodHead + "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n", .handshakeInvalid),
        (goodHead + "Sec-WebSocket-Protocol: other\r\n\r\n", .handshakeInvalid),
    ])
    func badAnswers(text: String, code: TransportError.Code) throws {
        let head = try Self.response(text)
        #expect {
            _ = try Self.handshake(subprotocols: ["chat.v1"]).validate(head)
        } throws: { ($0 as? TransportError)?.code == code }
    }

    @Test func malformedOrHugeHeadsAreRefused() {
        #expect(throws: TransportError.self) { _ = try Self.response("SMTP ready\r\n\r\n") }
        var parser = HTTPResponseParser()
        let junk = [UInt8](repeating: 0x41, count: HTTPResponseParser.maxHeadSize + 1)
        #expect(throws: TransportError.self) { _ = try junk.withUnsafeBytes { try parser.append($0) } }
    }
}
