import Foundation
import Testing
import TransportCore

@testable import TransportLWS

@Suite struct LWSOutboundQueueTests {
    @Test func cutsLargeMessagesIntoFragmentsAndCountsBytes() {
        var queue = LWSOutboundQueue(fragmentSize: 4)
        queue.append(.message(isText: true, bytes: Array("abcdefghij".utf8)))
        queue.append(.message(isText: false, bytes: [1, 2]))
        queue.append(.close(code: CloseCode(4000), reason: Array("ok".utf8)))
        #expect(queue.queuedBytes == 10 + 2 + 4)
        var frames: [LWSOutboundQueue.Frame] = []
        while let frame = queue.nextFrame() { frames.append(frame) }
        #expect(
            frames == [
                .init(kind: .text, payload: Array("abcd".utf8)[...], isFinal: false),
                .init(kind: .continuation, payload: Array("efgh".utf8)[...], isFinal: false),
                .init(kind: .continuation, payload: Array("ij".utf8)[...], isFinal: true),
                .init(kind: .binary, payload: [1, 2][...], isFinal: true),
                .init(kind: .close, payload: [0x0f, 0xa0, UInt8(ascii: "o"), UInt8(ascii: "k")][...], isFinal: true),
            ]
        )
        #expect(queue.queuedBytes == 0)
        #expect(queue.isEmpty)
    }

    @Test func emptyMessageIsOneFinalFrame() {
        var queue = LWSOutboundQueue(fragmentSize: 4)
        queue.append(.message(isText: true, bytes: []))
        #expect(queue.nextFrame() == .init(kind: .text, payload: [][...], isFinal: true))
        #expect(queue.nextFrame() == nil)
    }

    @Test func acceptsUpToTheLimitOrOneMessageWhenEmpty() {
        var queue = LWSOutboundQueue(fragmentSize: 4)
        #expect(queue.canAccept(byteCount: 100, limit: 10))
        queue.append(.message(isText: false, bytes: Array(repeating: 0, count: 6)))
        #expect(queue.canAccept(byteCount: 4, limit: 10))
        #expect(!queue.canAccept(byteCount: 5, limit: 10))
    }
}

@Suite struct LWSInboundAssemblerTests {
    func feed(
        _ assembler: inout LWSInboundAssembler, _ bytes: [UInt8], binary: Bool = false, remaining: Int, final: Bool
    )
        -> LWSInboundAssembler.Outcome
    {
        bytes.withUnsafeBytes {
            assembler.receive($0, isBinary: binary, remainingInFrame: remaining, isFinalFragment: final)
        }
    }

    @Test func joinsChunksAndFragments() {
        var assembler = LWSInboundAssembler(maxFrameSize: 100, maxMessageSize: 100)
        #expect(feed(&assembler, Array("he".utf8), remaining: 1, final: false) == .needMore)
        #expect(feed(&assembler, Array("l".utf8), remaining: 0, final: false) == .needMore)
        #expect(feed(&assembler, Array("lo".utf8), remaining: 0, final: true) == .message(.text("hello")))
        #expect(feed(&assembler, [9], binary: true, remaining: 0, final: true) == .message(.binary([9])))
    }

    @Test func enforcesFrameAndMessageLimits() {
        var frames = LWSInboundAssembler(maxFrameSize: 4, maxMessageSize: 100)
        guard case .tooBig = feed(&frames, [1, 2], binary: true, remaining: 3, final: true) else {
            Issue.record("a 5-byte frame passed a 4-byte limit")
            return
        }
        var messages = LWSInboundAssembler(maxFrameSize: 100, maxMessageSize: 5)
        #expect(feed(&messages, [1, 2, 3], binary: true, remaining: 0, final: false) == .needMore)
        guard case .tooBig = feed(&messages, [4, 5, 6], binary: true, remaining: 0, final: true) else {
            Issue.record("a 6-byte message passed a 5-byte limit")
            return
        }
    }

