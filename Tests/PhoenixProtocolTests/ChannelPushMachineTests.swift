import PhoenixProtocol
import Testing

private let topic = "room:a"

private func reply(_ joinRef: String?, _ ref: String, status: String = "ok", _ response: String = "{}") -> String {
    let join = joinRef.map { #""\#($0)""# } ?? "null"
    return #"[\#(join),"\#(ref)","room:a","phx_reply",{"response":\#(response),"status":"\#(status)"}]"#
}

@Suite("Channel pushes: buffering, order, exactly-once completion")
struct ChannelPushMachineTests {
    @Test func pushesWaitForTheJoinThenGoInOrderWithTheJoinRef() throws {
        var h = MachineHarness()
        _ = try h.join(topic)
        let first = try h.push(topic, "a", #"{"n":1}"#)
        let second = try h.push(topic, "b", #"{"n":2}"#)
        #expect(first.actions == [] && second.actions == [])
        #expect(h.machine.pendingPushCount == 2)
        _ = h.connectAndOpen()
        #expect(
            h.receive(reply("1", "1")) == [
                joined(topic), send(#"["1","2","room:a","a",{"n":1}]"#), send(#"["1","3","room:a","b",{"n":2}]"#),
            ]
        )
        #expect(
            h.receive(reply("1", "3", status: "error", #"{"reason":"bad"}"#)) == [
                #"\#(second.id) error {"reason":"bad"}"#
            ]
        )
        #expect(h.receive(reply("1", "2", #"{"ok":1}"#)) == [pushResult(first.id, ok: #"{"ok":1}"#)])
        // A second reply to the same ref completes nothing.
        #expect(h.receive(reply("1", "2")) == [])
        #expect(h.machine.pendingPushCount == 0)
    }

    @Test func fullBufferRejectsTheNextPushAtOnce() throws {
        var h = MachineHarness()
        _ = try h.join(topic, options: PhoenixChannelOptions(pushBufferLimit: 2))
        _ = try h.push(topic, "a")
        _ = try h.push(topic, "b")
        let third = try h.push(topic, "c")
        #expect(third.actions == ["\(third.id) cancelled bufferFull(limit: 2)"])
        #expect(h.machine.pendingPushCount == 2)
        _ = h.connectAndOpen()
        #expect(
            h.receive(reply("1", "1")) == [
                joined(topic), send(#"["1","2","room:a","a",{}]"#), send(#"["1","3","room:a","b",{}]"#),
            ]
        )
    }

    @Test func pushTimesOutOnceAndALateReplyIsDropped() throws {
        var h = MachineHarness()
        _ = h.connectAndOpen()
        _ = try h.join(topic)
        _ = h.receive(reply("1", "1"))
        let push = try h.push(topic, "slow", timeout: .seconds(2))
        #expect(h.machine.nextDeadline == PhoenixInstant(offset: .seconds(2)))
        #expect(h.advance(to: .seconds(2)) == ["\(push.id) timeout"])
        #expect(h.receive(reply("1", "2")) == [])
        #expect(h.machine.pendingPushCount == 0)
    }

    /// The driver keeps a timer armed for an earlier deadline that went away (a push answered)
    /// and fires it early: the machine does nothing, reports its next deadline, and the later
    /// push still times out exactly when due.
    @Test func aTimerFiredBeforeAnyDeadlineChangesNothing() throws {
        var h = MachineHarness()
        _ = h.connectAndOpen()
        _ = try h.join(topic)
        _ = h.receive(reply("1", "1"))
        let answered = try h.push(topic, "quick", timeout: .seconds(2))
        _ = h.advance(to: .seconds(1))
        let slow = try h.push(topic, "slow", timeout: .seconds(5))
        #expect(h.receive(reply("1", "2")) == [pushResult(answered.id, ok: "{}")])
        #expect(h.machine.nextDeadline == PhoenixInstant(offset: .seconds(6)))
        #expect(h.advance(to: .seconds(2)) == [])  // the answered push's old deadline
        #expect(h.advance(to: .zero) == [])  // a clock read before every deadline
        #expect(h.machine.nextDeadline == PhoenixInstant(offset: .seconds(6)))
        #expect(h.machine.pendingPushCount == 1)
        #expect(h.advance(to: .seconds(6) - .nanoseconds(1)) == [])
        #expect(h.advance(to: .seconds(6)) == ["\(slow.id) timeout"])
        #expect(h.machine.nextDeadline == PhoenixInstant(offset: .seconds(30)))  // the heartbeat
    }

    @Test func bufferedPushTimesOutWhileTheChannelCannotJoin() throws {
        var h = MachineHarness()
        _ = try h.join(topic)
        let push = try h.push(topic, "x", timeout: .seconds(10))
        #expect(h.advance(to: .seconds(10)) == ["\(push.id) timeout"])
        _ = h.connectAndOpen()
        #expect(h.receive(reply("1", "1")) == [joined(topic)])
    }

    /// A push sent before the socket dropped may or may not have reached the server: it is
    /// cancelled with `connectionLost` at once and never re-sent. A buffered push survives.
    @Test func inFlightPushIsCancelledOnDropAndNotResent() throws {
        var h = MachineHarness()
        _ = h.connectAndOpen()
        _ = try h.join(topic)
        _ = h.receive(reply("1", "1"))
        let sent = try h.push(topic, "sent")
        #expect(
            h.closed(1006) == [
                "\(sent.id) cancelled connectionLost 1006", "errored room:a connectionLost 1006 rejoin onOpen",
                "socketClosed 1006", "reconnect 1 at 10ms",
            ]
        )
        let buffered = try h.push(topic, "buffered")
        _ = h.advanceToNextDeadline()
        #expect(h.opened() == ["socketOpened", send(#"["3","3","room:a","phx_join",{}]"#)])
        #expect(h.receive(reply("3", "3")) == [joined(topic), send(#"["3","4","room:a","buffered",{}]"#)])
        #expect(h.receive(reply("3", "4")) == [pushResult(buffered.id, ok: "{}")])
    }

    @Test func phxErrorCancelsPushesInFlightAndKeepsBufferedOnes() throws {
        var h = MachineHarness()
        _ = h.connectAndOpen()
        _ = try h.join(topic)
        _ = h.receive(reply("1", "1"))
        let crashing = try h.push(topic, "crash")
        #expect(
            h.receive(#"["1","1","room:a","phx_error",{}]"#) == [
                "\(crashing.id) cancelled channelErrored", "errored room:a serverError {} rejoin 1000ms",
            ]
        )
        let later = try h.push(topic, "later")
        #expect(later.actions == [])
        #expect(h.advance(to: .seconds(1)) == [send(#"["3","3","room:a","phx_join",{}]"#)])
        #expect(h.receive(reply("3", "3")) == [joined(topic), send(#"["3","4","room:a","later",{}]"#)])
    }

    @Test func pushToAnUnknownTopicThrows() {
        var h = MachineHarness()
        #expect(throws: PhoenixSocketError.unknownTopic("nowhere")) { try h.push("nowhere", "x") }
        #expect(h.machine.pendingPushCount == 0)
    }

    @Test func v1PushesAndHeartbeatsCarryNoJoinRefButJoinAndLeaveDo() throws {
        var h = MachineHarness(serializer: .jsonV1)
        _ = h.connectAndOpen()
        #expect(
            try h.join(topic) == [
                send(#"{"topic":"room:a","event":"phx_join","payload":{},"ref":"1","join_ref":"1"}"#)
            ]
        )
        #expect(
            h.receive(#"{"event":"phx_reply","payload":{"response":{},"status":"ok"},"ref":"1","topic":"room:a"}"#)
                == [joined(topic)]
        )
        let push = try h.push(topic, "say", #"{"m":"hi"}"#, timeout: .seconds(60))
        #expect(push.actions == [send(#"{"topic":"room:a","event":"say","payload":{"m":"hi"},"ref":"2"}"#)])
        #expect(
            h.advance(to: .seconds(30)) == [send(#"{"topic":"phoenix","event":"heartbeat","payload":{},"ref":"3"}"#)])
        #expect(
            try h.leave(topic) == [
                send(#"{"topic":"room:a","event":"phx_leave","payload":{},"ref":"4","join_ref":"1"}"#)
            ]
        )
        // v1 servers omit join_ref: phx_error/phx_close carry the join ref as `ref`.
        #expect(
            h.receive(#"{"event":"phx_close","payload":{},"ref":"1","topic":"room:a"}"#) == [
                "\(push.id) cancelled left", "closed room:a left",
            ])
    }

    @Test func v1StaleCloseIsRecognisedByItsRef() throws {
        var h = MachineHarness(serializer: .jsonV1)
        _ = h.connectAndOpen()
        _ = try h.join(topic)
        _ = h.receive(#"{"event":"phx_reply","payload":{"response":{},"status":"ok"},"ref":"1","topic":"room:a"}"#)
        _ = try h.rejoin(topic, "{}")
        _ = h.receive(#"{"event":"phx_reply","payload":{"response":{},"status":"ok"},"ref":"2","topic":"room:a"}"#)
        #expect(h.receive(#"{"event":"phx_close","payload":{},"ref":"1","topic":"room:a"}"#) == [])
        #expect(h.machine.channelState(topic: topic) == .joined(joinRef: "2"))
    }
}
