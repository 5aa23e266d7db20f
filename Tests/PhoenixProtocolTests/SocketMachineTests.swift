import PhoenixProtocol
import Testing

@Suite("Socket URL and subprotocols")
struct SocketURLTests {
    @Test func endpointGetsWebsocketPathUserParamsThenVsnLast() throws {
        let configuration = try PhoenixSocketConfiguration(
            endpoint: "https://chat.example/socket",
            params: [PhoenixURLParameter("token", "a b+c"), PhoenixURLParameter("vsn", "ignored?")],
            serializer: .jsonV2
        )
        #expect(
            configuration.url.absoluteString
                == "wss://chat.example/socket/websocket?token=a%20b%2Bc&vsn=2.0.0"
        )
    }

    @Test func httpMapsToWsAndV1SelectsVsn1() throws {
        let configuration = try PhoenixSocketConfiguration(
            endpoint: "http://127.0.0.1:4100/socket/", serializer: .jsonV1)
        #expect(configuration.url.absoluteString == "ws://127.0.0.1:4100/socket/websocket?vsn=1.0.0")
        let existing = try PhoenixSocketConfiguration(endpoint: "ws://h/socket/websocket", serializer: .jsonV2)
        #expect(existing.url.absoluteString == "ws://h/socket/websocket?vsn=2.0.0")
    }

    @Test func authTokenBecomesSubprotocolsWithoutPadding() throws {
        #expect(PhoenixSocketURL.authTokenSubprotocols(token: "abcd") == ["phoenix", "base64url.bearer.phx.YWJjZA"])
        #expect(PhoenixSocketURL.authTokenSubprotocols(token: "abc") == ["phoenix", "base64url.bearer.phx.YWJj"])
        let configuration = try PhoenixSocketConfiguration(endpoint: "wss://h/socket", authToken: "ab")
        #expect(configuration.subprotocols == ["phoenix", "base64url.bearer.phx.YWI"])
        var machine = PhoenixSocketStateMachine(configuration: configuration)
        #expect(
            render(machine.connect(now: .zero))
                == [#"open wss://h/socket/websocket?vsn=2.0.0 ["phoenix", "base64url.bearer.phx.YWI"]"#]
        )
    }

    @Test(arguments: ["ftp://h/socket", "not a url", "ws://", "/relative/socket"])
    func badEndpointsThrow(endpoint: String) {
        #expect(throws: PhoenixSocketError.invalidEndpoint(endpoint)) {
            try PhoenixSocketConfiguration(endpoint: endpoint)
        }
    }
}

@Suite("Socket lifecycle, heartbeat and reconnect")
struct SocketMachineTests {
    @Test func connectOpensThenHeartbeatsEveryInterval() {
        var h = MachineHarness()
        #expect(h.machine.state == .idle)
        #expect(h.connect() == [socketURL])
        #expect(h.machine.state == .connecting(attempt: 0))
        #expect(h.opened() == ["socketOpened"])
        #expect(h.machine.state == .open)
        #expect(h.machine.nextDeadline == PhoenixInstant(offset: .seconds(30)))
        #expect(h.advance(to: .seconds(29)) == [])
        #expect(h.advance(to: .seconds(30)) == [send(#"[null,"1","phoenix","heartbeat",{}]"#)])
        #expect(h.receive(#"[null,"1","phoenix","phx_reply",{"response":{},"status":"ok"}]"#) == [])
        #expect(h.advance(to: .seconds(60)) == [send(#"[null,"2","phoenix","heartbeat",{}]"#)])
    }