    @Test func wholeMessagesInOneChunkLeaveNoStateBehind() {
        // The one-chunk path must reset the frame count: three 4-byte frames under a 4-byte limit.
        var assembler = LWSInboundAssembler(maxFrameSize: 4, maxMessageSize: 8)
        #expect(
            feed(&assembler, [1, 2, 3, 4], binary: true, remaining: 0, final: true) == .message(.binary([1, 2, 3, 4])))
        #expect(feed(&assembler, Array("abcd".utf8), remaining: 0, final: true) == .message(.text("abcd")))
        #expect(feed(&assembler, [5, 6], binary: true, remaining: 2, final: false) == .needMore)
        #expect(feed(&assembler, [7, 8], binary: true, remaining: 0, final: false) == .needMore)
        #expect(feed(&assembler, [], binary: true, remaining: 0, final: true) == .message(.binary([5, 6, 7, 8])))
    }

    @Test func rejectsInvalidUTF8Text() {
        var assembler = LWSInboundAssembler(maxFrameSize: 100, maxMessageSize: 100)
        #expect(feed(&assembler, [0xc3, 0x28], remaining: 0, final: true) == .invalidUTF8)
    }
}

@Suite struct LWSConnectFailureMappingTests {
    @Test func mapsLibraryTexts() {
        #expect(
            LWSConnectFailure.error(text: "HS: ws upgrade response not 101", httpStatus: 404, usesTLS: false).code
                == .handshakeRejected(status: 404)
        )
        #expect(
            LWSConnectFailure.error(text: "HS: ACCEPT missing", httpStatus: 101, usesTLS: false).code
                == .handshakeInvalid)
        #expect(LWSConnectFailure.error(text: "connect SYSCALL 104", httpStatus: 0, usesTLS: true).code == .tls)
        // A reset during the TLS handshake may pass; a certificate lws found bad will not.
        #expect(LWSConnectFailure.error(text: "connect SYSCALL 104", httpStatus: 0, usesTLS: true).isPermanent == false)
        let badCertificate = LWSConnectFailure.error(
            text: "server's cert didn't look good, X509_V_ERR = 10: certificate has expired", httpStatus: 0,
            usesTLS: true)
        #expect(badCertificate.code == .tls && badCertificate.isPermanent)
        #expect(LWSConnectFailure.error(text: "Unable to connect", httpStatus: 0, usesTLS: true).code == .connectFailed)
        #expect(
            LWSConnectFailure.error(text: "Unable to connect", httpStatus: 0, usesTLS: false).reason
                == "Unable to connect")
    }
}

@Suite struct LWSTargetTests {
    @Test func parsesURLs() throws {
        let plain = try LWSTarget(
            request: WebSocketRequest(url: URL(string: "ws://example.com/socket/websocket?vsn=2.0.0")!))
        #expect(
            plain
                == LWSTarget(
                    usesTLS: false, address: "example.com", port: 80, path: "/socket/websocket?vsn=2.0.0",
                    hostHeader: "example.com"))
        let secure = try LWSTarget(request: WebSocketRequest(url: URL(string: "wss://[::1]:8443")!))
        #expect(secure == LWSTarget(usesTLS: true, address: "::1", port: 8443, path: "/", hostHeader: "[::1]:8443"))
    }

    @Test func rejectsBadRequests() {
        #expect(throws: TransportError.self) {
            try LWSTarget(request: WebSocketRequest(url: URL(string: "ws://h/")!, subprotocols: ["a b"]))
        }
        #expect(throws: TransportError.self) {
            try LWSTarget(
                request: WebSocketRequest(url: URL(string: "ws://h/")!, limits: WebSocketLimits(maxMessageSize: 0)))
        }
    }

    @Test func truncatesCloseReasonsOnCharacterBoundaries() {
        #expect(LWSSession.truncatedUTF8(String(repeating: "é", count: 70), maxBytes: 123).count == 122)
    }
}
