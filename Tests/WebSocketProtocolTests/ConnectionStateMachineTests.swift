import Testing
import TransportCore

@testable import WebSocketProtocol

/// The pure connection state machine: each rule in, the exact actions out.
@Suite struct ConnectionStateMachineTests {
    typealias Machine = WebSocketConnectionStateMachine

    static func text(_ string: String, fin: Bool = true) -> WebSocketFrame {
        WebSocketFrame(fin: fin, opcode: .text, payload: Array(string.utf8))
    }

    static func continuation(_ bytes: [UInt8], fin: Bool) -> WebSocketFrame {
        WebSocketFrame(fin: fin, opcode: .continuation, payload: bytes)
    }

    static func failure(_ error: WebSocketProtocolError) -> [Machine.Action] {
        [
            .send(.close, [UInt8(error.closeCode >> 8), UInt8(error.closeCode & 0xFF)]),
            .finishInbound(Machine.transportError(for: error)), .startCloseTimer,
        ]
    }

    @Test func pingIsAnsweredWithAPongCarryingItsPayload() {
        var machine = Machine(maxMessageSize: 100)
        #expect(machine.frameReceived(WebSocketFrame(opcode: .ping, payload: [1, 2, 3])) == [.send(.pong, [1, 2, 3])])
        #expect(machine.frameReceived(WebSocketFrame(opcode: .pong, payload: [9])) == [])
    }

    @Test func fragmentsAreReassembledWithControlFramesBetweenThem() {
        var machine = Machine(maxMessageSize: 100)
        let bytes = Array("héllo".utf8)
        #expect(machine.frameReceived(WebSocketFrame(fin: false, opcode: .text, payload: Array(bytes[0..<2]))) == [])
        #expect(machine.frameReceived(WebSocketFrame(opcode: .ping, payload: [7])) == [.send(.pong, [7])])
        #expect(machine.frameReceived(Self.continuation(Array(bytes[2..<4]), fin: false)) == [])
        #expect(machine.frameReceived(Self.continuation(Array(bytes[4...]), fin: true)) == [.deliver(.text("héllo"))])
        let binary = [WebSocketFrame(fin: false, opcode: .binary, payload: [1]), Self.continuation([2, 3], fin: true)]
        #expect(machine.frameReceived(binary[0]) == [])
        #expect(machine.frameReceived(binary[1]) == [.deliver(.binary([1, 2, 3]))])
    }

    @Test func aContinuationWithoutAMessageFailsWith1002() {
        var machine = Machine(maxMessageSize: 100)
        #expect(machine.frameReceived(Self.continuation([1], fin: true)) == Self.failure(.unexpectedContinuation))
        #expect(!machine.canSend)
    }

    @Test func aNewMessageInsideAFragmentedOneFailsWith1002() {
        var machine = Machine(maxMessageSize: 100)
        _ = machine.frameReceived(Self.text("a", fin: false))
        #expect(machine.frameReceived(Self.text("b")) == Self.failure(.expectedContinuation))
    }

