import Foundation
import PhoenixProtocol

/// Drives a `PhoenixSocketStateMachine` with explicit instants and renders every action as a
/// short string, so tests assert exact actions in order. JSON is rendered canonically (sorted
/// keys), so comparisons are of JSON values, not key order.
struct MachineHarness {
    var machine: PhoenixSocketStateMachine
    var now: PhoenixInstant = .zero

    init(
        serializer: PhoenixSerializer = .jsonV2,
        endpoint: String = "ws://chat.example/socket",
        configure: (inout PhoenixSocketConfiguration) -> Void = { _ in }
    ) {
        // The endpoint is a literal known to be valid; a failure here is a test bug.
        var configuration = try! PhoenixSocketConfiguration(endpoint: endpoint, serializer: serializer)
        configure(&configuration)
        machine = PhoenixSocketStateMachine(configuration: configuration)
    }

    mutating func connect() -> [String] { render(machine.connect(now: now)) }
    mutating func opened() -> [String] { render(machine.transportOpened(now: now)) }
    mutating func disconnect() -> [String] { render(machine.disconnect(now: now)) }
    mutating func reconnectNow() -> [String] { render(machine.reconnectNow(now: now)) }

    /// connect + transportOpened, returning both actions.
    mutating func connectAndOpen() -> [String] { connect() + opened() }

    mutating func receive(_ text: String) -> [String] {
        render(machine.frameReceived(.text(Array(text.utf8)), now: now))
    }

    mutating func receive(frame: PhoenixFrame) -> [String] { render(machine.frameReceived(frame, now: now)) }

    mutating func closed(_ code: UInt16?, _ reason: String = "") -> [String] {
        render(machine.transportClosed(code: code, reason: reason, now: now))
    }

    mutating func failed(_ description: String) -> [String] {
        render(machine.transportFailed(description, now: now))
    }

    /// Moves time to `offset` from zero and fires due timers.
    mutating func advance(to offset: Duration) -> [String] {
        now = PhoenixInstant(offset: offset)
        return render(machine.timerFired(now: now))
    }

    mutating func advance(by duration: Duration) -> [String] { advance(to: now.offset + duration) }

    /// Jumps to the machine's next deadline and fires it.
    mutating func advanceToNextDeadline() -> [String] {
        guard let deadline = machine.nextDeadline else { return ["no deadline"] }
        return advance(to: deadline.offset)
    }

    mutating func join(
        _ topic: String,
        _ params: String = "{}",
        options: PhoenixChannelOptions? = nil
    ) throws(PhoenixSocketError) -> [String] {
        render(try machine.join(topic: topic, params: .json(params), options: options, now: now))
    }

    mutating func rejoin(_ topic: String, _ params: String) throws(PhoenixSocketError) -> [String] {
        render(try machine.rejoin(topic: topic, params: .json(params), now: now))
    }

    mutating func leave(_ topic: String) throws(PhoenixSocketError) -> [String] {
        render(try machine.leave(topic: topic, now: now))
    }

    mutating func provideParams(_ topic: String, _ params: String) -> [String] {
        render(machine.joinParamsProvided(topic: topic, params: .json(params), now: now))
    }

    mutating func push(
        _ topic: String,
        _ event: String,
        _ payload: String = "{}",
        timeout: Duration? = nil
    ) throws(PhoenixSocketError) -> (id: PhoenixPushID, actions: [String]) {
        let (id, actions) = try machine.push(
            topic: topic,
            event: event,
            payload: .json(payload),
            timeout: timeout,
            now: now
        )
        return (id, render(actions))
    }
}

// MARK: Rendering

func render(_ actions: [PhoenixSocketAction]) -> [String] { actions.map(render) }

func render(_ action: PhoenixSocketAction) -> String {
    switch action {
    case .openTransport(let url, let subprotocols):
        return subprotocols.isEmpty ? "open \(url.absoluteString)" : "open \(url.absoluteString) \(subprotocols)"
    case .send(let frame): return "send " + render(frame)
    case .closeTransport(let code, let reason): return "close \(code) \(reason)".trimmingCharacters(in: .whitespaces)
    case .emit(let event): return render(event)
    case .completePush(let id, let result): return "\(id) " + render(result)
    case .requestJoinParams(let topic): return "requestParams \(topic)"
    }
}

