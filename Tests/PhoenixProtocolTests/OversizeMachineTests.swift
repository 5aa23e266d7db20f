import PhoenixProtocol
import Testing

private let topic = "room:a"

private func reply(_ joinRef: String, _ ref: String, _ response: String = "{}") -> String {
    #"["\#(joinRef)","\#(ref)","room:a","phx_reply",{"response":\#(response),"status":"ok"}]"#
}

/// `{"x":"aaa…"}` whose push frame (`["1","2","room:a","big",…]`, 33 bytes without the a's) or
/// join frame (38 bytes without them) is exactly `frameSize` bytes.
private func padded(_ count: Int) -> String { #"{"x":""# + String(repeating: "a", count: count) + #""}"# }
private let bigPush = padded(100 - 33)
private let bigJoin = padded(100 - 38)

@Suite("Frames over maxOutboundFrameSize: fail at once, the connection goes on")
struct OversizeMachineTests {
    private func harness() -> MachineHarness {
        MachineHarness { $0.maxOutboundFrameSize = 64 }
    }

    @Test func aPushTooLargeFailsAtOnceAndThePushesAndHeartbeatsBehindItGoOut() throws {
        var h = harness()
        _ = h.connectAndOpen()
        _ = try h.join(topic)
        _ = h.receive(reply("1", "1"))
        let big = try h.push(topic, "big", bigPush)
        // No send, no timer: the push is over now.
        #expect(big.actions == ["\(big.id) cancelled tooLarge(size: 100, limit: 64)"])
        #expect(h.machine.pendingPushCount == 0)
        #expect(h.machine.nextDeadline == PhoenixInstant(offset: .seconds(30)))
        let next = try h.push(topic, "small")
        #expect(next.actions == [send(#"["1","3","room:a","small",{}]"#)])
        #expect(h.receive(reply("1", "3")) == [pushResult(next.id, ok: "{}")])
        #expect(h.advance(to: .seconds(30)) == [send(#"[null,"4","phoenix","heartbeat",{}]"#)])
    }

    @Test func aFrameOfExactlyTheLimitIsSent() throws {
        var h = MachineHarness { $0.maxOutboundFrameSize = 100 }
        _ = h.connectAndOpen()
        _ = try h.join(topic)
        _ = h.receive(reply("1", "1"))
        let push = try h.push(topic, "big", bigPush)
        #expect(push.actions == [send(#"["1","2","room:a","big",\#(bigPush)]"#)])
    }

    @Test func aBufferedPushTooLargeFailsWhenFlushedAfterTheJoinAndTheOthersGoInOrder() throws {
        var h = harness()
        _ = try h.join(topic)
        let first = try h.push(topic, "a")
        let big = try h.push(topic, "big", bigPush)
        let last = try h.push(topic, "c")
        #expect(first.actions == [] && big.actions == [] && last.actions == [])
        #expect(h.connectAndOpen().last == send(#"["1","1","room:a","phx_join",{}]"#))
        #expect(
            h.receive(reply("1", "1")) == [
                joined(topic), send(#"["1","2","room:a","a",{}]"#),
                "\(big.id) cancelled tooLarge(size: 100, limit: 64)", send(#"["1","4","room:a","c",{}]"#),
            ]
        )
        #expect(h.machine.pendingPushCount == 2)
        #expect(h.receive(reply("1", "4")) == [pushResult(last.id, ok: "{}")])
    }

    @Test func aJoinTooLargeIsRefusedAndCreatesNoChannel() throws {
        var h = harness()
        _ = h.connectAndOpen()
        #expect(throws: PhoenixSocketError.tooLarge(size: 100, limit: 64)) { _ = try h.join(topic, bigJoin) }
        #expect(h.machine.channelCount == 0)
        #expect(try h.join(topic) == [send(#"["1","1","room:a","phx_join",{}]"#)])
    }

    @Test func aRejoinWithParamsTooLargeIsRefusedAndTheChannelStaysJoined() throws {
        var h = harness()
        _ = h.connectAndOpen()
        _ = try h.join(topic)
        _ = h.receive(reply("1", "1"))
        #expect(throws: PhoenixSocketError.tooLarge(size: 100, limit: 64)) { _ = try h.rejoin(topic, bigJoin) }
        #expect(h.machine.channelState(topic: topic) == .joined(joinRef: "1"))
        #expect(try h.push(topic, "a").actions == [send(#"["1","2","room:a","a",{}]"#)])
    }

    /// Params refreshed by the provider before a rejoin (`requestJoinParams`) that are too large:
    /// the join is not sent, the channel fails for good with the size, and the socket goes on.
    @Test func refreshedParamsTooLargeFailTheJoinAndTheSocketGoesOn() throws {
        var h = harness()
        _ = try h.join(topic, options: PhoenixChannelOptions(refreshesParams: true))
        _ = h.connectAndOpen()
        _ = h.receive(reply("1", "1"))
        _ = h.closed(1011, "boom")
        let buffered = try h.push(topic, "a")
        _ = h.advanceToNextDeadline()  // the reconnect
        #expect(h.opened() == ["socketOpened", "requestParams room:a"])
        #expect(
            h.provideParams(topic, bigJoin) == [
                "\(buffered.id) cancelled joinFailed", "joinFailed room:a tooLarge(size: 100, limit: 64) retry never",
            ]
        )
        #expect(h.machine.channelCount == 0)
        #expect(h.advance(by: .seconds(30)) == [send(#"[null,"3","phoenix","heartbeat",{}]"#)])
    }
}
