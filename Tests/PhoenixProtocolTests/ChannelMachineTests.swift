import PhoenixProtocol
import Testing

private let topic = "room:a"

private func joinReply(_ ref: String, status: String = "ok", _ response: String = "{}") -> String {
    #"["\#(ref)","\#(ref)","room:a","phx_reply",{"response":\#(response),"status":"\#(status)"}]"#
}

@Suite("Channels: join, leave, close, error, rejoin")
struct ChannelMachineTests {
    @Test func joinBeforeConnectGoesOutOnOpenAndOkReplyJoins() throws {
        var h = MachineHarness()
        #expect(try h.join(topic, #"{"token":"t"}"#) == [])
        #expect(h.machine.channelState(topic: topic) == .waitingForSocket)
        #expect(h.connect() == [socketURL])
        #expect(h.opened() == ["socketOpened", send(#"["1","1","room:a","phx_join",{"token":"t"}]"#)])
        #expect(h.machine.channelState(topic: topic) == .joining(joinRef: "1"))
        #expect(h.receive(joinReply("1", #"{"control":false}"#)) == [joined(topic, #"{"control":false}"#)])
        #expect(h.machine.channelState(topic: topic) == .joined(joinRef: "1"))
    }

    /// The machine reuses the names of recent frames (issue 16): with more long topics than it
    /// keeps, and event names long and short, escaped or not, every message still names its own
    /// topic and event.
    @Test func longTopicsAndEventsKeepTheirNamesWhateverTheMachineReuses() throws {
        var h = MachineHarness()
        _ = h.connectAndOpen()
        let topics = (0..<11).map { "interlocutor:5c8a1f0e9d3b2a0012c4e5f\($0)" }
        for (index, topic) in topics.enumerated() {
            _ = try h.join(topic)
            let ref = "\(index + 1)"
            _ = h.receive(#"["\#(ref)","\#(ref)","\#(topic)","phx_reply",{"response":{},"status":"ok"}]"#)
        }
        let events = ["interlocutor_reply", "bot_reply", #"interlocutor_r\u0065ply"#, "an_event_name_longer_than_15"]
        for round in 0..<3 {
            for (index, topic) in topics.enumerated() {
                let event = events[(index + round) % events.count]
                let expected = event.replacingOccurrences(of: #"\u0065"#, with: "e")
                #expect(
                    h.receive(#"["\#(index + 1)",null,"\#(topic)","\#(event)",{"n":\#(round)}]"#) == [
                        #"message \#(topic) \#(expected) {"n":\#(round)}"#
                    ])
            }
        }
    }

    @Test func joinRejectedByDefaultReportsAndStops() throws {
        var h = MachineHarness()
        _ = h.connectAndOpen()
        _ = try h.join(topic)
        let buffered = try h.push(topic, "msg")
        #expect(buffered.actions == [])
        #expect(
            h.receive(joinReply("1", status: "error", #"{"reason":"unauthorized"}"#)) == [
                #"joinFailed room:a error {"reason":"unauthorized"} retry never"#,
                "\(buffered.id) cancelled joinFailed",
            ]
        )
        #expect(h.machine.channelState(topic: topic) == nil)
        #expect(h.machine.pendingPushCount == 0)
        // Nothing scheduled: no retry loop. (The heartbeat is the only deadline left.)
        #expect(h.machine.nextDeadline == PhoenixInstant(offset: .seconds(30)))
        // The topic can be joined again deliberately.
        #expect(try h.join(topic) == [send(#"["2","2","room:a","phx_join",{}]"#)])
    }

    @Test func joinErrorPolicyRetriesBoundedWithRefreshedParams() throws {
        var h = MachineHarness()
        _ = h.connectAndOpen()
        let options = PhoenixChannelOptions(
            refreshesParams: true,
            joinErrorPolicy: .retry(times: 2, after: .seconds(3))
        )
        #expect(
            try h.join(topic, #"{"token":"old"}"#, options: options) == [
                send(#"["1","1","room:a","phx_join",{"token":"old"}]"#)
            ])
        var log = h.receive(joinReply("1", status: "error", #"{"reason":"unauthorized"}"#))
        log += h.advanceToNextDeadline()
        log += h.provideParams(topic, #"{"token":"new"}"#)
        log += h.receive(joinReply("2", status: "error", #"{"reason":"unauthorized"}"#))
        log += h.advanceToNextDeadline()
        log += h.provideParams(topic, #"{"token":"newer"}"#)
        log += h.receive(joinReply("3", status: "error", #"{"reason":"unauthorized"}"#))
        #expect(
            log == [
                #"joinFailed room:a error {"reason":"unauthorized"} retry 3000ms"#,
                "requestParams room:a",
                send(#"["2","2","room:a","phx_join",{"token":"new"}]"#),
                #"joinFailed room:a error {"reason":"unauthorized"} retry 6000ms"#,
                "requestParams room:a",
                send(#"["3","3","room:a","phx_join",{"token":"newer"}]"#),
                #"joinFailed room:a error {"reason":"unauthorized"} retry never"#,
            ]
        )
        #expect(h.machine.channelState(topic: topic) == nil)
    }

    @Test func paramsThatNeverComeTimeOutLikeAJoin() throws {
        var h = MachineHarness()
        _ = h.connectAndOpen()
        _ = try h.join(topic, options: PhoenixChannelOptions(joinTimeout: .seconds(5), refreshesParams: true))
        _ = h.receive(joinReply("1"))
        #expect(
            h.receive(#"["1","1","room:a","phx_error",{}]"#) == ["errored room:a serverError {} rejoin 1000ms"]
        )
        #expect(h.machine.channelState(topic: topic) == .errored(rejoinAt: PhoenixInstant(offset: .seconds(1))))
        #expect(h.advance(to: .seconds(1)) == ["requestParams room:a"])
        #expect(h.machine.channelState(topic: topic) == .awaitingParams)
        #expect(h.advance(to: .seconds(6)) == ["joinFailed room:a timeout retry 8000ms"])
        #expect(h.advance(to: .seconds(8)) == ["requestParams room:a"])
        #expect(h.provideParams(topic, #"{"n":2}"#) == [send(#"["2","2","room:a","phx_join",{"n":2}]"#)])
        #expect(h.receive(joinReply("2")) == [joined(topic)])
    }

    @Test func joinTimeoutSendsLeaveAndRetriesWithFreshRef() throws {
        var h = MachineHarness()
        _ = h.connectAndOpen()
        _ = try h.join(topic, options: PhoenixChannelOptions(joinTimeout: .seconds(2)))
        #expect(
            h.advance(to: .seconds(2)) == [
                send(#"["1","2","room:a","phx_leave",{}]"#), "joinFailed room:a timeout retry 3000ms",
            ]
        )
        // The late reply to the abandoned join is stale.
        #expect(h.receive(joinReply("1")) == [])
        #expect(h.advance(to: .seconds(3)) == [send(#"["3","3","room:a","phx_join",{}]"#)])
        #expect(h.receive(joinReply("3")) == [joined(topic)])
    }

    /// After `phx_error` the channel rejoins after 1 s; each rejoin that times out waits longer
    /// (2, 5, then 10 s); a successful join resets the schedule.
    @Test func rejoinDelaysGrowOnFailedRejoinsAndResetOnJoin() throws {
        var h = MachineHarness { $0.heartbeatInterval = .seconds(3600) }
        _ = h.connectAndOpen()
        _ = try h.join(topic, options: PhoenixChannelOptions(joinTimeout: .seconds(1)))
        _ = h.receive(joinReply("1"))
        var log = h.receive(#"["1","1","room:a","phx_error",{"reason":"channel_crash"}]"#)
        for _ in 0..<5 {
            log += h.advanceToNextDeadline()  // rejoin
            log += h.advanceToNextDeadline()  // its timeout
        }
        #expect(
            log == [
                #"errored room:a serverError {"reason":"channel_crash"} rejoin 1000ms"#,
                send(#"["2","2","room:a","phx_join",{}]"#),
                send(#"["2","3","room:a","phx_leave",{}]"#), "joinFailed room:a timeout retry 4000ms",
                send(#"["4","4","room:a","phx_join",{}]"#),
                send(#"["4","5","room:a","phx_leave",{}]"#), "joinFailed room:a timeout retry 10000ms",
                send(#"["6","6","room:a","phx_join",{}]"#),
                send(#"["6","7","room:a","phx_leave",{}]"#), "joinFailed room:a timeout retry 21000ms",
                send(#"["8","8","room:a","phx_join",{}]"#),
                send(#"["8","9","room:a","phx_leave",{}]"#), "joinFailed room:a timeout retry 32000ms",
                send(#"["10","10","room:a","phx_join",{}]"#),
                send(#"["10","11","room:a","phx_leave",{}]"#), "joinFailed room:a timeout retry 43000ms",
            ]
        )
        _ = h.advanceToNextDeadline()
        #expect(h.receive(joinReply("12")) == [joined(topic)])
        #expect(
            h.receive(#"["12","12","room:a","phx_error",{}]"#) == ["errored room:a serverError {} rejoin 44000ms"]
        )
    }

    @Test func phxCloseClosesWithoutRejoin() throws {
        var h = MachineHarness()
        _ = h.connectAndOpen()
        _ = try h.join(topic)
        _ = h.receive(joinReply("1"))
        let inFlight = try h.push(topic, "kick")
        #expect(inFlight.actions == [send(#"["1","2","room:a","kick",{}]"#)])
        #expect(
            h.receive(#"["1","1","room:a","phx_close",{}]"#) == [
                "\(inFlight.id) cancelled channelClosed", "closed room:a serverClosed",
            ]
        )
        #expect(h.machine.channelState(topic: topic) == nil)
        #expect(h.machine.nextDeadline == PhoenixInstant(offset: .seconds(30)))
        #expect(throws: PhoenixSocketError.unknownTopic(topic)) { try h.push(topic, "late") }
    }

    @Test func leaveSendsPhxLeaveAndClosesOnReply() throws {
        var h = MachineHarness()
        _ = h.connectAndOpen()
        _ = try h.join(topic)
        _ = h.receive(joinReply("1"))
        let inFlight = try h.push(topic, "first")
        #expect(try h.leave(topic) == [send(#"["1","3","room:a","phx_leave",{}]"#)])
        #expect(h.machine.channelState(topic: topic) == .leaving)
        #expect(throws: PhoenixSocketError.channelLeaving(topic: topic)) { try h.push(topic, "no") }
        // A push sent before the leave still gets its reply.
        #expect(
            h.receive(#"["1","2","room:a","phx_reply",{"response":{},"status":"ok"}]"#) == [
                pushResult(inFlight.id, ok: "{}")
            ]
        )
        #expect(h.receive(#"["1","3","room:a","phx_reply",{"response":{},"status":"ok"}]"#) == ["closed room:a left"])
        // The server's phx_close that follows belongs to no channel any more.
        #expect(h.receive(#"["1","1","room:a","phx_close",{}]"#) == [])
        #expect(h.machine.droppedMessageCount == 1)
    }

    @Test func leaveWithoutReplyClosesAtTimeoutAndLeaveOfUnjoinedClosesAtOnce() throws {
        var h = MachineHarness()
        _ = h.connectAndOpen()
        _ = try h.join(topic, options: PhoenixChannelOptions(joinTimeout: .seconds(4)))
        _ = h.receive(joinReply("1"))
        _ = try h.leave(topic)
        #expect(h.advance(to: .seconds(4)) == ["closed room:a left"])
        _ = try h.join("room:b")
        _ = h.closed(1006)
        let buffered = try h.push("room:b", "x")
        #expect(try h.leave("room:b") == ["\(buffered.id) cancelled left", "closed room:b left"])
        #expect(throws: PhoenixSocketError.unknownTopic("room:b")) { try h.leave("room:b") }
    }

    @Test func secondJoinOnTheSameTopicThrowsAlreadyJoined() throws {
        var h = MachineHarness()
        _ = h.connectAndOpen()
        _ = try h.join(topic)
        #expect(throws: PhoenixSocketError.alreadyJoined(topic: topic)) { try h.join(topic) }
        #expect(throws: PhoenixSocketError.reservedTopic("phoenix")) { try h.join("phoenix") }
    }

    /// `rejoin` replaces the server's channel; the server then closes the old join, and that
    /// `phx_close` (old join ref) must not close the new channel: the duplicate_join transcript.
    @Test func explicitRejoinDropsTheStaleCloseOfTheOldJoin() throws {
        var h = MachineHarness()
        _ = h.connectAndOpen()
        _ = try h.join(topic, #"{"v":1}"#)
        _ = h.receive(joinReply("1"))
        #expect(try h.rejoin(topic, #"{"v":2}"#) == [send(#"["2","2","room:a","phx_join",{"v":2}]"#)])
        #expect(h.receive(joinReply("2")) == [joined(topic)])
        #expect(h.receive(#"["1","1","room:a","phx_close",{}]"#) == [])
        #expect(h.receive(#"["1",null,"room:a","old_event",{}]"#) == [])
        #expect(h.machine.channelState(topic: topic) == .joined(joinRef: "2"))
        #expect(h.receive(#"["2",null,"room:a","new_event",{"a":1}]"#) == [message(topic, "new_event", #"{"a":1}"#)])
        #expect(h.machine.droppedMessageCount == 2)
    }

    @Test func everyChannelRejoinsAtOnceWithFreshRefsWhenTheSocketReopens() throws {
        var h = MachineHarness()
        _ = h.connectAndOpen()
        _ = try h.join("room:a")
        _ = try h.join("room:b")
        _ = try h.join("room:c")
        _ = h.receive(#"["1","1","room:a","phx_reply",{"response":{},"status":"ok"}]"#)
        _ = h.receive(#"["3","3","room:c","phx_reply",{"response":{},"status":"ok"}]"#)
        _ = h.receive(#"["3","3","room:c","phx_error",{}]"#)  // room:c errored, b still joining
        #expect(
            h.closed(1012, "restart") == [
                "errored room:a connectionLost 1012 restart rejoin onOpen",
                "errored room:b connectionLost 1012 restart rejoin onOpen", "socketClosed 1012 restart",
                "reconnect 1 at 10ms",
            ]
        )
        #expect(
            h.advanceToNextDeadline() + h.opened() == [
                socketURL, "socketOpened",
                send(#"["4","4","room:a","phx_join",{}]"#),
                send(#"["5","5","room:b","phx_join",{}]"#),
                send(#"["6","6","room:c","phx_join",{}]"#),
            ]
        )
        // Replies to the joins of the previous connection are stale.
        #expect(h.receive(#"["2","2","room:b","phx_reply",{"response":{},"status":"ok"}]"#) == [])
        #expect(h.receive(#"["5","5","room:b","phx_reply",{"response":{},"status":"ok"}]"#) == [joined("room:b")])
    }

    @Test func transportDropsMidJoin() throws {
        var h = MachineHarness()
        _ = h.connectAndOpen()
        _ = try h.join(topic)
        let buffered = try h.push(topic, "hello", #"{"n":1}"#)
        #expect(
            h.failed("reset") == [
                "errored room:a connectionLost nil reset rejoin onOpen", "socketClosed nil reset",
                "reconnect 1 at 10ms",
            ])
        #expect(h.machine.channelState(topic: topic) == .waitingForSocket)
        // Join timeout of the dead attempt never fires; only the reconnect and the push timeout remain.
        #expect(h.machine.nextDeadline == PhoenixInstant(offset: .milliseconds(10)))
        _ = h.advanceToNextDeadline()
        #expect(h.opened() == ["socketOpened", send(#"["2","2","room:a","phx_join",{}]"#)])
        #expect(
            h.receive(joinReply("2")) == [
                joined(topic), send(#"["2","3","room:a","hello",{"n":1}]"#),
            ]
        )
        #expect(
            h.receive(#"["2","3","room:a","phx_reply",{"response":{"ok":true},"status":"ok"}]"#) == [
                pushResult(buffered.id, ok: #"{"ok":true}"#)
            ]
        )
    }

    @Test func staleAndUnroutableMessagesAreDropped() throws {
        var h = MachineHarness()
        _ = h.connectAndOpen()
        _ = try h.join(topic)
        _ = h.receive(joinReply("1"))
        let before = h.machine.droppedMessageCount
        #expect(h.receive(#"["0",null,"room:a","bot_reply",{}]"#) == [])  // old join ref
        #expect(h.receive(#"[null,"77","room:a","phx_reply",{"response":{},"status":"ok"}]"#) == [])  // unknown ref
        #expect(h.receive(#"[null,"1","room:zzz","phx_reply",{"response":{},"status":"ok"}]"#) == [])  // wrong topic
        #expect(h.receive(#"[null,null,"room:zzz","bot_reply",{}]"#) == [])  // unknown topic
        #expect(h.receive(#"["0","0","room:a","phx_close",{}]"#) == [])  // stale close
        #expect(h.machine.droppedMessageCount == before + 5)
        #expect(h.machine.channelState(topic: topic) == .joined(joinRef: "1"))
        #expect(
            h.receive(#"[null,null,"room:a","broadcast",{"b":true}]"#) == [message(topic, "broadcast", #"{"b":true}"#)])
        #expect(h.receive(#"["1",null,"room:a","bot_reply",{"x":1}]"#) == [message(topic, "bot_reply", #"{"x":1}"#)])
    }

    @Test func disconnectClosesChannelsAndCancelsPushes() throws {
        var h = MachineHarness()
        _ = h.connectAndOpen()
        _ = try h.join("room:a")
        _ = try h.join("room:b")
        _ = h.receive(joinReply("1"))
        let sent = try h.push("room:a", "x")
        let buffered = try h.push("room:b", "y")
        #expect(
            h.disconnect() == [
                "\(sent.id) cancelled disconnected", "closed room:a disconnected",
                "\(buffered.id) cancelled disconnected", "closed room:b disconnected", "close 1000",
            ]
        )
        #expect(h.machine.channelCount == 0)
        #expect(h.machine.pendingPushCount == 0)
    }
}
