import ClustaarTestSupport
import Foundation
import PhoenixProtocol
import Testing

/// Replays every session recorded from a real Phoenix server through the machine.
///
/// Each `out` frame becomes the user command that produces it (join, rejoin, push, leave,
/// disconnect) or the timer that does (heartbeat, rejoin after `phx_error`); the machine's sent
/// frame must equal the recorded one as a JSON value (binary frames byte for byte). Each `in`
/// frame is fed to the machine, and everything the machine does besides those matched sends is
/// compared with what the recorded frames mean, written out per transcript below.
///
/// Where the recording client did something our machine refuses on purpose (a push on a topic
/// it never joined or already left), the command throws, the refusal is logged, and later refs
/// are matched through a consistent renaming (recorded ref -> machine ref).
@Suite("Transcript replay through the machine")
struct MachineTranscriptReplayTests {
    static let transcripts: [PhoenixTranscript] = (try? PhoenixTranscript.loadAll()) ?? []

    @Test func everyTranscriptHasAnExpectation() throws {
        let names = try PhoenixTranscript.loadAll().map(\.name)
        #expect(names.count == 27)
        #expect(Set(names) == Set(Self.expected.keys))
    }

    @Test(arguments: transcripts.map(\.name))
    func replay(name: String) throws {
        let transcript = try #require(Self.transcripts.first { $0.name == name })
        let expected = try #require(Self.expected[name])
        var replay = try Replay(transcript: transcript)
        try replay.run()
        #expect(replay.log == expected)
        #expect(replay.mismatches == [])
    }

    // MARK: What each transcript means

    static let topic = "interlocutor:6a1b2c3d4e5f60718293a4b5"
    static let joinedT = #"joined T {"control":false}"#
    static let tail = ["closed T disconnected", "close 1000", "socketClosed 1000"]
    static let bare = ["close 1000", "socketClosed 1000"]
    static let echoed = [joinedT, "push#1 ok {}", "message T interlocutor_reply", "message T bot_reply"] + tail

