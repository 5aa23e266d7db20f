import PhoenixProtocol
import Testing

/// What the machine says about a lost connection: the pushes in flight and the channels carry
/// the close code and reason of the connection that ended, or the heartbeat that went unanswered.
@Suite("Connection loss causes")
struct ConnectionLossTests {
    static let topic = "room:a"

    /// Open, joined, one push in flight (ref 2, waiting longer than two heartbeat intervals):
    /// the push's id.
    static func joinedWithAPushInFlight(_ machine: inout PhoenixSocketStateMachine) throws -> PhoenixPushID {
        _ = machine.connect(now: .zero)
        _ = machine.transportOpened(now: .zero)
        _ = try machine.join(topic: topic, params: .emptyObject, now: .zero)
        _ = machine.frameReceived(
            .text(Array(#"["1","1","room:a","phx_reply",{"response":{},"status":"ok"}]"#.utf8)), now: .zero)
        return try machine.push(topic: topic, event: "say", payload: .emptyObject, timeout: .seconds(120), now: .zero)
            .id
    }

    static func makeMachine() throws -> PhoenixSocketStateMachine {
        PhoenixSocketStateMachine(configuration: try PhoenixSocketConfiguration(endpoint: "ws://chat.example/socket"))
    }

    @Test func aCloseFrameGivesItsCodeAndReason() throws {
        var machine = try Self.makeMachine()
        let id = try Self.joinedWithAPushInFlight(&machine)
        let loss = PhoenixConnectionLoss.closed(code: 1011, reason: "boom")
        let actions = machine.transportClosed(code: 1011, reason: "boom", now: .zero)
        #expect(
            Array(actions.prefix(3)) == [
                .completePush(id, .cancelled(.connectionLost(loss))),
                .emit(.channelErrored(topic: Self.topic, reason: .connectionLost(loss), rejoinAt: nil)),
                .emit(.socketClosed(code: 1011, reason: "boom")),
            ])
    }

    @Test func aFailedTransportGivesNoCodeAndItsText() throws {
        var machine = try Self.makeMachine()
        let id = try Self.joinedWithAPushInFlight(&machine)
        let actions = machine.transportFailed("connection reset by peer", now: .zero)
        #expect(
            actions.first
                == .completePush(
                    id, .cancelled(.connectionLost(.closed(code: nil, reason: "connection reset by peer")))))
    }

    @Test func anUnansweredHeartbeatSaysSo() throws {
        var machine = try Self.makeMachine()
        let id = try Self.joinedWithAPushInFlight(&machine)
        _ = machine.timerFired(now: PhoenixInstant(offset: .seconds(30)))  // the heartbeat goes out
        let actions = machine.timerFired(now: PhoenixInstant(offset: .seconds(60)))
        #expect(
            actions == [
                .emit(.heartbeatTimedOut), .closeTransport(code: 1000, reason: "heartbeat timeout"),
                .completePush(id, .cancelled(.connectionLost(.heartbeatTimedOut))),
                .emit(.channelErrored(topic: Self.topic, reason: .connectionLost(.heartbeatTimedOut), rejoinAt: nil)),
            ])
    }

    @Test func lossesDescribeThemselves() {
        #expect(PhoenixConnectionLoss.closed(code: 1011, reason: "boom").description == "closed with code 1011: boom")
        #expect(PhoenixConnectionLoss.closed(code: 1000, reason: "").description == "closed with code 1000")
        #expect(
            PhoenixConnectionLoss.closed(code: nil, reason: "reset").description
                == "closed without a close frame: reset")
        #expect(PhoenixConnectionLoss.closed(code: nil, reason: "").description == "closed without a close frame")
        #expect(PhoenixConnectionLoss.heartbeatTimedOut.description == "no answer to a heartbeat")
    }
}

/// `PhoenixPayload.logText`: what a log line shows of a payload.
@Suite("Payload log text")
struct PayloadLogTextTests {
    @Test func jsonIsItsText() {
        #expect(PhoenixPayload.emptyObject.logText() == "{}")
        #expect(PhoenixPayload.json(#"{"reason":"unauthorized"}"#).logText() == #"{"reason":"unauthorized"}"#)
    }

    @Test func binaryIsItsSize() {
        #expect(PhoenixPayload.binary([1, 2, 3, 0xFF]).logText() == "<binary, 4 bytes>")
    }

    @Test func longTextIsCutWithItsLength() {
        let payload = PhoenixPayload.json(#"{"text":"abcdefghij"}"#)
        #expect(payload.logText(limit: 12) == #"{"text":"abc… (21 bytes)"#)
        #expect(payload.logText(limit: 21) == #"{"text":"abcdefghij"}"#)
        #expect(payload.logText(limit: 0) == "… (21 bytes)")
    }

    @Test func theCutNeverSplitsACharacter() {
        // "é" is two bytes (C3 A9): a cut between them backs up to before it.
        let payload = PhoenixPayload.json(#"["é"]"#)
        #expect(payload.logText(limit: 3) == #"["… (6 bytes)"#)
        #expect(payload.logText(limit: 4) == #"["é… (6 bytes)"#)
    }

    @Test func lineBreaksBecomeSpaces() {
        #expect(PhoenixPayload.json("{\n\t\"a\": 1\r\n}").logText() == #"{  "a": 1  }"#)
    }
}
