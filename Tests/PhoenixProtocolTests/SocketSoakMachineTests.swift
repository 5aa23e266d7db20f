import ClustaarTestSupport
import PhoenixProtocol
import Testing

/// The machine, a `AutoReplyPhoenixServer` and a network with latency, run as a discrete-event
/// simulation: time jumps from one event to the next, so a simulated day takes a moment.
private struct Simulation {
    var machine: PhoenixSocketStateMachine
    var server = AutoReplyPhoenixServer()
    var now = PhoenixInstant.zero
    var latency: Duration
    var serverUp = true
    var connected = false
    var inTransit: [(at: PhoenixInstant, frame: PhoenixFrame)] = []
    var completions: [PhoenixPushID: [PhoenixPushResult]] = [:]
    var created: [PhoenixPushID] = []
    var events: [String: Int] = [:]

    init(configuration: PhoenixSocketConfiguration, latency: Duration) {
        machine = PhoenixSocketStateMachine(configuration: configuration)
        self.latency = latency
    }

    mutating func run(_ first: [PhoenixSocketAction]) {
        var queue = first[...]
        while let action = queue.popFirst() {
            var next: [PhoenixSocketAction] = []
            switch action {
            case .openTransport:
                if serverUp {
                    connected = true
                    next = machine.transportOpened(now: now)
                } else {
                    next = machine.transportFailed("connection refused", now: now)
                }
            case .send(let frame):
                guard connected else { break }
                for answer in server.receive(frame) { inTransit.append((now.advanced(by: latency), answer)) }
            case .closeTransport(let code, let reason):
                connected = false
                inTransit.removeAll()
                next = machine.transportClosed(code: code, reason: reason, now: now)
            case .emit(let event):
                events[label(event), default: 0] += 1
            case .completePush(let id, let result):
                completions[id, default: []].append(result)
            case .requestJoinParams:
                break
            }
            queue.append(contentsOf: next)
        }
    }

    /// The server goes away with 1012 and stays down for `downtime`.
    mutating func serverRestarts() {
        server.restart()
        serverUp = false
        connected = false
        inTransit.removeAll()
        run(machine.transportClosed(code: 1012, reason: "service restart", now: now))
    }

    mutating func deliverDue() {
        while let first = inTransit.first, first.at <= now {
            inTransit.removeFirst()
            if connected { run(machine.frameReceived(first.frame, now: now)) }
        }
    }

    func label(_ event: PhoenixSocketEvent) -> String {
        switch event {
        case .socketOpened: "socketOpened"
        case .socketClosed: "socketClosed"
        case .heartbeatTimedOut: "heartbeatTimedOut"
        case .reconnectScheduled: "reconnectScheduled"
        case .reconnectAbandoned: "reconnectAbandoned"
        case .channelJoined: "joined"
        case .channelJoinFailed: "joinFailed"
        case .channelClosed: "closed"
        case .channelErrored: "errored"
        case .message: "message"
        case .decodeFailed: "decodeFailed"
        }
    }
}