    static let expected: [String: [String]] = [
        "v2_join_ok": [joinedT] + tail,
        "v2_join_unauthorized": [#"joinFailed T error {"reason":"unauthorized"} retry never"#] + bare,
        "v2_join_missing_bot_id": [#"joinFailed T error {"reason":"missing bot_id"} retry never"#] + bare,
        "v1_join_reply": [
            joinedT, "push#1 ok {}", "message T interlocutor_reply", "message T bot_reply", "closed T left",
        ] + bare,
        "v1_binary_push": [
            joinedT, "push#1 ok {}", "message T interlocutor_reply", "errored T serverError {} rejoin 1000ms",
        ] + tail,
        "heartbeat": bare,
        "interlocutor_reply_text": echoed,
        "other_body_types": [joinedT]
            + (1...4).flatMap { ["push#\($0) ok {}", "message T interlocutor_reply", "message T bot_reply"] } + tail,
        "ping_event": [joinedT, #"push#1 ok {"hello":"world","n":1}"#] + tail,
        "control": [
            joinedT, "push#1 ok {}", "message T interlocutor_reply", "message T control", "message T agent_reply",
            "push#2 ok {}", "message T interlocutor_reply",
            "push#3 ok {}", "message T interlocutor_reply", "message T control",
            "push#4 ok {}", "message T interlocutor_reply", "message T bot_reply",
        ] + tail,
        "error_reply": [joinedT, #"push#1 error {"reason":"bad request"}"#] + tail,
        "noreply_and_slow": [
            joinedT, "push#2 ok {}", "message T interlocutor_reply", "message T bot_reply",
            "push#1 cancelled disconnected",
        ] + tail,
        "crash_phx_error": [
            joinedT, "push#1 cancelled channelErrored", "errored T serverError {} rejoin 1000ms", joinedT,
        ] + tail,
        "kick_phx_close": [joinedT, "push#1 ok {}", "closed T serverClosed"] + bare,
        "leave": [joinedT, "closed T left", "refused no channel for T"] + bare,
        "duplicate_join": [
            joinedT, joinedT, "push#1 ok {}", "message T interlocutor_reply", "message T bot_reply",
        ] + tail,
        "unjoined_topic": [
            "refused no channel for interlocutor:not-joined",
            #"joinFailed room:lobby error {"reason":"unmatched topic"} retry never"#,
            "refused no channel for interlocutor:not-joined",
        ] + bare,
        "binary_server_push": [
            joinedT, "push#1 ok {}", "message T interlocutor_reply", "message T binary_event binary 010203ff",
        ] + tail,
        "binary_client_push": [
            joinedT, #"push#1 ok {"size":11}"#, #"push#2 error {"reason":"upload expects a binary payload"}"#,
        ] + tail,
        "rich": echoed,
        "many": [joinedT, "push#1 ok {}", "message T interlocutor_reply"]
            + Array(repeating: "message T bot_reply", count: 100) + tail,
        "big": echoed,
        "drop": [
            joinedT, "push#1 ok {}", "message T interlocutor_reply",
            "errored T connectionLost 1000 rejoin onOpen", "socketClosed 1000", "reconnect 1 at 10ms",
        ],
        "idle_timeout_short": [
            joinedT, "errored T connectionLost 1002 rejoin onOpen", "socketClosed 1002", "reconnect 1 at 10ms",
        ],
        "heartbeat_keeps_alive_short": [joinedT] + tail,
        "idle_timeout_default": [
            joinedT, "errored T connectionLost 1002 rejoin onOpen", "socketClosed 1002", "reconnect 1 at 10ms",
        ],
        "connect_rejected": ["socketClosed nil HTTP 403", "reconnect 1 at 10ms"],
    ]
}

/// One transcript driven through a machine.
private struct Replay {
    let transcript: PhoenixTranscript
    let serializer: PhoenixSerializer
    var machine: PhoenixSocketStateMachine
    var now = PhoenixInstant.zero
    /// What the machine did besides the sends matched to `out` frames, rendered.
    var log: [String] = []
    var mismatches: [String] = []
    /// Recorded ref -> machine ref, where they differ after a refused command.
    var refs: [String: String] = [:]

    init(transcript: PhoenixTranscript) throws {
        self.transcript = transcript
        serializer = transcript.serializer
        let components = try #require(URLComponents(string: transcript.url))
        var endpoint = components
        endpoint.query = nil
        endpoint.path = String(components.path.dropLast("/websocket".count))
        let params = (components.queryItems ?? []).filter { $0.name != "vsn" }.map {
            PhoenixURLParameter($0.name, $0.value ?? "")
        }
        let configuration = try PhoenixSocketConfiguration(
            endpoint: try #require(endpoint.string),
            params: params,
            serializer: serializer
        )
        machine = PhoenixSocketStateMachine(configuration: configuration)
    }

    mutating func run() throws {
        let opening = machine.connect(now: now)
        guard case .openTransport(let url, let subprotocols) = opening.first, opening.count == 1 else {
            mismatches.append("connect gave \(render(opening))")
            return
        }
        #expect(subprotocols == [])
        // Same path and the same query items (the recording put vsn first; we put it last, per spec).
        let ours = try #require(URLComponents(url: url, resolvingAgainstBaseURL: false))
        let theirs = try #require(URLComponents(string: transcript.url))
        #expect(ours.path == theirs.path && ours.host == theirs.host && ours.port == theirs.port)
        #expect(Set(ours.queryItems ?? []) == Set(theirs.queryItems ?? []))
        #expect(ours.queryItems?.last == URLQueryItem(name: "vsn", value: serializer.vsn))

        guard transcript.handshakeStatus == 101 else {
            note(machine.transportFailed("HTTP \(transcript.handshakeStatus ?? 0)", now: now))
            return
        }
        #expect(render(machine.transportOpened(now: now)) == ["socketOpened"])

        var previousWasServerClose = false
        for frame in transcript.frames {
            switch (frame.direction, frame.content) {
            case (.clientToServer, .close(let code)):
                // After the server's close, the client's close is the transport's echo.
                if !previousWasServerClose {
                    let actions = machine.disconnect(now: now)
                    #expect(actions.last == .closeTransport(code: code ?? 0, reason: ""))
                    note(actions)
                }
            case (.serverToClient, .close(let code)):
                note(machine.transportClosed(code: code, reason: "", now: now))
            case (.clientToServer, _):
                try clientSent(try #require(frame.phoenixFrame))
            case (.serverToClient, _):
                try serverSent(try #require(frame.phoenixFrame))
            }
            if case .close = frame.content, frame.direction == .serverToClient {
                previousWasServerClose = true
            } else {
                previousWasServerClose = false
            }
        }
    }

    /// Finds the command that makes the machine send `recorded`, runs it, and checks the frame.
    mutating func clientSent(_ recorded: PhoenixFrame) throws {
        let message = try serializer.decode(recorded, from: .client)
        var actions: [PhoenixSocketAction]
        do throws(PhoenixSocketError) {
            switch message.event {
            case PhoenixEvent.heartbeat where message.topic == PhoenixEvent.heartbeatTopic:
                actions = fireNextTimer()
            case PhoenixEvent.join:
                switch machine.channelState(topic: message.topic) {
                case .none:
                    actions = try machine.join(topic: message.topic, params: message.payload, now: now)
                case .errored:
                    actions = fireNextTimer()
                default:
                    actions = try machine.rejoin(topic: message.topic, params: message.payload, now: now)
                }
            case PhoenixEvent.leave:
                actions = try machine.leave(topic: message.topic, now: now)
            default:
                actions = try machine.push(
                    topic: message.topic,
                    event: message.event,
                    payload: message.payload,
                    timeout: .seconds(60),
                    now: now
                ).actions
            }
        } catch {
            log.append(shorten("refused \(error)"))
            return
        }
        let sends = actions.compactMap { action -> PhoenixFrame? in
            if case .send(let frame) = action { return frame }
            return nil
        }
        note(actions.filter { if case .send = $0 { return false } else { return true } })
        guard sends.count == 1, let sent = sends.first else {
            mismatches.append("expected one send for \(render(recorded)), got \(render(actions))")
            return
        }
        try compare(sent: sent, recorded: recorded, recordedMessage: message)
    }

    mutating func compare(sent: PhoenixFrame, recorded: PhoenixFrame, recordedMessage: PhoenixMessage) throws {
        let ours = try serializer.decode(sent, from: .client)
        var theirs = recordedMessage
        // v1: the reference client sends pushes without join_ref (v1_join_reply); one recording
        // client added it (v1_binary_push). The server ignores it there; we match the reference.
        let isJoinOrLeave = theirs.event == PhoenixEvent.join || theirs.event == PhoenixEvent.leave
        if serializer == .jsonV1 && !isJoinOrLeave { theirs.joinRef = nil }
        for (recordedRef, machineRef) in [(theirs.ref, ours.ref), (theirs.joinRef, ours.joinRef)] {
            guard let recordedRef, let machineRef else { continue }
            if let known = refs[recordedRef], known != machineRef {
                mismatches.append("ref \(recordedRef) maps to \(known) and \(machineRef)")
            }
            refs[recordedRef] = machineRef
        }
        theirs.ref = theirs.ref.map { refs[$0] ?? $0 }
        theirs.joinRef = theirs.joinRef.map { refs[$0] ?? $0 }
        let sameKind: Bool
        switch (sent, recorded) {
        case (.text, .text), (.binary, .binary): sameKind = true
        default: sameKind = false
        }
        if !sameKind || ours.joinRef != theirs.joinRef || ours.ref != theirs.ref || ours.topic != theirs.topic
            || ours.event != theirs.event || canonical(ours.payload) != canonical(theirs.payload)
        {
            mismatches.append("sent \(render(sent)), recorded \(render(recorded))")
        }
        // Without renaming, the whole frame must be the recorded one as a JSON value.
        if theirs == recordedMessage, render(sent) != render(recorded) {
            mismatches.append("frame \(render(sent)) differs from \(render(recorded))")
        }
    }

    mutating func serverSent(_ recorded: PhoenixFrame) throws {
        var message = try serializer.decode(recorded, from: .server)
        let original = message
        message.ref = message.ref.map { refs[$0] ?? $0 }
        message.joinRef = message.joinRef.map { refs[$0] ?? $0 }
        let frame = message == original ? recorded : try serializer.encode(message, from: .server)
        note(machine.frameReceived(frame, now: now))
    }

    /// The heartbeat or the rejoin is the machine's next timer.
    mutating func fireNextTimer() -> [PhoenixSocketAction] {
        guard let deadline = machine.nextDeadline else {
            mismatches.append("no timer to fire")
            return []
        }
        now = deadline
        return machine.timerFired(now: now)
    }

    mutating func note(_ actions: [PhoenixSocketAction]) {
        for action in actions {
            if case .emit(.message(_, let event, let payload)) = action {
                let text = "message T \(event)"
                if case .binary = payload { log.append(text + " " + canonical(payload)) } else { log.append(text) }
                continue
            }
            log.append(shorten(render(action)))
        }
    }

    func shorten(_ text: String) -> String {
        text.replacingOccurrences(of: MachineTranscriptReplayTests.topic, with: "T")
    }
}
