// Fuzz target: PhoenixProtocol's `PhoenixSocketStateMachine` driven by a hostile server: frames,
// time, drops and user calls in any order, over JSON v2.
//
// Input: a sequence of operations, each one byte then its data:
//   0 text frame / 1 binary frame: [length hi][length lo][bytes]; 2 time passes: [tenths of a
//   second] (0 = to the next deadline); 3 transport closes: [code selector]; 4 transport opens;
//   5 push: [size]; 6 join another topic; 7 leave a topic; 8 reconnect now; 9 disconnect/connect.
// Invariants: after `timerFired(now:)` no deadline is left at or before `now`; every push
// completes at most once and only pushes that were made; the channel count never exceeds the
// joins made; the dropped-message count never goes down.
import CFuzzDriver
import FuzzSupport
import PhoenixProtocol

let topics = ["interlocutor:6a1b2c3d4e5f60718293a4b5", "interlocutor:other", "bot:b:i"]

struct Harness {
    var machine: PhoenixSocketStateMachine
    var now = PhoenixInstant.zero
    var pushesMade = Set<PhoenixPushID>()
    var pushesCompleted = Set<PhoenixPushID>()
    var topicsJoined = Set<String>()
    var dropped = 0

    mutating func run(_ actions: [PhoenixSocketAction]) {
        for action in actions {
            if case .completePush(let id, _) = action {
                fuzzCheck(pushesMade.contains(id), "completed push \(id) that was never made")
                fuzzCheck(pushesCompleted.insert(id).inserted, "push \(id) completed twice")
            }
        }
        fuzzCheck(machine.channelCount <= topicsJoined.count, "more channels than joins")
        fuzzCheck(machine.droppedMessageCount >= dropped, "the dropped count went down")
        dropped = machine.droppedMessageCount
    }

    mutating func join(_ topic: String) {
        guard let actions = try? machine.join(topic: topic, params: .json(#"{"bot_id":"b"}"#), now: now) else { return }
        topicsJoined.insert(topic)
        run(actions)
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard
        let configuration = try? PhoenixSocketConfiguration(
            endpoint: "ws://127.0.0.1:4000/socket",
            channelDefaults: PhoenixChannelOptions(
                pushBufferLimit: 4, joinErrorPolicy: .retry(times: 2, after: .seconds(1))))
    else {
        fuzzCheck(false, "the fixed configuration is invalid")
        return 0
    }
    var harness = Harness(machine: PhoenixSocketStateMachine(configuration: configuration))
    harness.run(harness.machine.connect(now: harness.now))
    harness.run(harness.machine.transportOpened(now: harness.now))
    harness.join(topics[0])

    var input = FuzzInputReader(fuzzBytes(data, size))
    var steps = 0
    while !input.bytes.isEmpty, steps < 256 {
        steps += 1
        let operation = input.byte() % 10
        switch operation {
        case 0, 1:
            let isText = operation == 0
            let length = Int(input.byte()) << 8 | Int(input.byte())
            let bytes = Array(input.take(upTo: length))
            harness.run(harness.machine.frameReceived(isText ? .text(bytes) : .binary(bytes), now: harness.now))
        case 2:
            let tenths = input.byte()
            if tenths == 0, let deadline = harness.machine.nextDeadline {
                harness.now = max(harness.now, deadline)
            } else {
                harness.now = harness.now.advanced(by: .milliseconds(100 * Int(tenths)))
            }
            harness.run(harness.machine.timerFired(now: harness.now))
            if let deadline = harness.machine.nextDeadline {
                fuzzCheck(deadline > harness.now, "a deadline at \(deadline) is still due at \(harness.now)")
            }
        case 3:
            let code = input.pick([nil, 1000, 1001, 1006, 1008, 1011, 4000] as [UInt16?])
            harness.run(harness.machine.transportClosed(code: code, reason: "fuzz", now: harness.now))
        case 4:
            harness.run(harness.machine.transportOpened(now: harness.now))
        case 5:
            let payload = PhoenixPayload.json(#"{"n":\#(input.byte())}"#)
            if let (id, actions) = try? harness.machine.push(
                topic: input.pick(topics), event: "interlocutor_reply", payload: payload, now: harness.now)
            {
                fuzzCheck(harness.pushesMade.insert(id).inserted, "push id \(id) reused")
                harness.run(actions)
            }
        case 6:
            harness.join(input.pick(topics))
        case 7:
            if let actions = try? harness.machine.leave(topic: input.pick(topics), now: harness.now) {
                harness.run(actions)
            }
        case 8:
            harness.run(harness.machine.reconnectNow(now: harness.now))
        default:
            harness.run(harness.machine.disconnect(now: harness.now))
            harness.run(harness.machine.connect(now: harness.now))
        }
    }
    return 0
}

runFuzzDriver { fuzzOne($0, $1) }