func render(_ event: PhoenixSocketEvent) -> String {
    switch event {
    case .socketOpened: return "socketOpened"
    case .socketClosed(let code, let reason):
        return "socketClosed \(code.map(String.init) ?? "nil") \(reason)".trimmingCharacters(in: .whitespaces)
    case .heartbeatTimedOut: return "heartbeatTimedOut"
    case .reconnectScheduled(let attempt, let at): return "reconnect \(attempt) at \(ms(at))"
    case .reconnectAbandoned(let attempts): return "reconnectAbandoned \(attempts)"
    case .channelJoined(let topic, let response): return "joined \(topic) \(canonical(response))"
    case .channelJoinFailed(let topic, let failure, let retryAt):
        let why: String
        switch failure {
        case .rejected(let status, let response): why = "\(status) \(canonical(response))"
        case .timedOut: why = "timeout"
        case .unencodable(let error): why = "unencodable \(error)"
        case .tooLarge(let size, let limit): why = "tooLarge(size: \(size), limit: \(limit))"
        }
        return "joinFailed \(topic) \(why) retry \(retryAt.map(ms) ?? "never")"
    case .channelClosed(let topic, let reason): return "closed \(topic) \(reason)"
    case .channelErrored(let topic, let reason, let rejoinAt):
        let why: String
        switch reason {
        case .serverError(let payload): why = "serverError \(canonical(payload))"
        case .connectionLost(let loss): why = render(loss)
        }
        return "errored \(topic) \(why) rejoin \(rejoinAt.map(ms) ?? "onOpen")"
    case .message(let topic, let event, let payload): return "message \(topic) \(event) \(canonical(payload))"
    case .decodeFailed: return "decodeFailed"
    }
}

func render(_ result: PhoenixPushResult) -> String {
    switch result {
    case .ok(let response): "ok \(canonical(response))"
    case .error(let status, let response): "\(status) \(canonical(response))"
    case .timeout: "timeout"
    case .cancelled(.connectionLost(let loss)): "cancelled " + render(loss)
    case .cancelled(let why): "cancelled \(why)"
    }
}

/// "connectionLost 1012 restart", "connectionLost nil reset", "connectionLost heartbeatTimedOut".
func render(_ loss: PhoenixConnectionLoss) -> String {
    switch loss {
    case .closed(let code, let reason):
        "connectionLost \(code.map(String.init) ?? "nil") \(reason)".trimmingCharacters(in: .whitespaces)
    case .heartbeatTimedOut: "connectionLost heartbeatTimedOut"
    }
}

func render(_ frame: PhoenixFrame) -> String {
    switch frame {
    case .text(let bytes): canonical(bytes[...])
    case .binary(let bytes): "binary " + bytes.map { String(format: "%02x", $0) }.joined()
    }
}

/// "1500ms" for an instant 1.5 s after zero.
func ms(_ instant: PhoenixInstant) -> String {
    let (seconds, attoseconds) = instant.offset.components
    return "\(seconds * 1000 + attoseconds / 1_000_000_000_000_000)ms"
}

func canonical(_ payload: PhoenixPayload) -> String {
    switch payload {
    case .json(let bytes): canonical(bytes)
    case .binary(let bytes): "binary " + bytes.map { String(format: "%02x", $0) }.joined()
    }
}

/// JSON text with sorted keys; a top-level v1 object's `"join_ref": null` is dropped so that an
/// absent join_ref and a null one compare equal.
func canonical(_ bytes: ArraySlice<UInt8>) -> String {
    guard let value = try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]) else {
        return "INVALID JSON " + String(decoding: bytes, as: UTF8.self)
    }
    var normalized = value
    if var object = value as? [String: Any], object["join_ref"] is NSNull {
        object["join_ref"] = nil
        normalized = object
    }
    guard
        let data = try? JSONSerialization.data(
            withJSONObject: normalized,
            options: [.sortedKeys, .fragmentsAllowed, .withoutEscapingSlashes]
        )
    else { return "UNENCODABLE" }
    return String(decoding: data, as: UTF8.self)
}

/// "send <canonical json>" for an expected frame written by hand.
func send(_ json: String) -> String { "send " + canonical(ArraySlice(json.utf8)) }

/// An expected event rendering with canonical JSON.
func joined(_ topic: String, _ response: String = "{}") -> String {
    "joined \(topic) \(canonical(ArraySlice(response.utf8)))"
}

func message(_ topic: String, _ event: String, _ payload: String) -> String {
    "message \(topic) \(event) \(canonical(ArraySlice(payload.utf8)))"
}

func pushResult(_ id: PhoenixPushID, ok response: String) -> String {
    "\(id) ok \(canonical(ArraySlice(response.utf8)))"
}

let socketURL = "open ws://chat.example/socket/websocket?vsn=2.0.0"
