// Suite 3 of the benchmarks (issue 8): the Phoenix serializers (v1 JSON, v2 JSON) on heartbeats,
// joins, a ~1 KiB bot reply and (v2 only) a 1 KiB binary payload in a binary frame, and the whole inbound path "frame bytes -> typed
// BotReply" beside the naive path peers use (JSONSerialization to [Any], re-encode the payload,
// JSONDecoder) and beside JSONDecoder alone on the payload bytes.
//
// Rules of this file: one message per iteration; inputs are built once, outside the
// measurement; every result goes through `blackHole` so nothing is optimised away; a path that
// fails to decode stops its benchmark instead of timing an error path.
import Benchmark
import ClustaarModels
import Foundation
import PhoenixProtocol
import TransportPOSIX

/// A realistic bot reply payload (1 KiB): text, a wait, quick replies with go-to actions, the
/// step that answered, the input and the interlocutor. Written for these benchmarks.
let botReplyPayload = Array(
    #"""
    {"fulfillment":{"actions":[{"type":"send_text_action","alternatives":["Sure, let me check your \#
    order status.","Of course, one moment while I look at your order."],"text":"Sure, let me check your order \#
    status."},{"type":"wait_action","duration":1},{"type":"send_quick_replies_action","message":"Which order \#
    is it about?","buttons":[{"type":"quick_reply","title":"The latest one","action":{"type":"go_to_action",\#
    "target":{"type":"step","id":"64b0c1d2e3f4a5b6c7d8e9f0","name":"Latest order"},"sessionValues":\#
    {"order_scope":"latest"}}},{"type":"quick_reply","title":"An older one","action":{"type":"go_to_action",\#
    "target":{"type":"story","id":"64b0c1d2e3f4a5b6c7d8e9f1","name":"Order history"},"sessionValues":null}},\#
    {"type":"quick_reply","title":"Talk to someone","action":{"type":"go_to_action","target":{"type":"step",\#
    "id":"64b0c1d2e3f4a5b6c7d8e9f2","name":"Handover"},"sessionValues":{"handover":"requested"}}}]}],\#
    "source":{"type":"step_actions","step":{"type":"step","id":"64b0c1d2e3f4a5b6c7d8e9e0","name":"Order \#
    status"}}},"input":{"type":"text","message":"where is my order?"},"interlocutor":{"type":"interlocutor",\#
    "id":"64b0c1d2e3f4a5b6c7d8e9a1"},"session":{"values":{"language":"en","channel":"webchat"}}}
    """#.utf8
)

let channelTopic = "bot:64b0c1d2e3f4a5b6c7d8e9b2:64b0c1d2e3f4a5b6c7d8e9a1"

let heartbeat = PhoenixMessage(
    joinRef: nil,
    ref: "1042",
    topic: PhoenixEvent.heartbeatTopic,
    event: PhoenixEvent.heartbeat,
    payload: .emptyObject
)
let join = PhoenixMessage(
    joinRef: "7",
    ref: "7",
    topic: channelTopic,
    event: PhoenixEvent.join,
    payload: .json(#"{"interlocutor_token":"c2VjcmV0LXNvY2tldC10b2tlbi1mb3ItYmVuY2htYXJrcw","source":"webchat"}"#)
)
/// A client push of 1 KiB of raw bytes: v2 sends it in a binary frame; v1 cannot carry it.
let binaryPush = PhoenixMessage(
    joinRef: "7",
    ref: "8",
    topic: channelTopic,
    event: "upload",
    payload: .binary(ArraySlice((0..<1024).map { UInt8(truncatingIfNeeded: $0 &* 31) }))
)
let botReply = PhoenixMessage(
    joinRef: "7",
    ref: nil,
    topic: channelTopic,
    event: "bot_reply",
    payload: .json(ArraySlice(botReplyPayload))
)

func serializerConfiguration() -> Benchmark.Configuration {
    Benchmark.Configuration(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        warmupIterations: 10,
        maxDuration: .seconds(1),
        maxIterations: 200_000
    )
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = serializerConfiguration()
    let serializers: [(String, PhoenixSerializer)] = [
        ("v1-json", .jsonV1), ("v2-json", .jsonV2),
    ]
    let messages: [(String, PhoenixMessage, PhoenixPeer)] = [
        ("heartbeat", heartbeat, .client), ("join", join, .client), ("bot-reply 1 KiB", botReply, .server),
    ]
    for (serializerName, serializer) in serializers {
        let binary: [(String, PhoenixMessage, PhoenixPeer)] =
            serializer == .jsonV2 ? [("binary 1 KiB", binaryPush, .client)] : []
        for (messageName, message, sender) in messages + binary {
            Benchmark("serializer/\(serializerName) encode \(messageName)") { benchmark in
                for _ in benchmark.scaledIterations {
                    blackHole(try? serializer.encode(message, from: sender))
                }
            }
            guard let frame = try? serializer.encode(message, from: sender) else { continue }
            Benchmark("serializer/\(serializerName) decode \(messageName)") { benchmark in
                for _ in benchmark.scaledIterations {
                    blackHole(try? serializer.decode(frame, from: sender))
                }
            }
        }
    }
    registerInboundPathBenchmarks()
}

/// Suite 3, the whole inbound path: one server text frame carrying a v2 JSON `bot_reply`.
func registerInboundPathBenchmarks() {
    guard case .text(let text) = (try? PhoenixSerializer.jsonV2.encode(botReply, from: .server)) else { return }
    var wire: [UInt8] = []
    text.withUnsafeBytes { WebSocketFrameEncoder.encode(opcode: .text, payload: $0, maskKey: nil, into: &wire) }

    Benchmark("inbound/typed frame -> BotReply") { benchmark in
        var decoder = WebSocketFrameDecoder(decodingFramesFrom: .server)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            wire.withUnsafeBytes { decoder.append($0) }
            guard let frame = try? decoder.nextFrame(),
                let message = try? PhoenixSerializer.jsonV2.decode(.text(frame.payload), from: .server),
                let reply = try? ClustaarEnvelope.decode(BotReply.self, from: message.payload.bytes).value
            else { return }
            blackHole(reply)
        }
    }
    // What peers do: parse the whole frame into Foundation objects, serialise the payload back to
    // bytes, then decode the typed value with JSONDecoder.
    Benchmark("inbound/naive frame -> BotReply") { benchmark in
        var decoder = WebSocketFrameDecoder(decodingFramesFrom: .server)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            wire.withUnsafeBytes { decoder.append($0) }
            guard let frame = try? decoder.nextFrame(),
                let array = (try? JSONSerialization.jsonObject(with: Data(frame.payload))) as? [Any],
                array.count == 5,
                let payload = try? JSONSerialization.data(withJSONObject: array[4]),
                let reply = try? JSONDecoder().decode(BotReply.self, from: payload)
            else { return }
            blackHole(reply)
        }
    }
    // The floor: JSONDecoder alone on the payload bytes, already cut out of the frame.
    let payloadData = Data(botReplyPayload)
    Benchmark("inbound/JSONDecoder payload -> BotReply") { benchmark in
        for _ in benchmark.scaledIterations {
            guard let reply = try? JSONDecoder().decode(BotReply.self, from: payloadData) else { return }
            blackHole(reply)
        }
    }
    // The module's plain decoding, without the envelope rule: JSONDecoder plus the module's
    // own parse of the payload for free-form values (`ParsedPayload`).
    Benchmark("inbound/ClustaarJSON payload -> BotReply") { benchmark in
        for _ in benchmark.scaledIterations {
            guard let reply = try? ClustaarJSON.decode(BotReply.self, from: payloadData) else { return }
            blackHole(reply)
        }
    }
    Benchmark("inbound/ClustaarEnvelope payload -> BotReply") { benchmark in
        for _ in benchmark.scaledIterations {
            guard let reply = try? ClustaarEnvelope.decode(BotReply.self, from: payloadData).value else { return }
            blackHole(reply)
        }
    }
}