    @Test func invalidUTF8FailsFastAtTheFirstBadFragment() {
        var machine = Machine(maxMessageSize: 100)
        #expect(machine.frameReceived(Self.text("ok", fin: false)) == [])
        // 0xED 0xA0 starts a surrogate: invalid before the message is complete.
        #expect(
            machine.frameReceived(Self.continuation([0x61, 0xED, 0xA0], fin: false)) == Self.failure(.invalidUTF8))
    }

    @Test func aTruncatedCharacterAtTheEndOfTextFailsWith1007() {
        var machine = Machine(maxMessageSize: 100)
        #expect(
            machine.frameReceived(WebSocketFrame(opcode: .text, payload: [0x61, 0xC3])) == Self.failure(.invalidUTF8))
    }

    @Test func aCharacterSplitAcrossFragmentsIsValid() {
        var machine = Machine(maxMessageSize: 100)
        #expect(machine.frameReceived(WebSocketFrame(fin: false, opcode: .text, payload: [0xF0, 0x9F])) == [])
        #expect(machine.frameReceived(Self.continuation([0x98, 0x80], fin: true)) == [.deliver(.text("😀"))])
    }

    @Test func messagesOverTheLimitFailWith1009WholeOrInFragments() {
        var whole = Machine(maxMessageSize: 4)
        #expect(
            whole.frameReceived(WebSocketFrame(opcode: .binary, payload: [1, 2, 3, 4, 5]))
                == Self.failure(.messageTooBig(limit: 4)))
        var fragmented = Machine(maxMessageSize: 4)
        #expect(fragmented.frameReceived(WebSocketFrame(fin: false, opcode: .binary, payload: [1, 2, 3])) == [])
        #expect(
            fragmented.frameReceived(Self.continuation([4, 5], fin: true)) == Self.failure(.messageTooBig(limit: 4)))
        var atLimit = Machine(maxMessageSize: 4)
        #expect(
            atLimit.frameReceived(WebSocketFrame(opcode: .binary, payload: [1, 2, 3, 4])) == [
                .deliver(.binary([1, 2, 3, 4]))
            ])
    }

    @Test func theServersCloseIsEchoedDeliveredAndEndsTheInbound() {
        var machine = Machine(maxMessageSize: 100)
        let payload: [UInt8] = [0x0F, 0xA1] + Array("bye".utf8)  // 4001
        #expect(
            machine.frameReceived(WebSocketFrame(opcode: .close, payload: payload)) == [
                .send(.close, [0x0F, 0xA1]), .deliver(.close(code: CloseCode(4001), reason: "bye")),
                .finishInbound(nil), .startCloseTimer,
            ])
        #expect(machine.isClosed)
        #expect(machine.frameReceived(Self.text("late")) == [])
        #expect(machine.endOfStream(midFrame: false) == [.closeSocket])
    }

    @Test func anEmptyCloseIsEchoedEmptyAndDeliveredWithoutACode() {
        var machine = Machine(maxMessageSize: 100)
        #expect(
            machine.frameReceived(WebSocketFrame(opcode: .close)) == [
                .send(.close, []), .deliver(.close(code: nil, reason: "")), .finishInbound(nil), .startCloseTimer,
            ])
    }

    @Test(
        arguments: [
            ([0x03], WebSocketProtocolError.closePayloadTooShort),
            ([0x03, 0xE7], .invalidCloseCode(999)),
            ([0x03, 0xED], .invalidCloseCode(1005)),
            ([0x03, 0xEE], .invalidCloseCode(1006)),
            ([0x13, 0x88], .invalidCloseCode(5000)),
            ([0x03, 0xE8, 0xFF], .invalidUTF8),
        ] as [([UInt8], WebSocketProtocolError)])
    func invalidClosePayloads(payload: [UInt8], expected: WebSocketProtocolError) {
        var machine = Machine(maxMessageSize: 100)
        #expect(machine.frameReceived(WebSocketFrame(opcode: .close, payload: payload)) == Self.failure(expected))
    }

    @Test func ourCloseWaitsForTheServersThenItsTCPClose() {
        var machine = Machine(maxMessageSize: 100)
        #expect(
            machine.closeRequested(code: CloseCode(4000), reason: "done")
                == [.send(.close, [0x0F, 0xA0] + Array("done".utf8)), .startCloseTimer])
        #expect(!machine.canSend)
        #expect(machine.closeRequested(code: .normalClosure, reason: "") == [])
        // Data still in flight from the server is delivered; no pong once our close is out.
        #expect(machine.frameReceived(Self.text("in flight")) == [.deliver(.text("in flight"))])
        #expect(machine.frameReceived(WebSocketFrame(opcode: .ping)) == [])
        #expect(
            machine.frameReceived(WebSocketFrame(opcode: .close, payload: [0x0F, 0xA0]))
                == [.deliver(.close(code: CloseCode(4000), reason: "")), .finishInbound(nil)])
        #expect(machine.closeTimerFired() == [.closeSocket])
    }

    @Test func anUnansweredCloseTimesOut() {
        var machine = Machine(maxMessageSize: 100)
        _ = machine.closeRequested(code: .normalClosure, reason: "")
        #expect(
            machine.closeTimerFired() == [
                .finishInbound(TransportError(.closeTimeout, "the server did not answer our close frame in time")),
                .closeSocket,
            ])
    }

    @Test func codesNotAllowedOnTheWireCloseWithoutACode() {
        var machine = Machine(maxMessageSize: 100)
        #expect(machine.closeRequested(code: .noStatusReceived, reason: "x") == [.send(.close, []), .startCloseTimer])
    }

    @Test func longReasonsAreCutOnACharacterBoundary() {
        let reason = String(repeating: "é", count: 100)  // 200 bytes
        let cut = Machine.truncated(reason)
        #expect(cut.utf8.count == 122)
        #expect(cut == String(repeating: "é", count: 61))
    }

    @Test func endOfStreamWhileOpenIsAConnectionLoss() {
        var machine = Machine(maxMessageSize: 100)
        #expect(
            machine.endOfStream(midFrame: true) == [
                .finishInbound(
                    TransportError(.connectionLost, "the server closed TCP in the middle of a frame (1006)")),
                .closeSocket,
            ])
    }

    @Test func decoderErrorsFailTheConnectionOnce() {
        var machine = Machine(maxMessageSize: 100)
        #expect(machine.decodingFailed(.reservedOpcode(3)) == Self.failure(.reservedOpcode(3)))
        #expect(machine.decodingFailed(.reservedOpcode(3)) == [.closeSocket])
    }
}