    @Test func unansweredHeartbeatClosesWith1000AndReconnects() {
        var h = MachineHarness()
        _ = h.connectAndOpen()
        _ = h.advance(to: .seconds(30))
        #expect(
            h.advance(to: .seconds(60)) == [
                "heartbeatTimedOut", "close 1000 heartbeat timeout",
            ]
        )
        #expect(h.machine.state == .closing)
        #expect(h.closed(1000) == ["socketClosed 1000", "reconnect 1 at 60010ms"])
        #expect(h.machine.reconnectAttempt == 1)
        #expect(h.machine.nextReconnectDeadline == PhoenixInstant(offset: .milliseconds(60_010)))
        #expect(h.advance(to: .milliseconds(60_010)) == [socketURL])
    }

    @Test func closeNeverConfirmedStillReconnectsAfterCloseTimeout() {
        var h = MachineHarness()
        _ = h.connectAndOpen()
        _ = h.advance(to: .seconds(30))
        _ = h.advance(to: .seconds(60))
        #expect(h.machine.nextDeadline == PhoenixInstant(offset: .seconds(65)))
        #expect(
            h.advance(to: .seconds(65)) == [
                "socketClosed nil the transport did not confirm the close", "reconnect 1 at 65010ms",
            ]
        )
    }

    /// A server that never answers heartbeats: every connection dies two intervals after opening,
    /// the machine keeps reconnecting on schedule, and the attempt count resets at each open.
    @Test func serverThatNeverAnswersHeartbeats() {
        var h = MachineHarness()
        _ = h.connectAndOpen()
        var log: [String] = []
        for _ in 0..<3 {
            log += h.advanceToNextDeadline()  // heartbeat sent
            log += h.advanceToNextDeadline()  // unanswered: timeout
            log += h.closed(1000)
            log += h.advanceToNextDeadline()  // reconnect
            log += h.opened()
        }
        #expect(
            log == [
                send(#"[null,"1","phoenix","heartbeat",{}]"#), "heartbeatTimedOut", "close 1000 heartbeat timeout",
                "socketClosed 1000", "reconnect 1 at 60010ms", socketURL, "socketOpened",
                send(#"[null,"2","phoenix","heartbeat",{}]"#), "heartbeatTimedOut", "close 1000 heartbeat timeout",
                "socketClosed 1000", "reconnect 1 at 120020ms", socketURL, "socketOpened",
                send(#"[null,"3","phoenix","heartbeat",{}]"#), "heartbeatTimedOut", "close 1000 heartbeat timeout",
                "socketClosed 1000", "reconnect 1 at 180030ms", socketURL, "socketOpened",
            ]
        )
    }

    @Test(arguments: [UInt16(1000), 1001, 1006, 1012])
    func defaultPolicyReconnectsAfterServerClose(code: UInt16) {
        var h = MachineHarness()
        _ = h.connectAndOpen()
        #expect(h.closed(code, "bye") == ["socketClosed \(code) bye", "reconnect 1 at 10ms"])
        #expect(h.machine.state == .waitingToReconnect(attempt: 1, at: PhoenixInstant(offset: .milliseconds(10))))
    }

    @Test func abnormalDropWithoutCloseFrameReconnects() {
        var h = MachineHarness()
        _ = h.connectAndOpen()
        #expect(h.failed("connection reset") == ["socketClosed nil connection reset", "reconnect 1 at 10ms"])
    }

    @Test(arguments: [UInt16(1000), 1001, 1006, 1012])
    func policyThatExcludes1000(code: UInt16) {
        var h = MachineHarness { $0.reconnectPolicy.closeCodes = .allExcept([1000]) }
        _ = h.connectAndOpen()
        let expected =
            code == 1000
            ? ["socketClosed 1000", "reconnectAbandoned 0"] : ["socketClosed \(code)", "reconnect 1 at 10ms"]
        #expect(h.closed(code) == expected)
        #expect(
            h.machine.state
                == (code == 1000 ? .closed : .waitingToReconnect(attempt: 1, at: h.now.advanced(by: .milliseconds(10))))
        )
    }

    @Test func userDisconnectNeverReconnects() {
        var h = MachineHarness()
        _ = h.connectAndOpen()
        #expect(h.disconnect() == ["close 1000"])
        #expect(h.machine.state == .closing)
        #expect(h.closed(1000) == ["socketClosed 1000"])
        #expect(h.machine.state == .closed)
        #expect(h.machine.nextDeadline == nil)
        #expect(h.connect() == [socketURL])
    }

    @Test func reconnectDelaysFollowTheReferenceScheduleAndResetAfterOpen() {
        var h = MachineHarness()
        _ = h.connect()
        var waits: [Duration] = []
        var attempts: [Int] = []
        for _ in 0..<11 {
            let failedAt = h.now
            _ = h.failed("refused")
            guard case .waitingToReconnect(let attempt, let at) = h.machine.state else { break }
            attempts.append(attempt)
            waits.append(failedAt.duration(to: at))
            #expect(h.advanceToNextDeadline() == [socketURL])
        }
        #expect(waits == [10, 50, 100, 150, 200, 250, 500, 1000, 2000, 5000, 5000].map { .milliseconds($0) })
        #expect(attempts == Array(1...11))
        #expect(h.machine.reconnectAttempt == 11)
        #expect(h.opened() == ["socketOpened"])
        #expect(h.machine.reconnectAttempt == 0)
        #expect(h.closed(1001) == ["socketClosed 1001", "reconnect 1 at \(ms(h.now.advanced(by: .milliseconds(10))))"])
    }

    @Test func maxAttemptsGivesUp() {
        var h = MachineHarness { $0.reconnectPolicy.maxAttempts = 2 }
        _ = h.connect()
        #expect(h.failed("refused") == ["socketClosed nil refused", "reconnect 1 at 10ms"])
        _ = h.advanceToNextDeadline()
        #expect(h.failed("refused") == ["socketClosed nil refused", "reconnect 2 at 60ms"])
        _ = h.advanceToNextDeadline()
        #expect(h.failed("refused") == ["socketClosed nil refused", "reconnectAbandoned 2"])
        #expect(h.machine.state == .closed)
        #expect(h.machine.nextDeadline == nil)
    }

    @Test func reconnectNowSkipsTheWait() {
        var h = MachineHarness { $0.reconnectPolicy.delays = [.seconds(60)] }
        _ = h.connectAndOpen()
        _ = h.closed(1012, "restart")
        #expect(h.machine.nextReconnectDeadline == PhoenixInstant(offset: .seconds(60)))
        #expect(h.reconnectNow() == [socketURL])
        #expect(h.machine.state == .connecting(attempt: 1))
        #expect(h.machine.nextDeadline == nil)
    }

    @Test func jitterIsDeterministicAndBounded() {
        func schedule(seed: UInt64) -> [Duration] {
            var h = MachineHarness {
                $0.reconnectPolicy = PhoenixReconnectPolicy(
                    delays: [.seconds(1)],
                    jitter: 0.5,
                    jitterSeed: seed
                )
            }
            _ = h.connect()
            var waits: [Duration] = []
            for _ in 0..<8 {
                _ = h.failed("refused")
                guard let at = h.machine.nextReconnectDeadline else { return waits }
                waits.append(at.offset - h.now.offset)
                _ = h.advanceToNextDeadline()
            }
            return waits
        }
        let first = schedule(seed: 42)
        #expect(first == schedule(seed: 42))
        #expect(first != schedule(seed: 43))
        #expect(first.count == 8)
        #expect(first.allSatisfy { $0 >= .milliseconds(500) && $0 <= .milliseconds(1500) })
        #expect(Set(first).count > 1)
    }

    @Test func inputsInTheWrongStateAreIgnored() {
        var h = MachineHarness()
        #expect(h.opened() == [])
        #expect(h.receive(#"[null,null,"t","e",{}]"#) == [])
        #expect(h.closed(1000) == [])
        #expect(h.advance(to: .seconds(100)) == [])
        #expect(h.reconnectNow() == [])
        _ = h.connect()
        #expect(h.connect() == [])
        #expect(h.receive(#"[null,null,"t","e",{}]"#) == [])
        #expect(h.machine.droppedMessageCount == 2)
    }

    /// Zero intervals and timeouts set by a caller must not make `timerFired` spin.
    @Test func zeroTimeoutsDoNotLoop() throws {
        var h = MachineHarness {
            $0.heartbeatInterval = .zero
            $0.rejoinDelays = [.zero]
            $0.closeTimeout = .zero
            $0.reconnectPolicy.delays = []
        }
        _ = h.connectAndOpen()
        _ = try h.join("room:a", options: PhoenixChannelOptions(joinTimeout: .zero))
        #expect(
            h.advance(to: .milliseconds(1)) == [
                send(#"[null,"2","phoenix","heartbeat",{}]"#),
                send(#"["1","3","room:a","phx_leave",{}]"#), "joinFailed room:a timeout retry 1ms",
                send(#"["4","4","room:a","phx_join",{}]"#),
            ]
        )
    }

    @Test func undecodableFrameIsReportedAndTheSocketGoesOn() {
        var h = MachineHarness()
        _ = h.connectAndOpen()
        #expect(h.receive("not json") == ["decodeFailed"])
        #expect(h.receive(frame: .text([0xFF, 0xFE])) == ["decodeFailed"])
        #expect(h.machine.state == .open)
    }
}