@Suite("Soak: long sessions, many channels, random inputs")
struct SocketSoakMachineTests {
    /// 24 hours: heartbeats every 30 s, a push every 5 s, a server restart (1012, 3 s down) every
    /// hour at +1.5 s, 2 s network latency. Ends with every channel joined, and every push
    /// completed exactly once: ok, or `connectionLost` for the one in flight at each restart.
    @Test func twentyFourHoursWithHourlyServerRestarts() throws {
        let configuration = try PhoenixSocketConfiguration(endpoint: "ws://chat.example/socket")
        var sim = Simulation(configuration: configuration, latency: .seconds(2))
        let topics = (0..<20).map { "interlocutor:\($0)" }
        for topic in topics { _ = try sim.machine.join(topic: topic, now: sim.now) }
        sim.run(sim.machine.connect(now: sim.now))

        let day = Duration.seconds(86_400)
        let end = PhoenixInstant(offset: day + .seconds(60))
        var nextPush = PhoenixInstant(offset: .seconds(5))
        var nextRestart = PhoenixInstant(offset: .seconds(3600) + .milliseconds(1500))
        var serverBackAt: PhoenixInstant?
        var pushCount = 0
        while sim.now < end {
            var candidates = [end, nextRestart]
            if nextPush.offset <= day { candidates.append(nextPush) }
            if let deadline = sim.machine.nextDeadline { candidates.append(deadline) }
            if let delivery = sim.inTransit.first?.at { candidates.append(delivery) }
            if let serverBackAt { candidates.append(serverBackAt) }
            guard let next = candidates.min() else { break }
            sim.now = max(sim.now, next)

            sim.deliverDue()
            if let back = serverBackAt, back <= sim.now {
                sim.serverUp = true
                serverBackAt = nil
            }
            if nextRestart <= sim.now {
                sim.serverRestarts()
                serverBackAt = sim.now.advanced(by: .seconds(3))
                nextRestart = nextRestart.advanced(by: .seconds(3600))
            }
            if nextPush <= sim.now && nextPush.offset <= day {
                let topic = topics[pushCount % topics.count]
                let (id, actions) = try sim.machine.push(
                    topic: topic,
                    event: "interlocutor_reply",
                    payload: .json(#"{"n":\#(pushCount)}"#),
                    now: sim.now
                )
                sim.created.append(id)
                sim.run(actions)
                pushCount += 1
                nextPush = nextPush.advanced(by: .seconds(5))
            }
            if let deadline = sim.machine.nextDeadline, deadline <= sim.now {
                sim.run(sim.machine.timerFired(now: sim.now))
            }
        }

        #expect(sim.machine.state == .open)
        for topic in topics { #expect(sim.machine.channelState(topic: topic).map(isJoined) == true) }
        #expect(pushCount == 17_280)
        #expect(sim.created.count == 17_280)
        #expect(sim.machine.pendingPushCount == 0)
        let completedOnce = sim.created.filter { sim.completions[$0]?.count == 1 }
        #expect(completedOnce.count == sim.created.count)
        #expect(sim.completions.count == sim.created.count)
        let results = sim.completions.values.compactMap(\.first)
        let lost = results.filter { $0 == .cancelled(.connectionLost) }.count
        let ok = results.filter { if case .ok = $0 { return true } else { return false } }.count
        #expect(lost == 24)
        #expect(ok == 17_280 - 24)
        #expect(sim.events["socketOpened"] == 25)
        #expect(sim.events["heartbeatTimedOut"] == nil)
        #expect(sim.events["joined"] == 20 * 25)
        #expect(sim.events["decodeFailed"] == nil)
        // 2880 heartbeats a day at most, minus those skipped around restarts.
        let heartbeats = sim.server.received.filter { $0.event == PhoenixEvent.heartbeat }.count
        #expect(heartbeats > 2800 && heartbeats <= 2880)
    }

    private func isJoined(_ state: PhoenixChannelState) -> Bool {
        if case .joined = state { return true }
        return false
    }

    /// One socket, 10,000 channels: all join, every server push reaches its own topic, and all
    /// rejoin with fresh refs after a drop.
    @Test func tenThousandChannelsJoinedAndRouted() throws {
        let count = 10_000
        var machine = PhoenixSocketStateMachine(
            configuration: try PhoenixSocketConfiguration(endpoint: "ws://chat.example/socket")
        )
        var server = AutoReplyPhoenixServer()
        let now = PhoenixInstant.zero
        _ = machine.connect(now: now)
        _ = machine.transportOpened(now: now)
        var joinFrames: [PhoenixFrame] = []
        for index in 0..<count {
            for case .send(let frame) in try machine.join(topic: "room:\(index)", now: now) { joinFrames.append(frame) }
        }
        #expect(joinFrames.count == count)
        var joined = 0
        for frame in joinFrames {
            for reply in server.receive(frame) {
                for case .emit(.channelJoined) in machine.frameReceived(reply, now: now) { joined += 1 }
            }
        }
        #expect(joined == count)
        #expect(machine.channelCount == count)

        var routed = 0
        for index in stride(from: count - 1, through: 0, by: -1) {
            let topic = "room:\(index)"
            guard let frame = server.push(topic: topic, event: "bot_reply", payload: #"{"i":\#(index)}"#) else {
                Issue.record("server lost \(topic)")
                continue
            }
            let actions = machine.frameReceived(frame, now: now)
            if actions.count == 1, case .emit(.message(topic, "bot_reply", let payload)) = actions[0],
                Array(payload.bytes) == Array(#"{"i":\#(index)}"#.utf8)
            {
                routed += 1
            }
        }
        #expect(routed == count)

        let dropped = machine.transportClosed(code: 1001, reason: "", now: now)
        #expect(dropped.count == count + 2)
        _ = machine.reconnectNow(now: now)
        let reopened = machine.transportOpened(now: now)
        #expect(reopened.count == count + 1)
        #expect(machine.channelState(topic: "room:0") == .joining(joinRef: String(count + 1)))
        #expect(machine.channelState(topic: "room:9999") == .joining(joinRef: String(2 * count)))
    }

    /// Ten thousand random inputs, valid or not, in any order: no trap, and every push completes
    /// exactly once by the end.
    @Test(arguments: [PhoenixSerializer.jsonV1, .jsonV2])
    func randomInputsNeverTrapAndPushesCompleteExactlyOnce(serializer: PhoenixSerializer) throws {
        var machine = PhoenixSocketStateMachine(
            configuration: try PhoenixSocketConfiguration(
                endpoint: "ws://chat.example/socket",
                serializer: serializer,
                channelDefaults: PhoenixChannelOptions(
                    joinTimeout: .seconds(3),
                    pushBufferLimit: 3,
                    refreshesParams: true,
                    joinErrorPolicy: .retry(times: 2, after: .seconds(1))
                ),
                reconnectPolicy: PhoenixReconnectPolicy(jitter: 0.3, maxAttempts: 6)
            )
        )
        let seeds: [PhoenixSerializer: UInt64] = [.jsonV1: 11, .jsonV2: 22]
        var random = TestRandom(seed: seeds[serializer] ?? 1)
        var now = PhoenixInstant.zero
        var created: Set<PhoenixPushID> = []
        var completed: [PhoenixPushID: Int] = [:]
        let topics = ["a", "b", "c", "d"]
        let events = ["phx_reply", "phx_close", "phx_error", "bot_reply", "heartbeat"]
        func record(_ actions: [PhoenixSocketAction]) {
            for case .completePush(let id, _) in actions { completed[id, default: 0] += 1 }
        }
        for _ in 0..<10_000 {
            let topic = topics[random.below(topics.count)]
            switch random.below(14) {
            case 0: record(machine.connect(now: now))
            case 1: record(machine.transportOpened(now: now))
            case 2:
                record(machine.transportClosed(code: [1000, 1001, 1006, 1012][random.below(4)], reason: "", now: now))
            case 3: record(machine.transportFailed("x", now: now))
            case 4: record((try? machine.join(topic: topic, now: now)) ?? [])
            case 5: record((try? machine.leave(topic: topic, now: now)) ?? [])
            case 6, 7:
                if let (id, actions) = try? machine.push(topic: topic, event: "e", payload: .emptyObject, now: now) {
                    created.insert(id)
                    record(actions)
                }
            case 8: record(machine.joinParamsProvided(topic: topic, params: .emptyObject, now: now))
            case 9: record(machine.reconnectNow(now: now))
            case 10, 11:
                let joinRef = random.below(3) == 0 ? "null" : #""\#(random.below(60))""#
                let ref = random.below(4) == 0 ? "null" : #""\#(random.below(60))""#
                let event = events[random.below(events.count)]
                let status = random.below(2) == 0 ? "ok" : "error"
                let payload = event == "phx_reply" ? #"{"status":"\#(status)","response":{}}"# : "{}"
                let text = #"[\#(joinRef),\#(ref),"\#(topic)","\#(event)",\#(payload)]"#
                record(machine.frameReceived(.text(Array(text.utf8)), now: now))
            case 12:
                let bytes = (0..<random.below(12)).map { _ in UInt8(random.below(256)) }
                record(machine.frameReceived(random.below(2) == 0 ? .text(bytes) : .binary(bytes), now: now))
            default:
                now = now.advanced(by: .milliseconds(random.below(4000)))
                record(machine.timerFired(now: now))
            }
            #expect(completed.values.allSatisfy { $0 == 1 })
        }
        record(machine.disconnect(now: now))
        record(machine.transportClosed(code: 1000, reason: "", now: now))
        record(machine.timerFired(now: now.advanced(by: .seconds(3600))))
        #expect(machine.pendingPushCount == 0)
        #expect(machine.channelCount == 0)
        #expect(Set(completed.keys) == created)
        #expect(completed.values.allSatisfy { $0 == 1 })
        #expect(created.count > 100)
    }
}

/// A deterministic generator for test inputs (SplitMix64).
struct TestRandom {
    private var generator: SplitMix64
    init(seed: UInt64) { generator = SplitMix64(seed: seed) }

    mutating func next() -> UInt64 { generator.next() }

    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
}
